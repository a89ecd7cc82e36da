import datetime as dt

import pytest

from ledgerbridge import validation
from ledgerbridge.accounting.outstanding import bucket_of
from ledgerbridge.companies.models import Company, User
from ledgerbridge.demo import DEMO_COMPANY, demo_load
from ledgerbridge.invoicing.models import Document, DocumentStatus, Partner

pytestmark = pytest.mark.django_db


# One test builds the demo and checks all of it: building it takes several seconds (most
# of this file's time), so it is built once, not once per thing to check.
def test_demo_builds_a_haulage_company_once_that_reads_like_a_real_ledger():
    today = dt.date(2026, 11, 24)
    assert demo_load(today=today, progress=lambda _: None) is True
    company = Company.objects.get(legal_name=DEMO_COMPANY)
    assert Partner.objects.filter(company=company, kind="customer").count() == 30
    assert Partner.objects.filter(company=company, kind="supplier").count() == 10
    finals = Document.objects.filter(company=company, status=DocumentStatus.FINAL)
    assert finals.count() >= 300
    assert finals.filter(type="sales_credit_note").exists()
    assert finals.filter(type="purchase_invoice").exists()
    assert set(finals.values_list("lines__charge_type", flat=True)) >= {
        "freight",
        "fuel_surcharge",
        "waiting_time",
        "tolls",
    }
    assert User.objects.get(username="admin").check_password("admin-demo-pass")
    # Invoices say how to pay, with bank details a bank would accept, and euro
    # invoices state their VAT in pounds at a rate with its source.
    for demo in Company.objects.all():
        assert validation.sort_code(demo.bank_sort_code) == demo.bank_sort_code
        assert validation.account_number(demo.bank_account_number) == demo.bank_account_number
        assert validation.iban(demo.bank_iban) == demo.bank_iban
        assert validation.bic(demo.bank_bic) == demo.bank_bic
    euro = Document.objects.filter(currency="EUR", type__startswith="sales_")
    assert euro.exists()
    assert not euro.filter(exchange_rate=None).exists()
    assert not euro.filter(exchange_rate_source="").exists()
    # It reads like a real ledger.
    for company in Company.objects.all():
        finals = Document.objects.filter(company=company, status=DocumentStatus.FINAL)
        for doc_type in finals.values_list("type", flat=True).distinct():
            documents = list(finals.filter(type=doc_type).order_by("number"))
            dates = [d.issue_date for d in documents]
            assert dates == sorted(dates), f"{company} {doc_type}: numbers run against dates"
        for document in finals:
            assert document.created_at <= document.finalised_at, document
            assert document.finalised_at.date() == document.issue_date, document
    # Sales invoices in every ageing bucket (on due dates), in pounds and in euros.
    northway = Document.objects.filter(
        company__legal_name=DEMO_COMPANY, type="sales_invoice", status=DocumentStatus.FINAL
    )
    for currency in ("GBP", "EUR"):
        overdue = [(today - d.due_date).days for d in northway.filter(currency=currency)]
        for bucket in ("current", "1_30", "31_60", "61_90", "over_90"):
            assert sum(bucket_of(days) == bucket for days in overdue) >= 2, (currency, bucket)

    # Loading it again adds nothing.
    counts = Document.objects.count(), Partner.objects.count(), User.objects.count()
    assert demo_load(today=today, progress=lambda _: None) is False
    assert (Document.objects.count(), Partner.objects.count(), User.objects.count()) == counts


def test_the_demo_command_loads_nothing_twice_and_prints_the_logins(capsys):
    from ledgerbridge.cli import main

    Company.objects.create(legal_name=DEMO_COMPANY)

    assert main(["demo"]) == 0

    out = capsys.readouterr().out
    assert "Demo data already loaded." in out
    assert "staff / staff-demo-pass" in out and "admin / admin-demo-pass" in out
    assert Document.objects.count() == 0
