"""How a reconciliation row's values read on the page: dates as every page shows them,
amounts with their currency (each side its own), and long values wrapping inside the
table at 1280 px rather than pushing the actions off the screen."""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings
from ledgerbridge.companies.models import Role

from .test_reconciliation import QUERY, URL, make_row, make_run, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    return make_run(company)


def shown(client_for, row, tab="differs"):
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab={tab}")
    [page_row] = [r for r in response.context["page"].object_list if r.pk == row.pk]
    return {c.key: (c.ours, c.theirs) for c in page_row.compared}, response.content.decode()


def test_dates_read_as_on_every_page(client_for, run):
    row = make_row(
        run,
        ours=values(due_date="2026-12-02"),
        theirs=values(gross="1000.00", due_date="2027-02-15"),
    )
    compared, page = shown(client_for, row)
    assert compared["date"] == ("2 Nov 2026", "2 Nov 2026")
    assert compared["due_date"] == ("2 Dec 2026", "15 Feb 2027")
    assert "2026-11-02" not in page


def test_amounts_carry_their_currency_each_side_its_own(client_for, run):
    row = make_row(
        run,
        ours=values(currency="GBP"),
        theirs=values(gross="1000.00", currency="EUR"),
    )
    compared, _ = shown(client_for, row)
    assert compared["gross"] == ("1,200.00 GBP", "1,000.00 EUR")


def test_a_value_not_a_date_is_shown_as_it_is(client_for, run):
    row = make_row(run, ours=values(date="soon"), theirs=values(gross="1000.00", date="soon"))
    compared, _ = shown(client_for, row)
    assert compared["date"] == ("soon", "soon")


def test_a_value_the_package_did_not_give_is_not_marked_as_differing(client_for, run):
    row = make_row(
        run,
        ours=values(line_count="2"),
        theirs=values(gross="1000.00", status="voided", line_count=""),
    )
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=differs")
    [page_row] = [r for r in response.context["page"].object_list if r.pk == row.pk]
    marked = {c.key for c in page_row.compared if c.differs}
    assert "line_count" not in marked
    assert "gross" in marked
