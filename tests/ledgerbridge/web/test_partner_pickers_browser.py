"""In chromium: a partner picker with many partners fills its list from what is typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.companies.models import Role
from ledgerbridge.web.forms import PICKER_LISTED
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_document,
    make_partner,
    make_user,
)

from .test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finding_a_partner_filters_the_invoice_list(page: Page, live_server, transactional_db):
    company = make_company("Northern Haulage Ltd")
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    for i in range(PICKER_LISTED):
        make_partner(company, name=f"Haulier {i:03d} Ltd")
    zephyr = make_partner(company, name="Zephyr Transport", number="C7001")
    actor = make_actor(company)
    make_document(actor, partner=zephyr, finalise=True)
    make_document(actor, partner=company.partners.first(), finalise=True)
    errors: list[str] = []
    # Refused scripts (CSP) and script errors; a missing favicon is no concern here.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "fiona", "lorry-load-42")

    expect(page.locator("#results tbody tr")).to_have_count(2)
    page.get_by_label("Find a partner").fill("zeph")
    expect(page.locator("#id_partner option")).to_have_count(2)
    page.locator("#id_partner").select_option(label="Zephyr Transport (C7001)")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr td.partner")).to_have_text("Zephyr Transport")
    assert f"partner={zephyr.pk}" in page.url
    assert not errors
