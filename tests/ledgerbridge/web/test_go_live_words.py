"""Going live in a Super Admin's words: the state names the package ("Matching what
Xero holds"), never the port's "the package", on the Going live page and on the
Accounting page's card; what matching read says bytes and calls as a sentence."""

from __future__ import annotations

import datetime as dt

import pytest

from ledgerbridge.accounting.models import (
    AccountingPackage,
    AccountingSettings,
    GoLive,
    GoLiveState,
)
from ledgerbridge.companies.models import Role

pytestmark = pytest.mark.django_db

STARTED = dt.datetime(2026, 12, 4, 23, 23, tzinfo=dt.UTC)


@pytest.fixture
def going_live(company):
    AccountingSettings.objects.update_or_create(
        company=company, defaults={"package": AccountingPackage.XERO_API}
    )
    return GoLive.objects.create(company=company, started_at=STARTED)


@pytest.mark.parametrize("url", ["/configuration/accounting/go-live", "/configuration/accounting/"])
def test_matching_names_the_package_not_the_port(client_for, going_live, url):
    page = client_for(Role.SUPER_ADMIN).get(url).content.decode()
    assert "Matching what Xero holds" in page
    assert "the package" not in page


def test_what_matching_read_is_a_sentence(client_for, going_live):
    going_live.state = GoLiveState.AWAITING
    going_live.matched_at = STARTED + dt.timedelta(minutes=3)
    going_live.calls, going_live.bytes_read = 3, 3_300
    going_live.save()
    page = client_for(Role.SUPER_ADMIN).get("/configuration/accounting/go-live")
    text = page.content.decode()
    assert "after reading 3.3\u00a0kB from Xero in 3 calls" in text
    assert "Matched, waiting for a Super Admin to confirm" in text
