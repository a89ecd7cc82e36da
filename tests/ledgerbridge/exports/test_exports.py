"""Export batches: what goes in, what is left out and why, once only, files, downloads."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from ledgerbridge.accounting import exports
from ledgerbridge.accounting.exports import (
    ExportFilters,
    export_batch_create,
    export_batch_download,
    export_batch_list,
    export_preview,
    export_reexport,
)
from ledgerbridge.accounting.models import ExportBatchDocument, ExportBatchStatus, ExportFile
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.models import (
    DimensionValue,
    DocumentType,
    NominalCode,
    PartnerKind,
    TaxRate,
)
from ledgerbridge.xero.import_file import XeroImportFile
from ledgerbridge.xero.models import XeroTaxMapping
from tests.ledgerbridge.factories import (
    line,
    make_actor,
    make_company,
    make_document,
    make_partner,
)

from .conftest import purchase_invoice, sales_invoice

EVERYTHING = ExportFilters()


def test_export_takes_the_final_documents_not_yet_exported(finance, customer, supplier):
    invoice = sales_invoice(finance, customer)
    bill = purchase_invoice(finance, supplier)
    make_document(finance, partner=customer)  # a draft stays out

    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    assert batch.status == ExportBatchStatus.READY
    assert set(batch.entries.values_list("document_id", flat=True)) == {invoice.pk, bill.pk}
    assert [f.kind for f in batch.files.all()] == ["sales", "bills"]


def test_a_document_goes_into_one_batch_only(finance, customer):
    sales_invoice(finance, customer)
    export_batch_create(actor=finance, filters=EVERYTHING)

    with pytest.raises(ApplicationError, match="no final documents left to export"):
        export_batch_create(actor=finance, filters=EVERYTHING)


def test_filters_choose_by_document_type_dates_and_partner(finance, customer, supplier):
    other = make_partner(finance.company, PartnerKind.CUSTOMER)
    wanted = sales_invoice(finance, customer, issue_date=dt.date(2026, 10, 15))
    sales_invoice(finance, customer, issue_date=dt.date(2026, 9, 30))
    sales_invoice(finance, other, issue_date=dt.date(2026, 10, 15))
    purchase_invoice(finance, supplier, issue_date=dt.date(2026, 10, 15))

    batch = export_batch_create(
        actor=finance,
        filters=ExportFilters(
            document_type=DocumentType.SALES_INVOICE,
            date_from=dt.date(2026, 10, 1),
            date_to=dt.date(2026, 10, 31),
            partner_id=customer.pk,
        ),
    ).batch

    assert list(batch.entries.values_list("document_id", flat=True)) == [wanted.pk]
    assert batch.filters["date_from"] == "2026-10-01"


def test_batch_records_who_exported_when_and_the_totals(finance, customer, supplier):
    invoice = sales_invoice(finance, customer)
    bill = purchase_invoice(finance, supplier)
    now = dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)

    batch = export_batch_create(actor=finance, filters=EVERYTHING, now=now).batch

    assert (batch.number, batch.created_at, batch.created_by) == (1, now, finance.user)
    assert batch.document_count == 2
    # Both in GBP: one total, net + tax = gross.
    assert batch.totals == [
        {
            "currency": "GBP",
            "net": f"{invoice.net_total + bill.net_total:.2f}",
            "tax": f"{invoice.tax_total + bill.tax_total:.2f}",
            "gross": f"{invoice.gross_total + bill.gross_total:.2f}",
        }
    ]


def test_a_document_with_an_inactive_nominal_code_is_left_out_with_the_reason(finance, customer):
    kept = make_document(finance, partner=customer, lines=[line("freight")], finalise=True)
    blocked = sales_invoice(finance, customer)  # its fuel surcharge line is coded 201
    NominalCode.objects.filter(company=finance.company, code="201").update(active=False)

    result = export_batch_create(actor=finance, filters=EVERYTHING)

    assert list(result.batch.entries.values_list("document_id", flat=True)) == [kept.pk]
    assert [(item.document_id, item.reasons) for item in result.left_out] == [
        (blocked.pk, ["Line 2: nominal code 201 is inactive."])
    ]


def test_a_tax_rate_without_a_xero_tax_name_leaves_its_documents_out(finance, customer):
    invoice = sales_invoice(finance, customer)
    rate = TaxRate.objects.get(company=finance.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=rate, tax_type="CUSTOM9")

    preview = export_preview(actor=finance, filters=EVERYTHING)

    assert preview.included_count == 0
    assert preview.left_out[0].document_id == invoice.pk
    assert "tax rate S20 has no Xero tax rate name" in preview.left_out[0].reasons[0]


def test_a_tax_name_set_for_the_rate_is_what_the_file_uses(finance, customer):
    sales_invoice(finance, customer)
    rate = TaxRate.objects.get(company=finance.company, code="S20")
    XeroTaxMapping.objects.create(tax_rate=rate, tax_type="OUTPUT2", tax_name="Standard 20%")

    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    assert b",Standard 20%," in bytes(batch.files.get().content)


def test_an_inactive_dimension_value_leaves_its_documents_out(finance, customer):
    invoice = sales_invoice(finance, customer)
    DimensionValue.objects.filter(dimension__company=finance.company, name="Rigid").update(
        active=False
    )

    preview = export_preview(actor=finance, filters=EVERYTHING)

    assert [item.document_id for item in preview.left_out] == [invoice.pk]
    assert preview.left_out[0].reasons == ["Line 2: Vehicle type value Rigid is inactive."]


def test_preview_shows_what_goes_in_with_totals_and_exports_nothing(finance, customer):
    invoice = sales_invoice(finance, customer)

    preview = export_preview(actor=finance, filters=EVERYTHING)

    assert preview.included_ids == [invoice.pk]
    assert [(t.currency, t.gross) for t in preview.totals] == [("GBP", invoice.gross_total)]
    assert not ExportBatchDocument.objects.exists()


def test_a_viewer_cannot_export(company, finance, customer):
    sales_invoice(finance, customer)
    viewer = make_actor(company, Role.VIEWER)

    with pytest.raises(PermissionDeniedError):
        export_batch_create(actor=viewer, filters=EVERYTHING)


def test_a_viewer_lists_and_downloads_batches(company, finance, customer):
    sales_invoice(finance, customer)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    viewer = make_actor(company, Role.VIEWER)

    assert list(export_batch_list(actor=viewer)) == [batch]
    assert export_batch_download(actor=viewer, batch_id=batch.pk).content.startswith(
        b"*ContactName"
    )


def test_batches_of_another_company_are_not_found(finance, customer):
    sales_invoice(finance, customer)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    stranger = make_actor(make_company("Elsewhere Ltd"), Role.FINANCE)

    assert list(export_batch_list(actor=stranger)) == []
    with pytest.raises(exports.NotFoundError):
        export_batch_download(actor=stranger, batch_id=batch.pk)


def test_a_download_is_byte_identical_every_time(finance, customer, supplier):
    sales_invoice(finance, customer)
    purchase_invoice(finance, supplier)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    first = export_batch_download(actor=finance, batch_id=batch.pk)
    second = export_batch_download(actor=finance, batch_id=batch.pk)

    assert first.content == second.content
    assert first.filename == "xero-export-0001.zip"


def test_a_batch_with_more_documents_than_a_file_takes_is_split_into_a_zip(
    finance, customer, monkeypatch
):
    monkeypatch.setattr(XeroImportFile, "max_documents_per_file", 2)
    invoices = [sales_invoice(finance, customer) for _ in range(5)]

    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    download = export_batch_download(actor=finance, batch_id=batch.pk)

    assert [f.document_count for f in batch.files.all()] == [2, 2, 1]
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert archive.namelist() == [
        "xero-export-0001-sales-1.csv",
        "xero-export-0001-sales-2.csv",
        "xero-export-0001-sales-3.csv",
    ]
    numbers = b"".join(archive.read(name) for name in archive.namelist())
    assert all(invoice.number.encode() in numbers for invoice in invoices)


def test_stored_files_keep_their_sha256(finance, customer):
    import hashlib

    sales_invoice(finance, customer)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    stored = batch.files.get()
    assert stored.sha256 == hashlib.sha256(bytes(stored.content)).hexdigest()


def test_reexport_needs_a_reason(finance, customer):
    sales_invoice(finance, customer)
    batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    with pytest.raises(ApplicationError, match="Say why"):
        export_reexport(actor=finance, batch_id=batch.pk, reason="  ")


def test_reexport_puts_the_documents_in_a_new_batch_and_is_audited(finance, customer):
    invoice = sales_invoice(finance, customer)
    first = export_batch_create(actor=finance, filters=EVERYTHING).batch

    second = export_reexport(
        actor=finance, batch_id=first.pk, reason="Xero import was rolled back"
    ).batch

    assert second.number == 2 and second.reexport_reason == "Xero import was rolled back"
    assert list(second.entries.values_list("document_id", "reexport")) == [(invoice.pk, True)]
    entry = AuditEntry.objects.get(action="documents re-exported")
    assert entry.changes["reason"] == "Xero import was rolled back"


def test_a_large_batch_is_built_by_a_worker_after_commit_with_progress(
    finance, customer, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "BUILD_NOW_LIMIT", 1)
    sales_invoice(finance, customer)
    sales_invoice(finance, customer)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    assert (batch.status, batch.progress) == (ExportBatchStatus.BUILDING, 0)

    for callback in callbacks:
        callback()  # the queue runs jobs inline in tests
    batch.refresh_from_db()
    assert (batch.status, batch.progress, batch.document_count) == ("ready", 2, 2)


def test_a_batch_that_fails_to_build_keeps_no_files_and_frees_its_documents(
    finance, customer, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "BUILD_NOW_LIMIT", 0)
    sales_invoice(finance, customer)

    def broken(self, kind, documents):
        raise OSError("disk full")

    monkeypatch.setattr(XeroImportFile, "write", broken)
    with django_capture_on_commit_callbacks(execute=True):
        batch = export_batch_create(actor=finance, filters=EVERYTHING).batch
    batch.refresh_from_db()

    assert batch.status == ExportBatchStatus.FAILED and "disk full" in batch.error
    assert not ExportFile.objects.exists() and not ExportBatchDocument.objects.exists()
    with pytest.raises(ApplicationError, match="failed"):
        export_batch_download(actor=finance, batch_id=batch.pk)
    monkeypatch.undo()
    assert export_batch_create(actor=finance, filters=EVERYTHING).batch.status == "ready"


def test_a_file_whose_totals_differ_from_the_tms_is_never_kept(finance, customer, monkeypatch):
    invoice = sales_invoice(finance, customer)
    real_write = XeroImportFile.write

    def off_by_a_penny(self, kind, documents):
        written = real_write(self, kind, documents)
        written.totals[invoice.pk] += 1
        return written

    monkeypatch.setattr(XeroImportFile, "write", off_by_a_penny)

    with pytest.raises(exports.UnableToExport, match="differs from the TMS total"):
        export_batch_create(actor=finance, filters=EVERYTHING)
    assert not ExportBatchDocument.objects.exists()


def test_a_batch_another_process_is_building_is_not_written_twice(
    finance, customer, monkeypatch, django_capture_on_commit_callbacks
):
    from ledgerbridge.accounting.leases import leased

    monkeypatch.setattr(exports, "BUILD_NOW_LIMIT", 0)
    sales_invoice(finance, customer)
    with django_capture_on_commit_callbacks(execute=False):
        batch = export_batch_create(actor=finance, filters=EVERYTHING).batch

    with leased(f"export-batch-{batch.pk}"):
        assert exports.export_batch_build(batch_id=batch.pk).status == "building"
    assert exports.export_batch_build(batch_id=batch.pk).status == "ready"
    assert exports.export_batch_build(batch_id=batch.pk).files.count() == 1


def test_a_nominal_code_too_long_for_a_xero_account_code_leaves_its_documents_out(
    finance, customer
):
    invoice = make_document(finance, partner=customer, lines=[line("freight")], finalise=True)
    NominalCode.objects.filter(company=finance.company, code="200").update(code="40000-FREIGHT")

    preview = export_preview(actor=finance, filters=EVERYTHING)

    assert [(i.document_id, i.reasons) for i in preview.left_out] == [
        (
            invoice.pk,
            [
                "Line 1: nominal code 40000-FREIGHT is longer than a Xero account code (10 characters)."
            ],
        )
    ]
