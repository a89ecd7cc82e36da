"""Invoices > Outstanding: receivables and payables per currency, aged, as Xero reported them.

The payment states are written as the Xero adapter stores them (its own tests
cover reading them from Xero); here they are the input, so each case can put a
document exactly where it needs it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client

from ledgerbridge.accounting.models import (
    PaymentLine,
    PaymentState,
    PaymentStatus,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.accounting.outstanding import (
    BUCKETS,
    OutstandingFilters,
    bucket_of,
    outstanding_documents,
    outstanding_get,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import DocumentType, PartnerKind
from tests.ledgerbridge.factories import (
    PASSWORD,
    line,
    make_actor,
    make_company,
    make_document,
    make_partner,
    make_user,
    system_actor,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 12, 4)
CHECKED = dt.datetime(2026, 12, 4, 9, 15, tzinfo=dt.UTC)
KEYS = [key for key, *_ in BUCKETS]


@pytest.fixture
def actor():
    return make_actor(make_company(), Role.FINANCE)


def open_document(
    actor,
    *,
    days_overdue: int = 0,
    due: str = "100.00",
    currency: str = "GBP",
    partner=None,
    type: str = DocumentType.SALES_INVOICE,
    status: str = PaymentStatus.UNPAID,
    payments: list[tuple[dt.date, str]] = (),
):
    """A finalised document that Xero reported with ``due`` left to pay (or credit left)."""
    sales = type in (DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE)
    if partner is None:
        partner = make_partner(
            actor.company, PartnerKind.CUSTOMER if sales else PartnerKind.SUPPLIER
        )
    due_date = AS_OF - dt.timedelta(days=days_overdue)
    if type in (DocumentType.SALES_CREDIT_NOTE, DocumentType.PURCHASE_CREDIT_NOTE):
        original = make_document(
            actor,
            DocumentType.SALES_INVOICE if sales else DocumentType.PURCHASE_INVOICE,
            partner=partner,
            lines=[line(sales=sales, unit_price="500")],
            currency=currency,
            issue_date=due_date - dt.timedelta(days=30),
            finalise=True,
        )
        document = make_document(
            actor,
            type,
            partner=partner,
            lines=[line(sales=sales, unit_price="500")],
            currency=currency,
            issue_date=due_date - dt.timedelta(days=30),
            due_date=due_date,
            original_id=original.pk,
            finalise=True,
        )
    else:
        document = make_document(
            actor,
            type,
            partner=partner,
            lines=[line(sales=sales, unit_price="500")],
            currency=currency,
            issue_date=due_date - dt.timedelta(days=30),
            due_date=due_date,
            finalise=True,
        )
    record = SyncRecord.objects.create(
        company=actor.company, document=document, status=SyncStatus.POSTED, external_id="x"
    )
    state = PaymentState.objects.create(
        record=record,
        company=actor.company,
        status=status,
        total=document.gross_total,
        amount_due=Decimal(due),
        amount_paid=document.gross_total - Decimal(due),
        last_checked_at=CHECKED,
    )
    for i, (day, amount) in enumerate(payments):
        PaymentLine.objects.create(state=state, external_id=f"p{i}", date=day, amount=amount)
    return document


def overview(actor, **filters):
    return outstanding_get(actor=actor, filters=OutstandingFilters(as_of=AS_OF, **filters))


# ------------------------------------------------------------------ ageing


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1_30"),
        (30, "1_30"),
        (31, "31_60"),
        (60, "31_60"),
        (61, "61_90"),
        (90, "61_90"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_a_document_is_aged_by_days_past_its_due_date(days, bucket):
    assert bucket_of(days) == bucket


def test_the_database_puts_each_boundary_day_in_the_same_bucket(actor):
    customer = make_partner(actor.company)
    days = [0, 1, 30, 31, 60, 61, 90, 91]
    for i, d in enumerate(days):
        open_document(actor, days_overdue=d, due=str(10**i), partner=customer)
    [gbp] = overview(actor).currencies
    expected = dict.fromkeys(KEYS, Decimal(0))
    for i, d in enumerate(days):
        expected[bucket_of(d)] += 10**i
    assert gbp.buckets == expected
    assert gbp.buckets == {
        "current": 1,
        "1_30": 10 + 100,
        "31_60": 1_000 + 10_000,
        "61_90": 100_000 + 1_000_000,
        "over_90": 10_000_000,
    }
    documents = outstanding_documents(actor=actor, filters=OutstandingFilters(as_of=AS_OF))
    assert sorted(d.days_overdue for d in documents) == days
    for document in documents:
        assert document.bucket == bucket_of(document.days_overdue)
    for key in KEYS:
        [row] = overview(actor, bucket=key).currencies
        assert row.total == expected[key]


def test_moving_the_as_of_date_ages_the_same_documents_again(actor):
    open_document(actor, days_overdue=0, due="250.00")
    later = outstanding_get(
        actor=actor, filters=OutstandingFilters(as_of=AS_OF + dt.timedelta(days=31))
    )
    assert later.currencies[0].buckets["31_60"] == Decimal("250.00")
    assert overview(actor).currencies[0].buckets["current"] == Decimal("250.00")


# ------------------------------------------------------------------ currencies


@pytest.fixture
def three_currencies(actor):
    """Two customers owing in GBP, EUR and USD, in several buckets."""
    albion = make_partner(actor.company, name="Albion Foods Ltd")
    bretagne = make_partner(actor.company, name="Bretagne Primeurs SARL", currency="EUR")
    open_document(actor, partner=albion, due="1200.00", days_overdue=5)
    open_document(actor, partner=albion, due="800.50", days_overdue=-3)
    open_document(actor, partner=albion, due="99.99", currency="USD", days_overdue=45)
    open_document(actor, partner=bretagne, due="700.00", currency="EUR", days_overdue=95)
    open_document(actor, partner=bretagne, due="300.25", currency="EUR", days_overdue=20)
    open_document(actor, partner=bretagne, due="50.00", currency="GBP", days_overdue=70)
    return albion, bretagne


def test_totals_are_per_currency_and_never_mixed(actor, three_currencies):
    totals = {row.currency: row.total for row in overview(actor).currencies}
    assert totals == {
        "EUR": Decimal("1000.25"),
        "GBP": Decimal("2050.50"),
        "USD": Decimal("99.99"),
    }


def test_the_totals_equal_the_sum_of_the_rows_per_currency(actor, three_currencies):
    result = overview(actor)
    assert len(result.partners) == 4  # Albion GBP and USD, Bretagne EUR and GBP
    for total in result.currencies:
        rows = [row for row in result.partners if row.currency == total.currency]
        assert total.total == sum(row.total for row in rows)
        assert total.documents == sum(row.documents for row in rows)
        for key in KEYS:
            assert total.buckets[key] == sum(row.buckets[key] for row in rows)
        assert total.total == sum(total.buckets.values())
        documents = outstanding_documents(
            actor=actor, filters=OutstandingFilters(as_of=AS_OF, currency=total.currency)
        )
        assert {d.currency for d in documents} == {total.currency}
        assert total.total == sum(d.amount_due for d in documents)


def test_filters_narrow_rows_and_totals_alike(actor, three_currencies):
    albion, _ = three_currencies
    result = overview(actor, partner_id=albion.pk)
    assert {row.currency: row.total for row in result.currencies} == {
        "GBP": Decimal("2000.50"),
        "USD": Decimal("99.99"),
    }
    assert {row.partner_id for row in result.partners} == {albion.pk}
    assert [row.total for row in overview(actor, currency="EUR").currencies] == [Decimal("1000.25")]
    overdue_1_30 = overview(actor, bucket="1_30")
    assert {row.currency: row.total for row in overdue_1_30.currencies} == {
        "GBP": Decimal("1200.00"),
        "EUR": Decimal("300.25"),
    }


# ------------------------------------------------------------------ what counts


def test_paid_voided_and_unposted_documents_are_not_outstanding(actor):
    open_document(actor, due="0.00", status=PaymentStatus.PAID)
    open_document(actor, due="0.00", status=PaymentStatus.VOIDED)
    make_document(actor, finalise=True)  # never reported by Xero
    open_document(actor, due="40.00", status=PaymentStatus.PARTLY_PAID)
    assert [row.total for row in overview(actor).currencies] == [Decimal("40.00")]


def test_unused_credit_counts_against_the_customer(actor):
    customer = make_partner(actor.company)
    open_document(actor, partner=customer, due="500.00")
    open_document(actor, partner=customer, due="120.00", type=DocumentType.SALES_CREDIT_NOTE)
    [row] = overview(actor).partners
    assert row.total == Decimal("380.00")
    credit = [
        d
        for d in outstanding_documents(actor=actor, filters=OutstandingFilters(as_of=AS_OF))
        if d.is_credit_note
    ]
    assert [d.amount_due for d in credit] == [Decimal("-120.00")]


def test_receivables_and_payables_are_apart(actor):
    open_document(actor, due="300.00")
    open_document(actor, due="75.00", type=DocumentType.PURCHASE_INVOICE)
    assert [r.total for r in overview(actor).currencies] == [Decimal("300.00")]
    payables = overview(actor, side="payables")
    assert [r.total for r in payables.currencies] == [Decimal("75.00")]
    assert payables.label == "Payables"


def test_another_companys_documents_never_count(actor):
    open_document(actor, due="10.00")
    other = make_actor(make_company(), Role.FINANCE)
    open_document(other, due="99999.00")
    assert [r.total for r in overview(actor).currencies] == [Decimal("10.00")]
    assert len(outstanding_documents(actor=actor, filters=OutstandingFilters(as_of=AS_OF))) == 1


def test_each_document_shows_its_last_payment_and_when_xero_was_asked(actor):
    open_document(
        actor,
        due="60.00",
        status=PaymentStatus.PARTLY_PAID,
        payments=[(dt.date(2026, 11, 1), "100.00"), (dt.date(2026, 11, 20), "440.00")],
    )
    [document] = outstanding_documents(actor=actor, filters=OutstandingFilters(as_of=AS_OF))
    assert document.last_payment_date == dt.date(2026, 11, 20)
    assert document.last_payment_amount == Decimal("440.00")
    assert document.last_checked_at == CHECKED
    assert overview(actor).checked_to == CHECKED


def test_the_queries_do_not_grow_with_the_documents(actor, django_assert_max_num_queries):
    for i in range(12):
        open_document(actor, due="10.00", days_overdue=i * 10, payments=[(AS_OF, "1.00")])
    with django_assert_max_num_queries(3):
        overview(actor)
    with django_assert_max_num_queries(1):
        outstanding_documents(actor=actor, filters=OutstandingFilters(as_of=AS_OF))


# ------------------------------------------------------------------ page, CSV, API


def login(company, role) -> Client:
    client = Client()
    user = make_user(company, role)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_viewer_reads_totals_per_currency_and_an_ageing_chart(actor, three_currencies):
    html = (
        login(actor.company, Role.VIEWER)
        .get(f"/invoices/outstanding?as_of={AS_OF}")
        .content.decode()
    )
    assert '2,050.50 <span class="cur">GBP</span>' in html
    assert '1,000.25 <span class="cur">EUR</span>' in html
    assert '99.99 <span class="cur">USD</span>' in html
    assert html.count("<svg") == 3
    assert "Checked 4 Dec 2026" in html or "checked 4 Dec 2026" in html
    assert "Albion Foods Ltd" in html and "Bretagne Primeurs SARL" in html
    assert " style=" not in html  # the page's policy forbids inline styles


def test_a_customer_row_drills_down_to_its_documents(actor, three_currencies):
    albion, _ = three_currencies
    client = login(actor.company, Role.VIEWER)
    response = client.get(f"/invoices/outstanding?as_of={AS_OF}&partner={albion.pk}&currency=GBP")
    html = response.content.decode()
    documents = outstanding_documents(
        actor=actor, filters=OutstandingFilters(as_of=AS_OF, partner_id=albion.pk, currency="GBP")
    )
    assert len(documents) == 2
    for document in documents:
        assert f'href="/invoices/{document.document_id}/"' in html
        assert document.number in html
    assert "USD" not in html.split('id="outstanding-documents"')[1]


def test_the_csv_lists_every_document_with_cells_a_spreadsheet_will_not_run(actor):
    hostile = make_partner(actor.company, name='=HYPERLINK("http://x","y")')
    open_document(actor, partner=hostile, due="12.34", days_overdue=31)
    response = login(actor.company, Role.VIEWER).get(
        f"/invoices/outstanding?as_of={AS_OF}&format=csv"
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "receivables-2026-12-04.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["Customer", "Type", "Number"]
    [row] = rows[1:]
    assert row[0] == "'" + hostile.name
    assert row[5:10] == ["31", "31–60 days", "GBP", row[8], "12.34"]


def test_the_api_gives_the_same_figures(actor, three_currencies):
    _, raw = api_token_create(actor=system_actor(actor.company), name="TMS", role=Role.VIEWER)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api.get(f"/api/outstanding?as_of={AS_OF}").json()
    assert {c["currency"]: c["total"] for c in body["currencies"]} == {
        "EUR": "1000.25",
        "GBP": "2050.50",
        "USD": "99.99",
    }
    gbp = next(c for c in body["currencies"] if c["currency"] == "GBP")
    assert [b["key"] for b in gbp["buckets"]] == KEYS
    assert body["checked_to"].startswith("2026-12-04T09:15")
    documents = api.get(f"/api/outstanding/documents?as_of={AS_OF}&currency=eur").json()
    assert documents["count"] == 2
    assert {d["currency"] for d in documents["items"]} == {"EUR"}
    assert sorted(d["bucket"] for d in documents["items"]) == ["1_30", "over_90"]
    assert api.get("/api/outstanding?bucket=soon").status_code == 422


def test_a_bucket_holding_more_credit_than_debt_is_drawn_as_credit(actor):
    open_document(actor, due="500.00", days_overdue=5)
    open_document(actor, due="80.00", days_overdue=95, type=DocumentType.SALES_CREDIT_NOTE)
    html = (
        login(actor.company, Role.VIEWER)
        .get(f"/invoices/outstanding?as_of={AS_OF}")
        .content.decode()
    )
    assert html.count("age-credit") == 1
    assert '<g class="age-bar age-over_90 age-credit">' in html
    assert "grey: more credit than due" in html


def test_an_as_of_date_at_the_edge_of_the_calendar_still_answers(actor):
    open_document(actor, due="10.00")
    client = login(actor.company, Role.VIEWER)
    for as_of in ("0001-01-01", "9999-12-31", "not-a-date"):
        assert client.get(f"/invoices/outstanding?as_of={as_of}").status_code == 200
        assert client.get(f"/invoices/outstanding?as_of={as_of}&format=csv").status_code == 200
        assert client.get(f"/api/outstanding?as_of={as_of}").status_code in (200, 422)
        assert client.get(f"/api/outstanding/documents?as_of={as_of}").status_code in (200, 422)


def test_the_page_asks_the_database_as_often_for_many_documents_as_for_one(actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(actor.company, Role.VIEWER)
    customer = make_partner(actor.company)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            url = f"/invoices/outstanding?as_of={AS_OF}&partner={customer.pk}"
            assert client.get(url).status_code == 200
        return len(captured)

    open_document(actor, partner=customer, payments=[(AS_OF, "1.00")])
    queries()  # the first view writes the current company to the session
    one = queries()
    for i in range(8):
        open_document(actor, partner=customer, days_overdue=i * 13, payments=[(AS_OF, "1.00")])
        open_document(actor, days_overdue=i * 13, currency="EUR")
    assert queries() == one
