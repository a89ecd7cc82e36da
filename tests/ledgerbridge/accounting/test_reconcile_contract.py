"""What every books reader honours, run against each: the fake package and Xero's reader
over the sandbox. Reconciliation's fast tests rely on the fake reading its books back
as Xero's reader does: summaries without lines, pages with lines in as many calls,
details with them, a posted document
read back agreeing with what was sent (to the cent), payments and the meter."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.utils import timezone

from ledgerbridge.accounting.connector import (
    BooksReader,
    ReadMeter,
    connector_registered,
    reader_for,
    reader_registered,
)
from ledgerbridge.accounting.fingerprint import fingerprint_compare
from ledgerbridge.accounting.models import AccountingPackage
from tests.ledgerbridge.factories import line, make_document
from tests.ledgerbridge.xero.conftest import authorise, sandbox  # noqa: F401

from .test_connector_contract import FakePackage, XeroPackage

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(params=["fake", "xero"])
def books(request, admin):
    """A package and its reader: ``(harness, reader)``."""
    if request.param == "fake":
        fake = FakePackage(admin)
        with (
            connector_registered(AccountingPackage.XERO_API, lambda: fake.connector),
            reader_registered(AccountingPackage.XERO_API, lambda: fake.connector),
        ):
            yield fake, fake.connector
    else:
        running = request.getfixturevalue("sandbox")
        authorise(running, admin, [running.tenant_id])
        reader = reader_for(AccountingPackage.XERO_API)
        assert reader is not None
        yield XeroPackage(running), reader


def _posted(harness, admin, **kwargs):
    """A final document posted (3 x 33.3333: sub-cent figures of ours); its record, and
    what the package's answer carried as sent."""
    from .test_connector_contract import _key, records

    document = make_document(
        admin, lines=[line("freight", quantity="3", unit_price="33.3333")], finalise=True, **kwargs
    )
    [record] = records(document)
    [outcome] = harness.connector.post(admin.company, [record], request_key=_key())
    assert outcome.posted is not None, outcome.messages
    record.external_id = outcome.posted.external_id
    record.status = "posted"
    record.save()
    return document, record, outcome.posted.fingerprint


def _read(reader: BooksReader, admin, **kwargs):
    meter = ReadMeter()
    found = list(
        reader.documents_read(
            admin.company, date_from=PERIOD[0], date_to=PERIOD[1], meter=meter, **kwargs
        )
    )
    return found, meter


def test_a_posted_document_reads_back_as_a_summary_that_agrees_with_what_was_sent(books, admin):
    harness, reader = books
    document, record, _ = _posted(harness, admin)
    found, meter = _read(reader, admin)
    [remote] = [r for r in found if r.external_id.lower() == record.external_id.lower()]
    assert (remote.type, remote.number) == (document.type, document.number)
    assert remote.status == "authorised"
    assert remote.fingerprint.gross == document.gross_total
    assert remote.fingerprint.date == document.issue_date
    assert meter.calls >= 1 and meter.bytes > 0
    assert remote.amount_due == document.gross_total


def test_details_carry_the_lines_and_agree_with_what_was_sent_to_the_cent(books, admin):
    harness, reader = books
    _, record, sent = _posted(harness, admin)
    meter = ReadMeter()
    [remote] = reader.documents_detail(admin.company, [record.external_id], meter=meter)
    assert remote.lines_read and remote.fingerprint.line_count == 1
    assert meter.calls == 1 and meter.bytes > 0
    assert sent is not None
    assert fingerprint_compare(sent, remote.fingerprint) == []
    assert fingerprint_compare(replace(sent, lines=()), replace(remote.fingerprint, lines=())) == []


def test_pages_with_lines_cost_the_calls_of_summaries_and_agree_to_the_cent(books, admin):
    harness, reader = books
    _, record, sent = _posted(harness, admin)
    summaries, summary_meter = _read(reader, admin)
    found, meter = _read(reader, admin, lines=True)
    [summary] = [r for r in summaries if r.external_id.lower() == record.external_id.lower()]
    [remote] = [r for r in found if r.external_id.lower() == record.external_id.lower()]
    assert not summary.lines_read
    assert remote.lines_read and remote.fingerprint.line_count == 1
    assert sent is not None
    assert fingerprint_compare(sent, remote.fingerprint) == []
    assert meter.calls == summary_meter.calls
    assert meter.bytes > summary_meter.bytes


def test_only_documents_changed_since_are_read_when_asked(books, admin):
    harness, reader = books
    _posted(harness, admin)
    found, _meter = _read(reader, admin, modified_since=timezone.now() + dt.timedelta(days=1))
    assert found == []


def test_a_payment_in_the_package_reads_as_paid_with_nothing_due(books, admin):
    harness, reader = books
    _, record, _ = _posted(harness, admin)
    harness.pay(record)
    meter = ReadMeter()
    [remote] = reader.documents_detail(admin.company, [record.external_id], meter=meter)
    assert remote.status == "paid" and remote.amount_due == 0


def test_the_contacts_of_posted_documents_are_read(books, admin):
    harness, reader = books
    document, _, _ = _posted(harness, admin)
    meter = ReadMeter()
    names = {c.name for c in reader.contacts_read(admin.company, meter=meter)}
    assert document.partner.name in names
    assert meter.calls >= 1
