"""The sales PDF is a UK VAT invoice: read back from the rendered PDF's text, not its HTML.

Each test renders a document to PDF with WeasyPrint, extracts the text with a
PDF library and looks for what HMRC asks a VAT invoice to show (VAT Notice 700
§16.3, §16.6): each line's VAT rate, a summary by rate, both VAT registration
numbers, the tax point, the VAT in sterling for another currency, and here how
to pay; a credit note names the invoice it credits.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import company_update
from ledgerbridge.invoicing.models import DocumentType
from ledgerbridge.invoicing.pdf import render_document_pdf_bytes
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from tests.ledgerbridge.factories import (
    line,
    make_actor,
    make_company,
    make_document,
    make_partner,
)

pytestmark = pytest.mark.django_db

ISSUED = dt.date(2026, 11, 2)


def pdf_text(document, *, keep_as: str = "") -> str:
    """Every page's text, whitespace collapsed to single spaces.

    To look at the pages (docs/screenshots come from here), run this file with
    LEDGERBRIDGE_PDF_ARTEFACTS set to a folder: the PDFs are kept there.
    """
    content = render_document_pdf_bytes(document)
    folder = os.environ.get("LEDGERBRIDGE_PDF_ARTEFACTS")
    if folder:
        name = keep_as or f"{document.get_type_display()}-{document.currency}-{document.pk}"
        (Path(folder) / f"{name.replace(' ', '-').lower()}.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def has_row(text: str, *cells: str) -> bool:
    """The cells appear in this order with only spaces between them (one table row)."""
    return re.search(r"\s+".join(re.escape(cell) for cell in cells), text) is not None


@pytest.fixture
def admin():
    company = make_company("Pennine Freight Ltd", vat_number="GB123456789")
    actor = make_actor(company, Role.SUPER_ADMIN)
    company_update(
        actor=actor,
        email="accounts@pennine.example",
        bank_account_name="Pennine Freight Ltd",
        bank_name="Barclays Bank",
        bank_sort_code="202015",
        bank_account_number="55555555",
        bank_iban="GB33BUKB20201555555555",
        bank_bic="BUKBGB22",
        payment_terms="Late payments carry interest at 8% over the Bank of England base rate.",
    )
    return actor


def gbp_invoice(actor):
    customer = make_partner(
        actor.company,
        name="Leeds Cold Store Ltd",
        vat_number="GB987654321",
        address_line1="14 Cross Green Way",
        city="Leeds",
        postcode="LS9 0SE",
    )
    return make_document(
        actor,
        partner=customer,
        issue_date=ISSUED,
        lines=[
            line("freight", unit_price="1250.00", description="Trailer Leeds - Hull"),
            line("tolls", unit_price="300.00", tax_rate="Z0S", description="Humber Bridge toll"),
        ],
        finalise=True,
    )


def eur_invoice(actor, **header):
    # A UK company of a Dutch group, billed in euros: UK haulage at 20 %, the
    # international leg zero-rated.
    customer = make_partner(
        actor.company,
        name="Koel Logistics UK Ltd",
        vat_number="GB246813579",
        currency="EUR",
        address_line1="Port of Hull, King George Dock",
        city="Hull",
        postcode="HU9 5PQ",
    )
    return make_document(
        actor,
        partner=customer,
        issue_date=ISSUED,
        lines=[
            line("freight", unit_price="2000.00", description="Trailer Felixstowe - Leeds"),
            line(
                "freight",
                unit_price="1500.00",
                tax_rate="Z0S",
                description="Trailer Hull - Rotterdam (export)",
            ),
        ],
        finalise=True,
        **header,
    )


def test_a_gbp_invoice_shows_every_vat_invoice_element(admin):
    invoice = gbp_invoice(admin)
    text = pdf_text(invoice, keep_as="invoice-gbp")

    assert text.startswith("Invoice")
    assert has_row(text, "Number", invoice.number)
    assert has_row(text, "Tax point", "2 Nov 2026")
    assert has_row(text, "Due", "2 Dec 2026")
    # Both VAT registration numbers, the supplier's (ours) and the customer's.
    assert has_row(text, "Pennine Freight Ltd")
    assert "VAT registration number GB123456789" in text
    assert has_row(text, "Leeds Cold Store Ltd")
    assert "VAT registration number GB987654321" in text
    # Each line's VAT rate as a percentage, with its net and VAT.
    assert has_row(text, "1", "1,250.00", "20%", "1,250.00", "250.00")
    assert has_row(text, "1", "300.00", "0%", "300.00", "0.00")
    assert "S20" not in text
    # The VAT summary by rate, and the totals excluding VAT, VAT and with it.
    assert has_row(text, "Standard rate sales", "20%", "1,250.00", "250.00")
    assert has_row(text, "Zero rated sales (exports)", "0%", "300.00", "0.00")
    assert has_row(text, "Total", "1,550.00", "250.00")
    assert has_row(text, "Total excluding VAT", "1,550.00")
    assert has_row(text, "Total GBP", "1,800.00")
    # How to pay, from the company's settings.
    assert "Please pay 1,800.00 GBP by 2 December 2026, quoting " + invoice.number in text
    assert has_row(text, "Account name", "Pennine Freight Ltd")
    assert has_row(text, "Sort code", "20-20-15")
    assert has_row(text, "Account number", "55555555")
    assert has_row(text, "IBAN", "GB33 BUKB 2020 1555 5555 55")
    assert has_row(text, "BIC", "BUKBGB22")
    assert "Payment terms: 30 days from the invoice date." in text
    assert "interest at 8% over the Bank of England base rate" in text
    # A sterling invoice needs no conversion.
    assert "Amounts in GBP" not in text


def test_a_eur_invoice_also_states_its_vat_in_sterling_with_the_rate_and_its_source(admin):
    invoice = eur_invoice(
        admin, exchange_rate="1.1650", exchange_rate_source="HMRC period rate for November 2026"
    )
    text = pdf_text(invoice, keep_as="invoice-eur")

    assert has_row(text, "Tax point", "2 Nov 2026")
    assert "VAT registration number GB123456789" in text
    assert "VAT registration number GB246813579" in text
    assert has_row(text, "Net (EUR)", "VAT (EUR)")
    assert has_row(text, "1", "2,000.00", "20%", "2,000.00", "400.00")
    assert has_row(text, "1", "1,500.00", "0%", "1,500.00", "0.00")
    assert has_row(text, "Standard rate sales", "20%", "2,000.00", "400.00")
    assert has_row(text, "Zero rated sales (exports)", "0%", "1,500.00", "0.00")
    assert has_row(text, "Total EUR", "3,900.00")
    # 3,500.00 / 1.165 = 3,004.29…; 400.00 / 1.165 = 343.347…
    assert "Amounts in GBP" in text
    assert has_row(text, "Total excluding VAT", "3,004.29 GBP")
    assert has_row(text, "VAT", "343.35 GBP")
    assert has_row(text, "Total", "3,347.64 GBP")
    assert "Converted at 1 GBP = 1.165 EUR, HMRC period rate for November 2026." in text
    assert "Please pay 3,900.00 EUR by 2 December 2026" in text
    assert has_row(text, "IBAN", "GB33 BUKB 2020 1555 5555 55")


def test_a_eur_invoice_without_a_rate_says_its_sterling_vat_is_not_stated(admin):
    text = pdf_text(eur_invoice(admin))
    assert "Amounts in GBP" in text
    assert "No exchange rate was recorded with this invoice" in text
    assert "Converted at" not in text


def test_a_credit_note_names_the_invoice_it_credits_and_keeps_its_rate(admin):
    invoice = eur_invoice(
        admin, exchange_rate="1.1650", exchange_rate_source="HMRC period rate for November 2026"
    )
    draft = credit_note_create_from_invoice(
        actor=admin, invoice_id=invoice.pk, issue_date=dt.date(2026, 11, 20)
    )
    credit = document_finalise(actor=admin, document_id=draft.pk)
    assert credit.type == DocumentType.SALES_CREDIT_NOTE
    text = pdf_text(credit)

    assert text.startswith("Credit note")
    assert has_row(text, "Number", credit.number)
    assert has_row(text, "Tax point", "20 Nov 2026")
    assert has_row(text, "Credits invoice", invoice.number, "of 2 Nov 2026")
    assert f"This credit note reduces invoice {invoice.number}" in text
    assert "VAT registration number GB123456789" in text
    assert "VAT registration number GB246813579" in text
    assert has_row(text, "1", "2,000.00", "20%", "2,000.00", "400.00")
    assert has_row(text, "Standard rate sales", "20%", "2,000.00", "400.00")
    assert has_row(text, "Total credit EUR", "3,900.00")
    # Converted at the rate of the invoice it corrects.
    assert has_row(text, "VAT", "343.35 GBP")
    assert "Converted at 1 GBP = 1.165 EUR, HMRC period rate for November 2026." in text
    # Nothing to pay on a credit note.
    assert "How to pay" not in text and "Sort code" not in text


def test_a_gbp_credit_note_names_its_invoice_and_shows_rates(admin):
    invoice = gbp_invoice(admin)
    draft = credit_note_create_from_invoice(
        actor=admin, invoice_id=invoice.pk, issue_date=dt.date(2026, 11, 20)
    )
    text = pdf_text(document_finalise(actor=admin, document_id=draft.pk))
    assert has_row(text, "Credits invoice", invoice.number, "of 2 Nov 2026")
    assert has_row(text, "Standard rate sales", "20%", "1,250.00", "250.00")
    assert has_row(text, "Zero rated sales (exports)", "0%", "300.00", "0.00")
    assert "Amounts in GBP" not in text


def test_a_supplier_bill_is_our_record_not_a_vat_invoice_and_asks_for_no_payment(admin):
    supplier = make_partner(admin.company, kind="supplier", vat_number="GB314159265")
    bill = make_document(
        admin,
        DocumentType.PURCHASE_INVOICE,
        partner=supplier,
        issue_date=ISSUED,
        supplier_reference="M62-9981",
        finalise=True,
    )
    text = pdf_text(bill)
    assert text.startswith("Purchase invoice")
    assert "Our record of the supplier's document, not a VAT invoice" in text
    assert has_row(text, "Supplier's number", "M62-9981")
    assert "the supplier's own document is the VAT record" in text
    assert has_row(text, "Standard rate purchases", "20%")
    assert "Tax point" not in text
    assert "How to pay" not in text and "55555555" not in text
