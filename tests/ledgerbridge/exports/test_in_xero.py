"""A company posting through Xero's API: a file export never puts a document in Xero twice.

Documents are posted for real to a sandbox organisation; what is already in Xero
(or on its way there through the outbox) stays out of the file unless a user puts
it in on purpose, with a reason that is audited.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerbridge.accounting.exports import (
    LEFT_OUT_IN_XERO,
    LEFT_OUT_QUEUED,
    ExportFilters,
    export_batch_create,
    export_preview,
    export_reexport,
)
from ledgerbridge.accounting.models import (
    AccountingSettings,
    ExportBatch,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.outbox import sync_record_retry
from ledgerbridge.accounting.services import documents_send
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.models import Task
from ledgerbridge.invoicing.workflow import task_complete
from ledgerbridge.xero.connection import xero_tenant_choose
from tests.ledgerbridge.factories import make_actor
from tests.ledgerbridge.xero.conftest import authorise

from .conftest import STARTER_TRACKING, purchase_invoice, sales_invoice

EVERYTHING = ExportFilters()


@pytest.fixture
def linked(settings, xero, company, finance):
    """``finance`` of a company on Xero (API), linked to its own sandbox organisation."""
    settings.XERO_LOGIN_URL = settings.XERO_IDENTITY_URL = settings.XERO_API_URL = xero.base_url
    settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET = xero.client_id, xero.client_secret
    AccountingSettings.objects.update_or_create(company=company, defaults={"package": "xero_api"})
    tenant_id = xero.control.create_org("Northway Haulage", tracking_categories=STARTER_TRACKING)[
        "tenant_id"
    ]
    admin = make_actor(company, Role.SUPER_ADMIN)
    link = authorise(xero, admin, [tenant_id])
    if link.tenant_id != tenant_id:
        # The sandbox's user has authorised earlier tests' organisations too: choose this one.
        xero_tenant_choose(actor=admin, tenant_id=tenant_id)
    return finance


@pytest.fixture
def posted(linked, customer, django_capture_on_commit_callbacks):
    """A sales invoice the worker has posted to Xero (auto-posting, run inline)."""
    with django_capture_on_commit_callbacks(execute=True):
        invoice = sales_invoice(linked, customer)
    record = SyncRecord.objects.get(document=invoice)
    assert record.status == SyncStatus.POSTED, record.message
    return invoice


def queued(actor, customer):
    """A sales invoice whose record waits in the outbox (the worker has not run yet)."""
    invoice = sales_invoice(actor, customer)
    assert SyncRecord.objects.get(document=invoice).status == SyncStatus.PENDING
    return invoice


def test_a_document_posted_through_the_api_is_left_out_and_listed(posted, linked, supplier):
    bill = purchase_invoice(linked, supplier)  # its task waits for a click: not sent

    result = export_batch_create(actor=linked, filters=EVERYTHING)

    assert list(result.batch.entries.values_list("document_id", flat=True)) == [bill.pk]
    [left_out] = result.left_out
    assert (left_out.document_id, left_out.kind) == (posted.pk, LEFT_OUT_IN_XERO)
    assert left_out.reasons == [f"Already in Xero through the API as {posted.number}."]
    assert result.batch.left_out == [
        {
            "document_id": posted.pk,
            "label": left_out.label,
            "kind": LEFT_OUT_IN_XERO,
            "reasons": left_out.reasons,
        }
    ]


def test_a_document_queued_for_the_api_is_left_out_as_the_worker_would_post_it_too(
    linked, customer
):
    invoice = queued(linked, customer)

    preview = export_preview(actor=linked, filters=EVERYTHING)

    assert preview.included_count == 0
    [left_out] = preview.left_out
    assert (left_out.document_id, left_out.kind) == (invoice.pk, LEFT_OUT_QUEUED)
    assert "the worker will post it" in left_out.reasons[0]
    with pytest.raises(ApplicationError, match="1 is already in Xero through the API"):
        export_batch_create(actor=linked, filters=EVERYTHING)


def test_a_document_xero_refused_goes_into_the_file(linked, customer):
    invoice = queued(linked, customer)
    SyncRecord.objects.filter(document=invoice).update(status=SyncStatus.FAILED)

    batch = export_batch_create(actor=linked, filters=EVERYTHING).batch

    assert list(batch.entries.values_list("document_id", flat=True)) == [invoice.pk]


def test_putting_a_document_in_xero_into_the_file_needs_a_reason(posted, linked):
    with pytest.raises(ApplicationError, match="Say why") as error:
        export_batch_create(
            actor=linked, filters=EVERYTHING, include_in_xero=True, in_xero_reason="  "
        )

    assert error.value.field == "in_xero_reason"
    assert not ExportBatch.objects.exists()


def test_putting_a_document_in_xero_into_the_file_with_a_reason_is_audited(
    posted, linked, customer
):
    waiting = queued(linked, customer)
    reason = "Importing into the new Xero organisation"

    result = export_batch_create(
        actor=linked, filters=EVERYTHING, include_in_xero=True, in_xero_reason=reason
    )

    entry = result.batch.entries.get()
    assert (entry.document_id, entry.in_xero) == (posted.pk, True)
    assert result.batch.in_xero_reason == reason
    # Still left out: the worker is about to post it, a file would make it twice.
    assert [(i.document_id, i.kind) for i in result.left_out] == [(waiting.pk, LEFT_OUT_QUEUED)]
    audit = AuditEntry.objects.get(action="documents already in Xero exported")
    assert audit.changes == {"reason": reason, "documents": [posted.number]}
    assert audit.target == str(result.batch)


def test_a_reexport_leaves_out_what_was_posted_since(linked, customer, supplier):
    invoice = sales_invoice(linked, customer)
    SyncRecord.objects.filter(document=invoice).delete()  # as if never sent
    bill = purchase_invoice(linked, supplier)
    first = export_batch_create(actor=linked, filters=EVERYTHING).batch
    SyncRecord.objects.create(
        company=linked.company,
        document=invoice,
        status=SyncStatus.POSTED,
        external_number=invoice.number,
    )

    again = export_reexport(actor=linked, batch_id=first.pk, reason="File lost").batch

    assert list(again.entries.values_list("document_id", flat=True)) == [bill.pk]
    assert [item["document_id"] for item in again.left_out] == [invoice.pk]


def test_a_document_in_a_file_is_not_posted_through_the_api(linked, supplier):
    bill = purchase_invoice(linked, supplier)
    batch = export_batch_create(actor=linked, filters=EVERYTHING).batch
    task = Task.objects.get(document=bill, type="post_to_xero")

    with pytest.raises(ApplicationError, match=f"Xero import file of export {batch.number}"):
        task_complete(actor=linked, task_id=task.pk)

    assert not SyncRecord.objects.filter(document=bill).exists()


def test_a_file_export_company_is_unaffected(company, finance, customer, supplier):
    AccountingSettings.objects.create(company=company, package="xero_file")
    documents = [sales_invoice(finance, customer), purchase_invoice(finance, supplier)]

    result = export_batch_create(actor=finance, filters=EVERYTHING)

    assert {e.document_id for e in result.batch.entries.all()} == {d.pk for d in documents}
    assert result.left_out == [] and result.batch.left_out == []


def test_retrying_a_document_in_a_file_is_refused(linked, customer):
    invoice = queued(linked, customer)
    SyncRecord.objects.filter(document=invoice).update(status=SyncStatus.FAILED)
    export_batch_create(actor=linked, filters=EVERYTHING)

    with pytest.raises(ApplicationError, match="Xero import file"):
        sync_record_retry(actor=linked, document_id=invoice.pk)

    assert SyncRecord.objects.get(document=invoice).status == SyncStatus.FAILED


def test_bulk_posting_skips_a_document_in_a_file(linked, supplier):
    exported = purchase_invoice(linked, supplier)
    export_batch_create(actor=linked, filters=EVERYTHING)
    waiting = purchase_invoice(linked, supplier, issue_date=dt.date(2026, 11, 3))

    count = documents_send(actor=linked, document_ids=[exported.pk, waiting.pk])

    assert count == 1
    assert list(SyncRecord.objects.values_list("document_id", flat=True)) == [waiting.pk]
