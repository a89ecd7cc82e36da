"""Reading a Xero organisation's books for reconciliation, over real HTTP to the sandbox:
what it costs (calls and bytes), what comes back, and how it yields to posting."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import time
import uuid
from decimal import Decimal

import httpx
import pytest
import urllib3
from django.utils import timezone
from xero_python.rest import RESTResponse

from ledgerbridge.accounting.connector import (
    PausedUntil,
    ReadMeter,
    RemoteDocument,
    TryLater,
    reader_for,
)
from ledgerbridge.accounting.fingerprint import DocumentFingerprint, fingerprint_compare
from ledgerbridge.accounting.models import SyncRecord, SyncStatus
from ledgerbridge.accounting.outbox import sync_company_run
from ledgerbridge.invoicing.models import DocumentType, Task, TaskStatus
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero import books
from ledgerbridge.xero.client import XeroClient, _wire_body
from ledgerbridge.xero.ratelimit import PER_MINUTE, POSTING_MINUTE, rate_limiter
from tests.ledgerbridge.factories import line, make_document, store_stand_in_pdf

from .conftest import authorise
from .test_ratelimit import backends, make

pytestmark = pytest.mark.django_db

PERIOD = (dt.date(2025, 3, 1), dt.date(2025, 3, 31))


@pytest.fixture
def linked(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    return admin


@pytest.fixture
def reader() -> books.XeroBooksReader:
    found = reader_for("xero_api")
    assert isinstance(found, books.XeroBooksReader)
    return found


def xero_put(sandbox, path: str, key: str, items: list[dict]) -> list[dict]:
    """Documents typed into the organisation, as Xero's API takes them (not our posting)."""
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    answer = httpx.put(
        f"{sandbox.base_url}/api.xro/2.0/{path}",
        json={key: items},
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
            "Accept": "application/json",
        },
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()[key]  # type: ignore[no-any-return]


def _document(kind: str, day: int, number: str, **fields) -> dict:
    return {
        "Type": kind,
        "Contact": {"Name": "Midlands Steel Ltd"},
        "Date": f"2025-03-{day:02}",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {
                "Description": "Full load",
                "Quantity": 1,
                "UnitAmount": 100 + day,
                "AccountCode": "200" if kind.startswith("ACCREC") else "310",
                "TaxType": "OUTPUT2" if kind.startswith("ACCREC") else "INPUT2",
            }
        ],
        **({"CreditNoteNumber": number} if kind.endswith("CREDIT") else {"InvoiceNumber": number}),
        **({} if kind.endswith("CREDIT") else {"DueDate": "2025-04-30"}),
        **fields,
    }


def seed(sandbox, *, invoices: int, bills: int = 0, credit_notes: int = 0) -> None:
    for kind, path, key, total, prefix in (
        ("ACCREC", "Invoices", "Invoices", invoices, "RS"),
        ("ACCPAY", "Invoices", "Invoices", bills, "SUP"),
        ("ACCRECCREDIT", "CreditNotes", "CreditNotes", credit_notes, "RC"),
    ):
        items = [_document(kind, 1 + i % 28, f"{prefix}-{i:05}") for i in range(total)]
        for start in range(0, len(items), 100):
            xero_put(sandbox, path, key, items[start : start + 100])


def read_all(reader, company, **kwargs) -> tuple[list[RemoteDocument], ReadMeter]:
    meter = ReadMeter()
    documents = list(
        reader.documents_read(
            company, date_from=PERIOD[0], date_to=PERIOD[1], meter=meter, **kwargs
        )
    )
    return documents, meter


def test_a_full_period_of_1200_documents_costs_under_5_calls_per_thousand(sandbox, linked, reader):
    seed(sandbox, invoices=1000, bills=100, credit_notes=100)
    sandbox.control.clear_calls()

    documents, meter = read_all(reader, linked.company)

    assert len(documents) == 1200
    calls = sandbox.control.calls(tenant_id=sandbox.tenant_id)
    # The meter counts what Xero answered: one per call, every body's bytes.
    assert meter.calls == len(calls) == 3  # 2 pages of invoices, 1 of credit notes
    assert meter.calls * 1000 / len(documents) <= 5
    assert meter.bytes > 0
    paths = [c["path"] for c in calls]
    assert paths.count("/api.xro/2.0/Invoices") == 2
    print(
        f"\nfull read: {len(documents)} documents, {meter.calls} calls, {meter.bytes:,} bytes; "
        f"per 1,000: {meter.calls * 1000 / len(documents):.2f} calls, "
        f"{meter.bytes * 1000 // len(documents):,} bytes"
    )


