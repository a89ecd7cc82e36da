"""Where posting stands, said once (xero/status.py) for the list's banner, the document
page and the REST API: sending, waiting for the rate limit, blocked (and who must
act), failed, idle — per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ledgerbridge.accounting.models import (
    AccountingSettings,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.xero.models import LinkStatus, XeroConnection
from ledgerbridge.xero.status import posting_status
from tests.ledgerbridge.factories import PASSWORD, make_document, make_user

pytestmark = pytest.mark.django_db


def _actor(company, role: str, username: str) -> Actor:
    user = make_user(company, role, username=username)
    return Actor(company=company, role=role, user=user)


@pytest.fixture
def people(admin):
    """The Super Admin (admin fixture is one, named 'sam' here), a Finance user, a Viewer."""
    admin.user.first_name, admin.user.last_name = "Sam", "Admin"
    admin.user.save()
    return {
        "admin": admin,
        "finance": _actor(admin.company, Role.FINANCE, "fiona"),
        "viewer": _actor(admin.company, Role.VIEWER, "victor"),
    }


def _queued(actor: Actor, count: int) -> list[int]:
    """Final documents whose "Post to Xero" completed itself (auto): records pending."""
    return [make_document(actor, finalise=True).pk for _ in range(count)]


def _connect(company) -> XeroConnection:
    return XeroConnection.objects.create(
        company=company, status=LinkStatus.CONNECTED, tenant_id="tenant-1", tenant_name="Org"
    )


def test_without_a_xero_link_posting_is_blocked_not_on_its_way(people):
    _queued(people["admin"], 3)
    status = posting_status(actor=people["admin"])
    assert status.state == "blocked" and status.blocked_reason == "not_connected"
    assert "on the way" not in status.headline
    assert "3 documents wait" in status.headline
    assert status.on_the_way == 3
    assert status.action_url.startswith("/configuration/accounting/")
    assert "Super Admin must connect Xero in Configuration > Accounting" in status.who


@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_those_who_cannot_connect_see_whom_to_ask_and_no_link(people, role):
    _queued(people["admin"], 1)
    status = posting_status(actor=people[role])
    assert status.state == "blocked"
    assert status.action_url == "" and status.action_label == ""
    assert status.who.startswith("Ask your Super Admin (Sam Admin) to connect Xero")
    assert "Configuration > Accounting" in status.who


def test_a_revoked_link_says_a_super_admin_must_re_authorise(people):
    link = _connect(people["admin"].company)
    link.status = LinkStatus.NEEDS_REAUTHORISATION
    link.save()
    _queued(people["admin"], 1)
    admin = posting_status(actor=people["admin"])
    assert admin.state == "blocked" and admin.blocked_reason == "needs_reauthorisation"
    assert "needs re-authorisation" in admin.headline and "1 document waits" in admin.headline
    assert admin.action_label == "Re-authorise Xero" and admin.action_url
    finance = posting_status(actor=people["finance"])
    assert "Ask your Super Admin (Sam Admin) to re-authorise Xero" in finance.who
    assert finance.action_url == ""


def test_the_daily_limit_pauses_with_the_time_it_resumes_and_nobody_to_act(people):
    _connect(people["admin"].company)
    until = timezone.now() + dt.timedelta(hours=3)
    AccountingSettings.objects.filter(company=people["admin"].company).update(paused_until=until)
    _queued(people["admin"], 2)
    status = posting_status(actor=people["finance"])
    assert status.state == "blocked" and status.blocked_reason == "paused"
    assert status.resumes_at == until
    assert f"{timezone.localtime(until):%H:%M}" in status.headline
    assert "daily limit" in status.headline and "Nobody needs to act" in status.who


def test_a_rate_limit_wait_says_when_posting_goes_on(people):
    _connect(people["admin"].company)
    [first, _] = _queued(people["admin"], 2)
    at = timezone.now() + dt.timedelta(seconds=40)
    SyncRecord.objects.filter(company=people["admin"].company).update(
        waiting_for=WaitReason.RATE_LIMIT, next_attempt_at=at
    )
    status = posting_status(actor=people["finance"])
    assert status.state == "waiting" and status.resumes_at == at
    assert f"{timezone.localtime(at):%H:%M:%S}" in status.headline
    one = posting_status(actor=people["finance"], document_id=first)
    assert one.state == "waiting" and one.resumes_at == at


def test_sending_counts_what_is_on_the_way_and_the_progress_of_this_round(people):
    _connect(people["admin"].company)
    ids = _queued(people["admin"], 4)
    SyncRecord.objects.filter(document_id=ids[0]).update(
        status=SyncStatus.POSTED, posted_at=timezone.now(), external_number="INV-1"
    )
    status = posting_status(actor=people["viewer"])
    assert status.state == "sending"
    assert (status.on_the_way, status.posted, status.progress) == (3, 1, 25)
    assert "3 documents on the way · 1 of 4 posted" in status.headline
    assert posting_status(actor=people["viewer"], document_id=ids[0]).state == "posted"
    assert posting_status(actor=people["viewer"], document_id=ids[1]).state == "sending"


def test_the_polled_banner_while_sending_says_the_same_without_counting_all_posted(people):
    _connect(people["admin"].company)
    ids = _queued(people["admin"], 4)
    SyncRecord.objects.filter(document_id=ids[0]).update(
        status=SyncStatus.POSTED, posted_at=timezone.now(), external_number="INV-1"
    )
    counted = posting_status(actor=people["viewer"])
    polled = posting_status(actor=people["viewer"], count_posted=False)
    assert (polled.state, polled.headline, polled.progress) == (
        counted.state,
        counted.headline,
        counted.progress,
    )
    assert (counted.posted, polled.posted) == (1, 0)


def test_an_idle_banner_counts_all_posted_even_when_not_asked(people):
    _connect(people["admin"].company)
    ids = _queued(people["admin"], 2)
    SyncRecord.objects.filter(document_id__in=ids).update(status=SyncStatus.POSTED)
    status = posting_status(actor=people["finance"], count_posted=False)
    assert status.state == "idle" and status.posted == 2
    assert status.headline == "Xero: 2 posted."


def test_failures_are_counted_with_a_link_to_the_filtered_list(people):
    _connect(people["admin"].company)
    ids = _queued(people["admin"], 3)
    SyncRecord.objects.filter(document_id__in=ids[:2]).update(status=SyncStatus.FAILED)
    SyncRecord.objects.filter(document_id=ids[2]).update(status=SyncStatus.POSTED)
    status = posting_status(actor=people["finance"])
    assert status.state == "failed" and status.failed == 2
    assert status.failed_url == "/invoices/?xero=failed"
    assert posting_status(actor=people["finance"], document_id=ids[0]).state == "failed"


def test_nothing_to_say_for_a_company_not_on_the_xero_api(people):
    AccountingSettings.objects.filter(company=people["admin"].company).update(package="xero_file")
    assert posting_status(actor=people["finance"]) is None


# ---------------------------------------------------------------- the pages


def _login(client, username):
    client.login(username=username, password=PASSWORD)
    return client


def test_the_list_banner_is_blocked_with_the_link_for_the_super_admin_only(client, people):
    _queued(people["admin"], 2)
    html = _login(client, "fiona").get("/invoices/xero-progress").content.decode()
    assert 'data-state="blocked"' in html and "on the way" not in html
    assert "Ask your Super Admin (Sam Admin) to connect Xero" in html
    assert 'id="posting-action"' not in html
    client.logout()
    admin = people["admin"].user
    html = _login(client, admin.username).get("/invoices/").content.decode()
    assert 'data-state="blocked"' in html
    assert 'id="posting-action"' in html and 'href="/configuration/accounting/#xero-link"' in html


def test_the_document_page_says_the_same(client, people):
    [document_id] = _queued(people["admin"], 1)
    html = _login(client, "fiona").get(f"/invoices/{document_id}/").content.decode()
    assert 'data-state="blocked"' in html
    assert "Ask your Super Admin (Sam Admin) to connect Xero" in html
    assert 'id="task-status-post_to_xero">In progress<' in html
    # The page speaks of its own document, not of the company's count.
    assert "This document waits; nothing is lost." in html
    assert "1 document waits" not in html


def test_the_api_gives_the_same_states(client, people):
    [document_id] = _queued(people["admin"], 1)
    _, raw = api_token_create(actor=people["admin"], name="TMS", role=Role.FINANCE)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    company = client.get("/api/documents/xero-status", **headers).json()
    assert company["state"] == "blocked" and company["blocked_reason"] == "not_connected"
    assert company["action_url"] == "" and "Ask your Super Admin" in company["who"]
    document = client.get(f"/api/documents/{document_id}", **headers).json()
    assert document["posting"]["state"] == "blocked"
    assert [t["status"] for t in document["tasks"]] == ["in_progress"]
