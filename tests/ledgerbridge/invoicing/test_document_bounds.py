"""The services refuse figures outside their bounds, all of them at once, before
anything is saved; configuration numbers stay where the product can use them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError, InvalidInputError
from ledgerbridge.invoicing import configuration as config
from ledgerbridge.invoicing.models import Dimension, Document, NumberSeries
from ledgerbridge.invoicing.selectors import tax_rate_default
from ledgerbridge.invoicing.services import credit_note_create_from_invoice, document_finalise
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return make_actor(make_company(), Role.FINANCE)


@pytest.fixture
def admin(actor):
    return make_actor(actor.company, Role.SUPER_ADMIN)


def test_every_bad_figure_of_every_line_is_one_error(actor):
    lines = [
        line(quantity="1,5", unit_price="99999999999999999999", discount="150", tax_rate=" "),
        line(quantity="-1", unit_price="abc"),
    ]
    lines[0].tax_rate = ""
    with pytest.raises(InvalidInputError) as caught:
        make_document(actor, lines=lines)
    messages = {error.field: error.message for error in caught.value.errors}
    assert messages == {
        "lines[0].quantity": (
            "Line 1: quantity “1,5” is ambiguous: use a dot for decimals (1.5), "
            "and commas only between groups of three digits (1,000.50)."
        ),
        "lines[0].unit_price": (
            "Line 1: unit price must be between -9,999,999,999.9999 and 9,999,999,999.9999."
        ),
        "lines[0].discount_percent": "Line 1: discount must be between 0 and 100 %.",
        "lines[0].tax_rate": "Line 1: choose a tax rate.",
        "lines[1].quantity": "Line 2: quantity must be between 0.0001 and 99,999,999.9999.",
        "lines[1].unit_price": "Line 2: unit price “abc” is not a number.",
    }
    assert Document.objects.count() == 0


def test_figures_typed_with_a_currency_sign_or_thousands_separators_are_read(actor):
    document = make_document(actor, lines=[line(quantity=" 2 ", unit_price="£1,000.50")])
    saved = document.lines.get()
    assert (saved.quantity, saved.unit_price, saved.net_amount) == (
        Decimal("2"),
        Decimal("1000.50"),
        Decimal("2001.00"),
    )


def test_a_credit_quantity_that_is_not_a_number_names_the_line(actor):
    invoice = make_document(actor, finalise=True)
    first = invoice.lines.first()
    with pytest.raises(ApplicationError) as caught:
        credit_note_create_from_invoice(
            actor=actor, invoice_id=invoice.pk, quantities={first.pk: "1e400"}
        )
    assert caught.value.field == f"quantities[{first.pk}]"
    assert "not a number" in caught.value.message


def test_the_default_tax_rate_is_the_standard_rate_of_each_side(actor):
    assert tax_rate_default(actor=actor, sales=True).code == "S20"
    assert tax_rate_default(actor=actor, sales=False).code == "S20P"


def test_the_next_number_cannot_be_set_past_the_last_number_a_series_can_issue(admin):
    series = NumberSeries.objects.get(company=admin.company, document_type="sales_invoice")
    with pytest.raises(ApplicationError) as caught:
        config.number_series_save(
            actor=admin,
            pk=series.pk,
            prefix="INV-",
            padding=5,
            reset_yearly=True,
            next_number=9223372036854775807,
        )
    assert caught.value.field == "next_number"
    assert "between 1 and 999,999,999" in caught.value.message
    series.refresh_from_db()
    assert series.next_number == 1


def test_a_series_stored_past_its_last_number_can_be_brought_back(admin):
    series = NumberSeries.objects.get(company=admin.company, document_type="sales_invoice")
    NumberSeries.objects.filter(pk=series.pk).update(next_number=2147483647)
    config.number_series_save(
        actor=admin, pk=series.pk, prefix="INV-", padding=5, reset_yearly=True, next_number=7
    )
    series.refresh_from_db()
    assert series.next_number == 7


def test_a_series_at_its_last_number_issues_it_then_refuses_clearly(actor):
    NumberSeries.objects.filter(company=actor.company, document_type="sales_invoice").update(
        reset_yearly=False, next_number=999999999
    )
    assert make_document(actor, finalise=True).number == "INV-999999999"
    draft = make_document(actor)
    with pytest.raises(ApplicationError, match="has issued its last number"):
        document_finalise(actor=actor, document_id=draft.pk)
    draft.refresh_from_db()
    assert draft.is_draft


@pytest.mark.parametrize("position", ["99999999999999999999", "-1", "1.5", "ten"])
def test_a_dimension_position_out_of_range_is_refused(admin, position):
    with pytest.raises(ApplicationError) as caught:
        config.dimension_save(actor=admin, name="Depot", position=position)
    assert caught.value.field == "position"
    assert not Dimension.objects.filter(company=admin.company, name="Depot").exists()


def test_a_rule_position_out_of_range_is_refused(admin):
    dimension = Dimension.objects.filter(company=admin.company).first()
    value = dimension.values.first()
    with pytest.raises(ApplicationError) as caught:
        config.dimension_rule_save(
            actor=admin,
            dimension_id=dimension.pk,
            position=99999999999999999999,
            conditions=[],
            value_id=value.pk,
        )
    assert caught.value.field == "position"
    assert "between 0 and 9,999" in caught.value.message
