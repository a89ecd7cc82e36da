import datetime as dt

import pytest

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

    counts = Document.objects.count(), Partner.objects.count(), User.objects.count()
    assert demo_load(today=dt.date(2026, 11, 24), progress=lambda _: None) is False
    assert (Document.objects.count(), Partner.objects.count(), User.objects.count()) == counts