def test_the_meter_counts_the_bodies_bytes_as_received(sandbox, linked, reader):
    seed(sandbox, invoices=3)
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": sandbox.tenant_id,
        "Accept": "application/json",
    }
    where = "Date>=DateTime(2025,03,01) AND Date<=DateTime(2025,03,31)"
    expected = 0
    for path, params in (
        (
            "Invoices",
            {
                "where": where,
                "Statuses": "DRAFT,SUBMITTED,AUTHORISED,PAID,VOIDED,DELETED",
                "summaryOnly": "true",
                "page": 1,
                "pageSize": 1000,
            },
        ),
        ("CreditNotes", {"where": where, "page": 1, "pageSize": 1000}),
    ):
        answer = httpx.get(f"{sandbox.base_url}/api.xro/2.0/{path}", params=params, headers=headers)
        expected += len(answer.content)

    _, meter = read_all(reader, linked.company)

    # Same documents, same answers, give or take the envelope's time and call id.
    assert meter.calls == 2
    assert abs(meter.bytes - expected) < 200


def test_a_compressed_answer_is_metered_as_it_came_over_the_wire(linked):
    body = b'{"Invoices": []}' * 200
    packed = gzip.compress(body)
    answer = RESTResponse(
        urllib3.HTTPResponse(
            body=io.BytesIO(packed), headers={"Content-Encoding": "gzip"}, preload_content=True
        )
    )
    sizes: list[int] = []
    client = XeroClient(linked.company, reading=True, on_answer=sizes.append)

    client._answered(_wire_body(answer))

    assert answer.data == body
    assert sizes == [len(packed)]
    # Reading asks Xero for compressed answers; urllib3 unpacks them for the SDK.
    assert client.api.api_client.default_headers["Accept-Encoding"] == "gzip"


def test_summaries_carry_type_number_status_and_totals_but_no_lines(sandbox, linked, reader):
    seed(sandbox, invoices=1, bills=1, credit_notes=1)
    [draft] = xero_put(
        sandbox, "Invoices", "Invoices", [_document("ACCREC", 5, "RS-DRAFT", Status="DRAFT")]
    )
    sandbox.control.delete_invoice(sandbox.tenant_id, draft["InvoiceID"])
    [voided] = xero_put(sandbox, "Invoices", "Invoices", [_document("ACCREC", 6, "RS-VOID")])
    sandbox.control.void_invoice(sandbox.tenant_id, voided["InvoiceID"])

    documents, _ = read_all(reader, linked.company)

    by_number = {d.number: d for d in documents}
    sale, bill, credit = by_number["RS-00000"], by_number["SUP-00000"], by_number["RC-00000"]
    assert (sale.type, bill.type, credit.type) == (
        DocumentType.SALES_INVOICE,
        DocumentType.PURCHASE_INVOICE,
        DocumentType.SALES_CREDIT_NOTE,
    )
    assert not sale.lines_read and sale.fingerprint.lines == ()
    assert sale.fingerprint.gross == Decimal("121.20")
    assert sale.amount_due == Decimal("121.20")
    assert sale.status == "authorised"
    assert sale.contact_name == "Midlands Steel Ltd"
    assert sale.external_id in sale.url  # a deep link into the organisation
    # Credit notes have no summary in Xero: read with their lines at no extra cost.
    assert credit.lines_read and credit.fingerprint.line_count == 1
    assert by_number["RS-DRAFT"].status == "deleted"
    assert by_number["RS-VOID"].status == "voided"
    assert by_number["RS-VOID"].amount_due == Decimal("0")


def test_only_documents_of_the_period_are_read(sandbox, linked, reader):
    seed(sandbox, invoices=2)
    xero_put(
        sandbox,
        "Invoices",
        "Invoices",
        [_document("ACCREC", 1, "RS-APRIL", Date="2025-04-01", DueDate="2025-04-30")],
    )

    documents, _ = read_all(reader, linked.company)

    assert sorted(d.number for d in documents) == ["RS-00000", "RS-00001"]


def test_with_modified_since_only_changed_documents_are_read(sandbox, linked, reader):
    seed(sandbox, invoices=300, credit_notes=20)
    sandbox.control.clock(advance_seconds=60)
    cutoff = dt.datetime.fromisoformat(sandbox.control.clock()["iso"])
    sandbox.control.clock(advance_seconds=60)
    sandbox.control.edit_invoice(sandbox.tenant_id, "RS-00007", Reference="changed in Xero")
    sandbox.control.void_invoice(sandbox.tenant_id, "RS-00011")
    credit = sandbox.control.create_credit_note(
        sandbox.tenant_id, **_document("ACCRECCREDIT", 9, "RC-HAND")
    )

    documents, meter = read_all(reader, linked.company, modified_since=cutoff)

    assert sorted(d.number for d in documents) == ["RC-HAND", "RS-00007", "RS-00011"]
    assert {d.external_id for d in documents} >= {credit["CreditNoteID"]}
    assert meter.calls == 2
    full, full_meter = read_all(reader, linked.company)
    assert len(full) == 321
    assert meter.bytes * 20 < full_meter.bytes
    print(
        f"\nincremental read: {len(documents)} changed of {len(full)}, {meter.calls} calls, "
        f"{meter.bytes:,} bytes (full: {full_meter.calls} calls, {full_meter.bytes:,} bytes)"
    )


