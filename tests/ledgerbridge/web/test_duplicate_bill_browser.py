"""In chromium, as Finance: a bill entered twice is refused on its page with a link to the
first, and finalised anyway only with a reason."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.invoicing.models import DocumentStatus, DocumentType, PartnerKind
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document, make_partner

from .test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LEDGERBRIDGE_SCREENSHOTS", "/tmp/ledgerbridge-screenshots"))


@pytest.fixture
def bills(transactional_db):
    from tests.ledgerbridge.factories import make_user

    company = make_company("Northern Haulage Ltd")
    make_user(company, Role.FINANCE, username="fiona", password="lorry-load-42")
    actor = make_actor(company)
    supplier = make_partner(company, PartnerKind.SUPPLIER, name="M62 Fuels Ltd")

    def bill(reference, finalise):
        return make_document(
            actor,
            DocumentType.PURCHASE_INVOICE,
            partner=supplier,
            supplier_reference=reference,
            lines=[line("fuel", sales=False, unit_price="640.00")],
            finalise=finalise,
        )

    return bill("M62-INV-9981", True), bill("m62-inv-9981 ", False)


def test_a_duplicate_bill_is_refused_then_finalised_anyway_with_a_reason(
    page: Page, live_server, bills
):
    first, second = bills
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server, "fiona", "lorry-load-42")

    page.goto(f"{live_server.url}/invoices/{second.pk}/")
    page.get_by_role("button", name="Finalise", exact=True).click()
    refusal = page.locator("#duplicate")
    expect(refusal).to_contain_text("Not finalised: possible duplicate")
    expect(page.locator("#duplicate-message")).to_contain_text(
        f"purchase invoice {first.number} (supplier's number M62-INV-9981) of 2 Nov 2026, "
        "768.00 GBP"
    )
    link = page.locator("#duplicate-link")
    expect(link).to_have_attribute("href", f"/invoices/{first.pk}/")
    page.screenshot(path=str(SHOTS / "duplicate-bill-refused.png"))

    page.get_by_label("Why this is not a duplicate").fill(
        "Second fuel delivery, the supplier re-used its number"
    )
    page.get_by_role("button", name="Finalise anyway").click()
    expect(page.get_by_text(re.compile(r"Finalised as purchase invoice \S+"))).to_be_visible()
    expect(page.locator("#duplicate")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "duplicate-bill-finalised-anyway.png"))

    second.refresh_from_db()
    assert second.status == DocumentStatus.FINAL
    entry = AuditEntry.objects.get(action="duplicate finalised anyway")
    assert entry.changes["reason"] == "Second fuel delivery, the supplier re-used its number"

    # The link leads to the first bill.
    page.goto(f"{live_server.url}/invoices/{first.pk}/")
    expect(page.locator(".doc-number")).to_have_text(first.number)
