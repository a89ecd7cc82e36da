import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.models import (
    Document,
    DocumentLine,
    DocumentType,
    LineDimension,
    PartnerKind,
    Task,
)
from ledgerbridge.invoicing.selectors import lines_left_to_credit
from ledgerbridge.invoicing.services import (
    credit_note_create_from_invoice,
    document_create,
    document_finalise,
    document_input_from,
    document_update,
)
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return make_company("Northway Haulage Ltd")


@pytest.fixture
def finance(company):
    return make_actor(company, Role.FINANCE)


def test_draft_gets_totals_from_its_lines(finance):
    document = make_document(
        finance,
        lines=[
            line("freight", quantity="2", unit_price="450.00"),
            line("fuel_surcharge", unit_price="67.55", discount="10"),
        ],
    )
    assert document.net_total == Decimal("960.80")  # 900.00 + 60.80 (67.55 less 10 %)
    assert document.tax_total == Decimal("192.16")  # 180.00 + 12.16
    assert document.gross_total == Decimal("1152.96")
    assert document.number == ""
    assert document.is_draft


def test_due_date_follows_the_partner_payment_terms(finance, company):
    partner = make_partner(company, payment_terms_days=45)
    document = make_document(finance, partner=partner, issue_date=dt.date(2026, 10, 1))
    assert document.due_date == dt.date(2026, 11, 15)


def test_finalising_allocates_the_next_number_and_freezes_the_document(finance):
    first = make_document(finance, finalise=True)
    second = make_document(finance, finalise=True)
    assert first.number == "INV-2026-00001"
    assert second.number == "INV-2026-00002"
    data = document_input_from(first)
    with pytest.raises(ApplicationError, match="final and cannot be changed"):
        document_update(actor=finance, document_id=first.pk, data=data)


def test_finalising_twice_is_refused(finance):
    document = make_document(finance, finalise=True)
    with pytest.raises(ApplicationError, match="already final"):
        document_finalise(actor=finance, document_id=document.pk)


def test_purchase_invoice_needs_the_suppliers_number_to_finalise(finance):
    document = make_document(finance, DocumentType.PURCHASE_INVOICE, supplier_reference="")
    with pytest.raises(ApplicationError) as error:
        document_finalise(actor=finance, document_id=document.pk)
    assert error.value.field == "supplier_reference"
    document.refresh_from_db()
    assert document.is_draft and document.number == ""


def test_a_sales_document_needs_a_customer(finance, company):
    supplier = make_partner(company, PartnerKind.SUPPLIER)
    with pytest.raises(ApplicationError, match="needs a customer") as error:
        make_document(finance, partner=supplier)
    assert error.value.field == "partner_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "0"}, "lines[1].quantity"),
        ({"quantity": "abc"}, "lines[1].quantity"),
        ({"unit_price": "1.123456"}, "lines[1].unit_price"),
        ({"discount": "120"}, "lines[1].discount_percent"),
        ({"tax_rate": "S20P"}, "lines[1].tax_rate"),
    ],
)
def test_bad_line_input_names_the_field_and_saves_nothing(finance, change, field):
    bad = line("tolls", **change)
    before = Document.objects.count(), DocumentLine.objects.count()
    with pytest.raises(ApplicationError) as error:
        make_document(finance, lines=[line("freight"), bad])
    assert error.value.field == field
    assert (Document.objects.count(), DocumentLine.objects.count()) == before


def test_unknown_nominal_code_is_refused_with_its_value(finance):
    bad = line("freight")
    bad.nominal_code = "9999"
    with pytest.raises(ApplicationError, match="'9999' does not exist"):
        make_document(finance, lines=[bad])


def test_lines_get_dimension_values_from_the_rules(finance, company):
    foreign = make_partner(company, country="FR")
    document = make_document(
        finance, partner=foreign, lines=[line("freight", description="Rigid 18t Calais - Lille")]
    )
    values = {
        ld.dimension.name: ld.value.code
        for ld in LineDimension.objects.filter(line__document=document).select_related(
            "dimension", "value"
        )
    }
    assert values == {"Business unit": "INT", "Vehicle type": "RIG"}


def test_full_credit_note_copies_the_invoice_and_references_it(finance):
    invoice = make_document(finance, finalise=True)
    credit = credit_note_create_from_invoice(actor=finance, invoice_id=invoice.pk)
    assert credit.type == DocumentType.SALES_CREDIT_NOTE
    assert credit.original_id == invoice.pk
    assert credit.gross_total == invoice.gross_total
    credit = document_finalise(actor=finance, document_id=credit.pk)
    assert credit.number == "CN-2026-00001"


def test_a_credit_note_in_another_currency_than_its_invoice_is_refused(finance):
    """What is left to credit adds up the invoice's credit notes: never across currencies."""
    invoice = make_document(finance, finalise=True)
    credit = credit_note_create_from_invoice(actor=finance, invoice_id=invoice.pk)
    data = document_input_from(credit)
    data.currency, data.exchange_rate = "EUR", "1.1500"

    with pytest.raises(ApplicationError) as error:
        document_update(actor=finance, document_id=credit.pk, data=data)
    assert error.value.message == "A credit note is in the currency of its invoice (GBP), not EUR."
    assert error.value.field == "currency"
    with pytest.raises(ApplicationError, match="currency of its invoice"):
        document_create(actor=finance, data=data)
    credit.refresh_from_db()
    assert credit.currency == "GBP"