def _post(actor, documents) -> list[SyncRecord]:
    for document in documents:
        store_stand_in_pdf(document)
        task = Task.objects.get(document=document, type="post_to_xero")
        if task.status not in (TaskStatus.DONE, TaskStatus.IN_PROGRESS):
            task_complete(actor=actor, task_id=task.pk)
    for _ in range(3):
        SyncRecord.objects.filter(company=actor.company, status=SyncStatus.PENDING).update(
            next_attempt_at=None
        )
        sync_company_run(company_id=actor.company.pk, now=dt.datetime.now(dt.UTC))
    return [SyncRecord.objects.get(document=d) for d in documents]


def test_details_of_documents_we_posted_equal_what_we_sent(sandbox, linked, reader):
    documents = [
        make_document(
            linked,
            lines=[
                line("freight", quantity="2", unit_price="450"),
                line("fuel_surcharge", unit_price="63.50"),
            ],
            finalise=True,
        ),
        make_document(linked, DocumentType.PURCHASE_INVOICE, lines=2, finalise=True),
        make_document(linked, DocumentType.SALES_CREDIT_NOTE, lines=1, finalise=True),
    ]
    records = _post(linked, documents)
    assert all(r.status == SyncStatus.POSTED for r in records), [r.message for r in records]
    sandbox.control.clear_calls()
    meter = ReadMeter()

    read = reader.documents_detail(linked.company, [r.external_id for r in records], meter=meter)

    by_id = {d.external_id.lower(): d for d in read}
    for record in records:
        remote = by_id[record.external_id.lower()]
        assert remote.lines_read
        sent = DocumentFingerprint.from_json(record.fingerprint or {})
        assert fingerprint_compare(sent, remote.fingerprint) == []
        assert remote.number == record.external_number
    # One IDs= read for the invoices, one for the credit note Xero did not know as one.
    invoices_call, credit_notes_call = sandbox.control.calls(tenant_id=sandbox.tenant_id)
    assert meter.calls == 2
    assert invoices_call["path"].endswith("/Invoices") and "IDs=" in invoices_call["query"]
    assert credit_notes_call["path"].endswith("/CreditNotes")


def test_a_changed_line_shows_in_the_details(sandbox, linked, reader):
    [record] = _post(linked, [make_document(linked, lines=1, finalise=True)])
    [invoice] = xero_put_get(sandbox, record.external_id)
    sandbox.control.edit_invoice(
        sandbox.tenant_id,
        record.external_id,
        LineItems=[{"LineItemID": invoice["LineItems"][0]["LineItemID"], "AccountCode": "201"}],
    )

    [remote] = reader.documents_detail(linked.company, [record.external_id], meter=ReadMeter())

    sent = DocumentFingerprint.from_json(record.fingerprint or {})
    assert fingerprint_compare(sent, remote.fingerprint) == ["account 200 → 201"]


def xero_put_get(sandbox, invoice_id: str) -> list[dict]:
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    answer = httpx.get(
        f"{sandbox.base_url}/api.xro/2.0/Invoices/{invoice_id}",
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
            "Accept": "application/json",
        },
    )
    return answer.json()["Invoices"]  # type: ignore[no-any-return]


def test_details_are_read_fifty_ids_a_call(sandbox, linked, reader):
    seed(sandbox, invoices=120)
    documents, _ = read_all(reader, linked.company)
    meter = ReadMeter()

    read = reader.documents_detail(linked.company, [d.external_id for d in documents], meter=meter)

    assert len(read) == 120 and all(d.lines_read for d in read)
    assert meter.calls == 3


def test_contacts_are_read_with_number_tax_number_and_archived(sandbox, linked, reader):
    kept = sandbox.control.create_contact(
        sandbox.tenant_id, Name="Harbour Freight Ltd", ContactNumber="C-0042", TaxNumber="GB123"
    )
    gone = sandbox.control.create_contact(sandbox.tenant_id, Name="Old Carrier Ltd")
    sandbox.control.edit_contact(sandbox.tenant_id, gone["ContactID"], ContactStatus="ARCHIVED")
    meter = ReadMeter()

    contacts = {c.external_id: c for c in reader.contacts_read(linked.company, meter=meter)}

    harbour = contacts[kept["ContactID"]]
    assert (harbour.name, harbour.contact_number, harbour.tax_number) == (
        "Harbour Freight Ltd",
        "C-0042",
        "GB123",
    )
    assert not harbour.archived
    assert contacts[gone["ContactID"]].archived
    assert meter.calls == 1


