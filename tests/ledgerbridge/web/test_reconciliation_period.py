"""The period a clerk types on Invoices > Reconciliation: a day not on the calendar, a
period ending before it starts or longer than a year is said in words next to it, the
page says which period it shows instead and offers no button to reconcile that other
period; a period over two years reads with both years."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconciliationRun,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.web.templatetags.web import period

pytestmark = pytest.mark.django_db

URL = "/invoices/reconciliation/"


@pytest.fixture
def api_company(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    return company


def test_a_period_within_a_year_names_its_year_once_and_across_years_both():
    assert period(dt.date(2026, 12, 1), dt.date(2026, 12, 31)) == "1 Dec – 31 Dec 2026"
    assert period(dt.date(2025, 12, 1), dt.date(2026, 1, 31)) == "1 Dec 2025 – 31 Jan 2026"


def test_the_button_names_both_years_of_a_period_across_two(client_for, api_company):
    page = client_for(Role.FINANCE).get(f"{URL}?date_from=2025-12-01&date_to=2026-01-31")
    text = " ".join(page.content.decode().split())
    assert "Reconcile 1 Dec 2025 – 31 Jan 2026 now" in text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("date_from=2026-02-30&date_to=2026-03-05", "The first day is not a date on the calendar."),
        ("date_from=2026-03-01&date_to=2026-02-30", "The last day is not a date on the calendar."),
        ("date_from=2026-11-30&date_to=2026-11-01", "The period ends before it starts."),
        ("date_from=2016-01-01&date_to=2026-12-31", "Reconcile at most a year at a time"),
        ("date_from=0001-01-01&date_to=9999-12-31", "Reconcile at most a year at a time"),
    ],
)
def test_a_wrong_period_is_said_and_no_other_period_is_offered(
    client_for, api_company, query, words
):
    response = client_for(Role.FINANCE).get(f"{URL}?{query}")
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert words in page
    assert "until the period above is corrected" in page
    assert 'id="reconcile-start"' not in page


def test_a_right_period_offers_its_button(client_for, api_company):
    page = client_for(Role.FINANCE).get(f"{URL}?date_from=2026-11-01&date_to=2026-11-30")
    assert 'id="reconcile-start"' in page.content.decode()
    assert "reconcile-period-error" not in page.content.decode()


def test_starting_a_run_of_a_wrong_period_says_what_is_wrong(client_for, api_company):
    response = client_for(Role.FINANCE).post(
        f"{URL}start", {"date_from": "2026-11-30", "date_to": "2026-11-01"}, follow=True
    )
    assert "Nothing was started. The period ends before it starts." in response.content.decode()
    assert not ReconciliationRun.objects.exists()
