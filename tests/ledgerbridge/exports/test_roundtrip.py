"""Property: random valid documents export, and import through the sandbox's importer
with the same totals, document by document."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create
from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.invoicing.models import DocumentType, PartnerKind
from ledgerbridge.invoicing.services import LineInput
from ledgerbridge.invoicing.starter import DEFAULT_CODING
from tests.ledgerbridge.factories import make_partner

from .conftest import final_document, money, xero_import

SALES_TAX = ["S20", "Z0S", "EXS", "NOVAT"]
PURCHASE_TAX = ["S20P", "R5P", "Z0P", "EXP", "NOVAT"]


def decimals(places: int, low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=places)


text = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "Zs", "Po", "Sc"), include_characters=',"'
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@st.composite
def lines(draw, sales: bool):
    charge = draw(st.sampled_from(sorted(DEFAULT_CODING)))
    return LineInput(
        description=draw(text),
        charge_type=charge,
        quantity=draw(decimals(4, "0.0001", "500")),
        unit_price=draw(decimals(4, "0", "5000")),
        discount_percent=draw(st.one_of(st.just(Decimal(0)), decimals(2, "0", "100"))),
        nominal_code=DEFAULT_CODING[charge][0 if sales else 1],
        tax_rate=draw(st.sampled_from(SALES_TAX if sales else PURCHASE_TAX)),
    )


@st.composite
def documents(draw):
    type_ = draw(st.sampled_from(DocumentType.values))
    sales = type_ in (DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE)
    issued = draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31)))
    return type_, issued, draw(st.lists(lines(sales), min_size=1, max_size=4))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    batch=st.lists(documents(), min_size=1, max_size=3),
    date_format=st.sampled_from(["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d"]),
)
def test_random_documents_reimport_with_equal_totals(finance, xero, org, batch, date_format):
    AccountingSettings.objects.update_or_create(
        company=finance.company, defaults={"import_date_format": date_format}
    )
    customer = make_partner(finance.company, PartnerKind.CUSTOMER)
    made = []
    for type_, issued, document_lines in batch:
        sales = type_ in (DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE)
        # A supplier per bill: two bills of one supplier with the same date and total
        # are refused at finalise as a likely duplicate.
        made.append(
            final_document(
                finance,
                type_,
                customer if sales else make_partner(finance.company, PartnerKind.SUPPLIER),
                document_lines,
                issue_date=issued,
            )
        )

    exported = export_batch_create(actor=finance, filters=ExportFilters()).batch
    imported: dict[str, Decimal] = {}
    for export_file in exported.files.all():
        answer = xero_import(
            xero, org, export_file.kind, bytes(export_file.content), date_format=date_format
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        for item in body["Invoices"] + body["CreditNotes"]:
            stored = xero.sandbox.store.get_doc(org, _store_kind(item["Type"]), item["ID"])
            imported[item["Number"]] = (money(item["Total"]), stored["DateString"][:10])

    assert imported == {
        (d.number if d.is_sales else d.supplier_reference): (
            d.gross_total,
            d.issue_date.isoformat(),
        )
        for d in made
    }


def _store_kind(xero_type: str) -> str:
    return "creditnote" if xero_type.endswith("CREDIT") else "invoice"