def test_reading_stops_at_its_share_of_the_day_with_a_reason(
    sandbox, linked, reader, settings, monkeypatch
):
    # A share of 0.0004 is 2 calls of Xero's 5,000; pages of 10 make 3 calls of 25 invoices.
    settings.RECONCILE_DAILY_SHARE = 0.0004
    monkeypatch.setattr(books, "PAGE_SIZE", 10)
    seed(sandbox, invoices=25)
    meter = ReadMeter()

    with pytest.raises(PausedUntil) as stopped:
        list(
            reader.documents_read(
                linked.company, date_from=PERIOD[0], date_to=PERIOD[1], meter=meter
            )
        )

    assert meter.calls == 2
    assert "share of the organisation's daily calls" in stopped.value.message
    assert "it can read again from " in stopped.value.message  # a person starts it again
    assert stopped.value.until > dt.datetime.now(dt.UTC) + dt.timedelta(hours=20)


def test_reading_waits_behind_posting_for_the_minutes_calls(sandbox, linked, reader):
    limiter, now = rate_limiter(), time.time()
    for _ in range(PER_MINUTE - POSTING_MINUTE):
        assert limiter.acquire(sandbox.tenant_id, now=now) == 0  # posting at work
    meter = ReadMeter()

    with pytest.raises(TryLater) as waiting:
        list(
            reader.documents_read(
                linked.company, date_from=PERIOD[0], date_to=PERIOD[1], meter=meter
            )
        )

    assert "waits for posting and people" in waiting.value.message
    assert not waiting.value.maybe_sent
    assert meter.calls == 0  # nothing was asked of Xero


def test_a_reconciliation_behind_posting_waits_for_the_minute_and_goes_on_by_itself(
    sandbox, linked, reader, monkeypatch, django_capture_on_commit_callbacks
):
    from ledgerbridge.accounting import reconcile
    from ledgerbridge.accounting.models import ReconcileRunStatus

    limiter, now = rate_limiter(), time.time()
    for _ in range(PER_MINUTE - POSTING_MINUTE):
        assert limiter.acquire(sandbox.tenant_id, now=now) == 0  # a backlog posting
    again: list[dict] = []
    monkeypatch.setattr(reconcile, "_enqueue", lambda run_id, **when: again.append(when))

    with django_capture_on_commit_callbacks(execute=True):
        run = reconcile.reconciliation_run(
            linked.company,
            date_from=PERIOD[0],
            date_to=PERIOD[1],
            reader=reader,
            now=timezone.now(),
            attempt=1,
        )

    assert run.status == ReconcileRunStatus.RUNNING
    assert run.error.startswith("Waiting for Xero's per-minute limit: goes on at ")
    assert [w["attempt"] for w in again] == [2]


def test_a_refused_call_is_metered_too(sandbox, linked, reader):
    sandbox.control.add_fault("error", status=500, method="GET", path="/Invoices$", times=1)
    meter = ReadMeter()

    with pytest.raises(TryLater):
        list(
            reader.documents_read(
                linked.company, date_from=PERIOD[0], date_to=PERIOD[1], meter=meter
            )
        )

    assert meter.calls == 1 and meter.bytes > 0


@pytest.mark.parametrize("kind", backends())
def test_reading_leaves_the_minutes_last_calls_to_posting(kind):
    limiter, tenant, now = make(kind), uuid.uuid4().hex, 10_000.0
    for _ in range(PER_MINUTE - POSTING_MINUTE):
        assert limiter.acquire(tenant, now=now) == 0

    assert limiter.acquire(tenant, reading_share=0.25, now=now) > 0
    assert limiter.acquire(tenant, now=now) == 0  # posting still goes


@pytest.mark.parametrize("kind", backends())
def test_reading_stops_at_its_share_of_the_day_and_posting_goes_on(kind):
    limiter, tenant = make(kind), uuid.uuid4().hex
    share = 0.0004  # 2 of Xero's 5,000 calls
    assert limiter.acquire(tenant, reading_share=share, now=20_000.0) == 0
    assert limiter.acquire(tenant, reading_share=share, now=20_100.0) == 0

    wait = limiter.acquire(tenant, reading_share=share, now=20_200.0)

    assert wait == pytest.approx(86_400 - 200)  # until the first read leaves the day
    assert limiter.acquire(tenant, now=20_200.0) == 0
    assert limiter.reading_used(tenant, share=share, now=20_200.0) == 2


@pytest.mark.parametrize("kind", backends())
def test_reading_calls_count_against_the_organisations_day_like_any_other(kind):
    limiter, tenant, now = make(kind), uuid.uuid4().hex, 30_000.0
    assert limiter.acquire(tenant, reading_share=0.25, now=now) == 0

    assert limiter.usage([tenant], now=now).day[tenant].used == 1