def test_partial_credit_note_takes_chosen_quantities(finance):
    invoice = make_document(
        finance, lines=[line("freight", quantity="4", unit_price="50")], finalise=True
    )
    invoice_line = invoice.lines.get()
    credit = credit_note_create_from_invoice(
        actor=finance, invoice_id=invoice.pk, quantities={invoice_line.pk: "1"}
    )
    assert credit.net_total == Decimal("50.00")
    assert credit.lines.get().credited_line_id == invoice_line.pk


def test_credit_notes_cannot_credit_more_than_the_invoice(finance):
    invoice = make_document(
        finance, lines=[line("freight", quantity="4", unit_price="238.00")], finalise=True
    )
    first = credit_note_create_from_invoice(actor=finance, invoice_id=invoice.pk)
    document_finalise(actor=finance, document_id=first.pk)
    with pytest.raises(ApplicationError, match="Nothing is left to credit"):
        credit_note_create_from_invoice(actor=finance, invoice_id=invoice.pk)
    # A credit note typed by hand (not from the invoice's lines) meets the total's check,
    # whose message reads amounts as money.
    data = document_input_from(first)
    data.lines[0].credited_line_id = None
    with pytest.raises(ApplicationError) as error:
        document_create(actor=finance, data=data)
    assert error.value.message == (
        "This credit note (1,142.40 GBP) is more than what is left to credit on "
        f"{invoice.number} (0.00 GBP)."
    )


def test_a_new_credit_takes_only_what_is_left_per_line(finance):
    invoice = make_document(
        finance,
        lines=[
            line("freight", quantity="4", unit_price="50"),
            line("tolls", quantity="2", unit_price="10"),
        ],
        finalise=True,
    )
    freight, tolls = invoice.lines.order_by("position", "id")
    first = credit_note_create_from_invoice(
        actor=finance, invoice_id=invoice.pk, quantities={freight.pk: "1"}
    )
    document_finalise(actor=finance, document_id=first.pk)
    assert lines_left_to_credit(invoice=invoice) == {
        freight.pk: Decimal("3"),
        tolls.pk: Decimal("2"),
    }
    rest = credit_note_create_from_invoice(actor=finance, invoice_id=invoice.pk)
    assert {ln.credited_line_id: ln.quantity for ln in rest.lines.all()} == {
        freight.pk: Decimal("3"),
        tolls.pk: Decimal("2"),
    }
    document_finalise(actor=finance, document_id=rest.pk)
    assert first.gross_total + rest.gross_total == invoice.gross_total


def test_a_credit_above_what_is_left_on_a_line_is_refused_naming_it(finance):
    invoice = make_document(
        finance, lines=[line("freight", quantity="4", unit_price="50")], finalise=True
    )
    freight = invoice.lines.get()
    first = credit_note_create_from_invoice(
        actor=finance, invoice_id=invoice.pk, quantities={freight.pk: "3"}
    )
    document_finalise(actor=finance, document_id=first.pk)
    with pytest.raises(ApplicationError) as error:
        credit_note_create_from_invoice(
            actor=finance, invoice_id=invoice.pk, quantities={freight.pk: "2"}
        )
    assert error.value.field == f"quantities[{freight.pk}]"
    assert "only 1 of the invoiced 4 is left to credit" in error.value.message


def test_a_viewer_cannot_create_or_finalise(company, finance):
    viewer = make_actor(company, Role.VIEWER)
    draft = make_document(finance)
    with pytest.raises(PermissionDeniedError, match="Viewer"):
        make_document(viewer)
    with pytest.raises(PermissionDeniedError):
        document_finalise(actor=viewer, document_id=draft.pk)


def test_a_document_of_another_company_is_not_found(finance):
    other = make_actor(make_company("Other Freight Ltd"), Role.SUPER_ADMIN)
    draft = make_document(other)
    with pytest.raises(ApplicationError, match="No such document"):
        document_finalise(actor=finance, document_id=draft.pk)


def test_negative_total_is_refused(finance):
    with pytest.raises(ApplicationError, match="cannot be negative"):
        make_document(finance, lines=[line("freight", unit_price="-10")])


def test_finalising_creates_no_tasks_when_no_task_type_applies(finance):
    document = make_document(finance, finalise=True)
    assert not Task.objects.filter(document=document).exists()


lines_strategy = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999"), places=4),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
        st.sampled_from(["S20", "Z0S", "EXS"]),
    ),
    min_size=1,
    max_size=8,
)


class TestHeaderTotalsProperty(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.actor = make_actor(make_company("Property Haulage Ltd"), Role.FINANCE)
        cls.partner = make_partner(cls.actor.company)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(lines_strategy)
    def test_header_totals_equal_the_sum_of_saved_lines(self, raw_lines):
        document = make_document(
            self.actor,
            partner=self.partner,
            lines=[
                line("freight", quantity=str(q), unit_price=str(p), discount=str(d), tax_rate=t)
                for q, p, d, t in raw_lines
            ],
        )
        saved = list(document.lines.all())
        assert document.net_total == sum((x.net_amount for x in saved), Decimal("0"))
        assert document.tax_total == sum((x.tax_amount for x in saved), Decimal("0"))
        assert document.gross_total == document.net_total + document.tax_total
        stored = Document.objects.get(pk=document.pk)
        assert stored.gross_total == document.gross_total
