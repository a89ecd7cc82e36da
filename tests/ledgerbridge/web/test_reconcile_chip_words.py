"""The invoice list's reconciliation chip names the package: "Missing in Xero", and its
tooltip "voided in Xero", not the port's "the package"."""

from __future__ import annotations

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconcileOutcome,
)
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import make_actor, make_final_document

from .test_reconciliation import make_row, make_run

pytestmark = pytest.mark.django_db


def test_the_chip_and_its_tooltip_name_the_package(client_for, company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    run = make_run(company)
    voided = make_final_document(make_actor(company, Role.FINANCE))
    make_row(run, ReconcileOutcome.MISSING, document=voided, differences=["voided in the package"])
    never = make_final_document(make_actor(company, Role.FINANCE))
    make_row(run, ReconcileOutcome.MISSING, document=never, differences=[])
    page = client_for(Role.VIEWER).get("/invoices/").content.decode()
    assert page.count(">Missing in Xero</a>") == 2
    assert 'title="Reconciliation: voided in Xero"' in page
    assert 'title="Reconciliation: Missing in Xero"' in page
    assert "the package" not in page
