"""Posting as a finance user sees it: chips, filter, bulk post, retry, history, browser."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from ledgerbridge.accounting.models import AccountingSettings, SyncRecord, SyncStatus
from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_document, make_partner, make_user

from .conftest import authorise
from .test_posting import xero_get


@pytest.fixture
def finance_client(client, admin):
    user = make_user(admin.company, Role.FINANCE)
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_bulk_post_queues_the_chosen_documents_and_the_list_shows_their_status(
    sandbox, admin, finance_client, django_capture_on_commit_callbacks
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    AccountingSettings.objects.filter(company=admin.company).update(auto_post_sales_invoice=False)
    chosen = [make_document(admin, finalise=True) for _ in range(2)]
    left = make_document(admin, finalise=True)
    with django_capture_on_commit_callbacks(execute=True):
        answer = finance_client.post(
            "/invoices/post-to-xero", {"document": [d.pk for d in chosen]}, follow=True
        )
    assert "2 documents queued for Xero." in answer.content.decode()
    assert SyncRecord.objects.filter(status=SyncStatus.POSTED).count() == 2
    html = finance_client.get("/invoices/", {"xero": "posted"}).content.decode()
    assert all(d.number in html for d in chosen) and left.number not in html
    assert 'class="badge sync-posted"' in html
    assert left.number in finance_client.get("/invoices/", {"xero": "not_sent"}).content.decode()


@pytest.mark.django_db
def test_a_failed_document_shows_xeros_words_and_can_be_retried(
    sandbox, admin, finance_client, django_capture_on_commit_callbacks
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    sandbox.control.archive_account(sandbox.tenant_id, "200")
    with django_capture_on_commit_callbacks(execute=True):
        document = make_document(admin, finalise=True)
    html = finance_client.get(f"/invoices/{document.pk}/").content.decode()
    assert 'id="sync-status">Failed<' in html
    assert "archived" in html.lower()
    assert 'id="sync-retry"' in html
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    accounts = xero_get(sandbox, "Accounts", where='Code=="200"')["Accounts"]
    httpx.post(
        f"{sandbox.base_url}/api.xro/2.0/Accounts/{accounts[0]['AccountID']}",
        json={"Status": "ACTIVE"},
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
        },
    ).raise_for_status()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(f"/invoices/{document.pk}/xero/retry")
    html = finance_client.get(f"/invoices/{document.pk}/").content.decode()
    assert 'id="sync-status">Posted<' in html
    assert 'id="open-in-xero"' in html
    assert "Attempt history" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_finalising_in_the_browser_with_auto_post_posts_it_with_lines_tracking_and_pdf(
    page: Page, live_server, sandbox, admin
):
    authorise(sandbox, admin, [sandbox.tenant_id])
    make_user(admin.company, Role.FINANCE, username="fiona", password="lorry-load-42")
    customer = make_partner(admin.company, name="Acme Retail Ltd", number="C0042")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("fiona")
    page.get_by_label("Password").fill("lorry-load-42")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="New sales invoice").click()
    page.get_by_label("Partner").select_option(label=str(customer))
    row = page.locator("#lines tr.line-row").nth(0)
    row.get_by_label("Description").fill("Freight Leeds - Hull, rigid 18t")
    row.get_by_label("Quantity").fill("2")
    row.get_by_label("Unit price").fill("450")
    page.get_by_role("button", name="Save draft").click()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Finalise").click()
    expect(page.locator("#sync-status")).to_have_text("Posted", timeout=10_000)
    expect(page.locator("#open-in-xero")).to_be_visible()

    record = SyncRecord.objects.get(document__partner=customer)
    [invoice] = xero_get(sandbox, f"Invoices/{record.external_id}")["Invoices"]
    assert invoice["Total"] == 1080.0
    tracking = {(t["Name"], t["Option"]) for t in invoice["LineItems"][0]["Tracking"]}
    assert tracking == {("Business unit", "Domestic"), ("Vehicle type", "Rigid")}
    [attachment] = xero_get(sandbox, f"Invoices/{record.external_id}/Attachments")["Attachments"]
    assert attachment["FileName"] == f"{record.document.number}.pdf"
    tokens = sandbox.control.mint_token(tenant_ids=[sandbox.tenant_id])
    content = httpx.get(
        attachment["Url"],
        headers={
            "Authorization": f"Bearer {tokens['access_token']}",
            "xero-tenant-id": sandbox.tenant_id,
        },
    ).content
    assert content.startswith(b"%PDF")


@pytest.mark.django_db
def test_the_list_says_when_posting_is_paused_by_the_daily_limit(admin, finance_client):
    import datetime as dt

    from django.utils import timezone

    from ledgerbridge.xero.models import XeroConnection

    XeroConnection.objects.create(company=admin.company, status="connected", tenant_id="t-1")
    until = timezone.now() + dt.timedelta(hours=3)
    AccountingSettings.objects.filter(company=admin.company).update(paused_until=until)
    html = finance_client.get("/invoices/").content.decode()
    assert "Posting is paused until" in html
    assert "daily limit" in html and "resumes by itself" in html
