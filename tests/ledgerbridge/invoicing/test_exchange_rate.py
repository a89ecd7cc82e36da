"""A document in another currency keeps the rate its VAT is stated at in the company's currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.errors import ApplicationError
from ledgerbridge.invoicing.services import (
    DocumentInput,
    credit_note_create_from_invoice,
    document_create,
    document_input_from,
)
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return make_actor(make_company(), Role.FINANCE)


@pytest.fixture
def eur_customer(actor):
    return make_partner(actor.company, currency="EUR")


def test_the_rate_and_its_source_are_kept_and_read_back_for_editing(actor, eur_customer):
    document = make_document(
        actor, partner=eur_customer, exchange_rate="1,165.5", exchange_rate_source=" ECB "
    )
    assert document.exchange_rate == Decimal("1165.500000")
    assert document.exchange_rate_text == "1165.5"
    assert document.exchange_rate_source == "ECB"
    again = document_input_from(document)
    assert (again.exchange_rate, again.exchange_rate_source) == (Decimal("1165.5"), "ECB")


def test_a_document_in_the_company_currency_takes_no_rate(actor):
    with pytest.raises(ApplicationError, match="A document in GBP, the company's currency") as e:
        make_document(actor, exchange_rate="1")
    assert e.value.field == "exchange_rate"


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("0", "must be between 0.000001 and 99,999,999.999999"),
        ("-1.2", "must be between"),
        ("1.1234567", "at most 6 decimal places"),
        ("1,2", "ambiguous"),
    ],
)
def test_a_rate_out_of_its_bound_is_refused_in_words(actor, eur_customer, rate, message):
    with pytest.raises(ApplicationError, match=message) as e:
        make_document(actor, partner=eur_customer, exchange_rate=rate)
    assert e.value.field == "exchange_rate"
    assert "Exchange rate (EUR per 1 GBP)" in str(e.value)


def test_a_source_without_a_rate_is_refused(actor, eur_customer):
    with pytest.raises(ApplicationError, match="A rate source goes with an exchange rate"):
        make_document(actor, partner=eur_customer, exchange_rate_source="HMRC")


def test_a_credit_note_takes_the_rate_of_the_invoice_it_corrects(actor, eur_customer):
    invoice = make_document(
        actor, partner=eur_customer, finalise=True, exchange_rate="1.17", exchange_rate_source="X"
    )
    credit = credit_note_create_from_invoice(
        actor=actor, invoice_id=invoice.pk, issue_date=dt.date(2026, 12, 1)
    )
    assert (credit.exchange_rate, credit.exchange_rate_source) == (Decimal("1.17"), "X")


def test_without_a_rate_a_foreign_document_is_still_saved(actor, eur_customer):
    document = document_create(
        actor=actor,
        data=DocumentInput(
            type="sales_invoice",
            partner_id=eur_customer.pk,
            issue_date=dt.date(2026, 11, 2),
            lines=[line()],
        ),
    )
    assert document.currency == "EUR" and document.exchange_rate is None
