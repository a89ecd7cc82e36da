import datetime as dt

import pytest

from ledgerbridge import validation
from ledgerbridge.companies.models import Company, User
from ledgerbridge.demo import DEMO_COMPANY, demo_load
from ledgerbridge.invoicing.models import Document, DocumentStatus, Partner

pytestmark = pytest.mark.django_db


def test_demo_builds_a_haulage_company_once():
    assert demo_load(today=dt.date(2026, 11, 24), progress=lambda _: None) is True
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

    counts = Document.objects.count(), Partner.objects.count(), User.objects.count()
    assert demo_load(today=dt.date(2026, 11, 24), progress=lambda _: None) is False
    assert (Document.objects.count(), Partner.objects.count(), User.objects.count()) == counts
