"""A reconciliation that could not finish compared nothing: the page says so with its
reason, and never shows its empty tabs as "every document agrees"; the rows of the
last run of the period that finished still show below."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    ReconcileRunStatus,
)
from ledgerbridge.companies.models import Role

from .test_reconciliation import QUERY, STARTED, URL, make_row, make_run

pytestmark = pytest.mark.django_db

WHY = "Xero could not be reached; start it again in a minute."


@pytest.fixture
def api_company(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    return company


def failed_run(company, started=STARTED + dt.timedelta(hours=1)):
    return make_run(
        company,
        started=started,
        status=ReconcileRunStatus.FAILED,
        documents_read=0,
        calls=0,
        bytes_read=0,
        error=WHY,
    )


def test_a_failed_run_alone_says_nothing_was_compared_and_shows_no_tabs(client_for, api_company):
    failed_run(api_company)
    page = client_for(Role.FINANCE).get(f"{URL}?{QUERY}").content.decode()
    assert "could not finish, so nothing was compared." in page
    assert WHY in page
    assert "Nothing to look at" not in page
    assert 'id="tab-open"' not in page
    assert 'id="reconcile-start"' in page  # to start it again


def test_the_last_finished_runs_rows_show_below_a_failed_one(client_for, api_company):
    done = make_run(api_company)
    row = make_row(done, number="INV-STILL-DIFFERS")
    failed_run(api_company)
    response = client_for(Role.VIEWER).get(f"{URL}?{QUERY}")
    page = " ".join(response.content.decode().split())
    assert "could not finish, so nothing was compared." in page
    assert "Below: the last one that finished." in page
    assert response.context["run"] == done
    assert [r.pk for r in response.context["page"].object_list] == [row.pk]
