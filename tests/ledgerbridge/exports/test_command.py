"""``ledgerbridge export`` for scripts."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from ledgerbridge.invoicing.models import NominalCode
from tests.ledgerbridge.factories import line, make_document

from .conftest import purchase_invoice, sales_invoice


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_writes_the_batchs_files_into_the_output_directory(
    company, finance, customer, supplier, tmp_path
):
    invoice = sales_invoice(finance, customer)
    purchase_invoice(finance, supplier)

    out, _ = _run("--company", company.legal_name, "--output", str(tmp_path))

    assert "Export 1: 2 documents" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "xero-export-0001-bills-1.csv",
        "xero-export-0001-sales-1.csv",
    ]
    assert invoice.number in (tmp_path / "xero-export-0001-sales-1.csv").read_text()


def test_export_filters_by_type_and_partner_number(company, finance, customer, supplier, tmp_path):
    sales_invoice(finance, customer)
    purchase_invoice(finance, supplier)

    out, _ = _run(
        "--company", str(company.pk), "--type", "purchase_invoice", "--partner", supplier.number
    )

    assert "Export 1: 1 document," in out


def test_documents_left_out_are_listed_with_reasons_on_stderr(company, finance, customer):
    make_document(finance, partner=customer, lines=[line("freight")], finalise=True)
    blocked = sales_invoice(finance, customer)
    NominalCode.objects.filter(company=company, code="201").update(active=False)

    _, err = _run("--company", str(company.pk), "--preview")

    assert f"left out {blocked}: Line 2: nominal code 201 is inactive." in err


def test_nothing_to_export_is_an_error(company):
    with pytest.raises(CommandError, match="no final documents left"):
        _run("--company", str(company.pk))


def test_list_and_download_a_batch_again(company, finance, customer, tmp_path):
    sales_invoice(finance, customer)
    _run("--company", str(company.pk), "--output", str(tmp_path / "first"))

    listing, _ = _run("--company", str(company.pk), "--list")
    _run("--company", str(company.pk), "--download", "1", "--output", str(tmp_path / "again"))

    assert listing.split()[0] == "1" and "ready" in listing
    name = "xero-export-0001-sales-1.csv"
    assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "first" / name).read_bytes()


def test_reexport_from_the_command_line_needs_a_reason(company, finance, customer):
    sales_invoice(finance, customer)
    _run("--company", str(company.pk))

    with pytest.raises(CommandError, match="Say why"):
        _run("--company", str(company.pk), "--reexport", "1")
    out, _ = _run("--company", str(company.pk), "--reexport", "1", "--reason", "file lost")
    assert "Export 2: 1 document," in out
