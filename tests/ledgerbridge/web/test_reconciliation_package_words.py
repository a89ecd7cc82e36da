"""Reconciliation stores its differences in the port's words ("voided in the package",
"entered in the package, not posted from the TMS"); the page, its CSV and the document's
banner name the package: "voided in Xero"."""

from __future__ import annotations

import csv
import io

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconcileOutcome,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.web.templatetags.web import package_words
from tests.ledgerbridge.factories import make_actor, make_final_document

from .test_reconciliation import QUERY, URL, make_row, make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    run = make_run(company)
    document = make_final_document(make_actor(company, Role.FINANCE))
    voided = make_row(
        run, ReconcileOutcome.MISSING, document=document, differences=["voided in the package"]
    )
    typed = make_row(
        run,
        ReconcileOutcome.ONLY_IN_PACKAGE,
        number="INV-0298",
        differences=["entered in the package, not posted from the TMS"],
    )
    return voided, typed


def test_the_page_names_the_package_in_the_differences(client_for, rows):
    page = client_for(Role.VIEWER).get(f"{URL}?{QUERY}").content.decode()
    assert "voided in Xero" in page
    assert "entered in Xero, not posted from the TMS" in page
    assert "the package" not in page


def test_the_csv_names_the_package_in_the_differences(client_for, rows):
    answer = client_for(Role.VIEWER).get(f"{URL}?{QUERY}&tab=all&format=csv")
    table = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert {row["Differences"] for row in table} == {
        "voided in Xero",
        "entered in Xero, not posted from the TMS",
    }


def test_the_documents_banner_names_the_package(client_for, rows):
    voided, _ = rows
    page = client_for(Role.VIEWER).get(f"/invoices/{voided.document_id}/").content.decode()
    assert "voided in Xero" in page
    assert "voided in the package" not in page


def test_a_package_without_a_name_keeps_the_words():
    assert package_words("voided in the package", "") == "voided in the package"


def test_a_row_only_in_the_package_names_our_side_as_its_differences_do(client_for, rows):
    page = client_for(Role.VIEWER).get(f"{URL}?{QUERY}").content.decode()
    assert "Not in the TMS" in page
    assert "Not in LedgerBridge" not in page
