"""The operations page: platform staff see every company's health, needing-attention first."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledgerbridge.companies.models import Role
from ledgerbridge.xero.models import LinkStatus, XeroWebhookEvent

from .conftest import make_operated_company

URL = "/platform/operations"


def company_order(html: str) -> list[str]:
    return re.findall(r'<span class="strong">([^<]+)</span>', html)


@pytest.mark.django_db
def test_platform_staff_see_link_backlog_failures_pause_and_payment_sync(staff_client):
    now = timezone.now()
    company = make_operated_company(
        "Northway Haulage Ltd",
        tenant_name="Northway (Xero)",
        last_error="Xero refused the token: the link was revoked in Xero.",
        pending=3,
        posting=1,
        failed=2,
        failure_message="Contact details: the email address is not valid.",
        waiting_since=now - dt.timedelta(hours=2),
        paused_until=now + dt.timedelta(hours=5),
        polled_at=now - dt.timedelta(minutes=7),
    )
    XeroWebhookEvent.objects.create(
        tenant_id=f"tenant-{company.pk}",
        resource_id="r1",
        category="INVOICE",
        event_type="UPDATE",
        received_at=now - dt.timedelta(minutes=3),
        company=company,
    )
    answer = staff_client.get(URL)
    assert answer.status_code == 200
    html = answer.content.decode()
    row = html[html.index(f'data-company="{company.pk}"') :].split("</tr>")[0]
    assert "Xero (API)" in row and "Connected" in row and "Northway (Xero)" in row
    assert "the link was revoked in Xero" in row
    cells = [c.strip() for c in re.findall(r'<td class="num">([^<]*)</td>', row)]
    assert cells[:4] == ["3", "1", "2", "0"]  # pending, posting, failed, needs attention
    assert "2\xa0hours" in row  # oldest waiting
    assert "the email address is not valid" in row
    assert "Polled: 7\xa0minutes ago" in row and "Webhook: 3\xa0minutes ago" in row
    assert "Posting is paused by Xero&#x27;s daily limit." in row


@pytest.mark.django_db
def test_companies_needing_attention_come_first_then_those_to_watch(staff_client):
    now = timezone.now()
    make_operated_company("A Fine Ltd", posted=4)
    make_operated_company("B Paused Ltd", paused_until=now + dt.timedelta(hours=1))
    make_operated_company("C Reauth Ltd", link=LinkStatus.NEEDS_REAUTHORISATION)
    make_operated_company("D Failing Ltd", failed=1, failure_message="Account code 999 is invalid.")
    make_operated_company("E File Ltd", package="xero_file", link=None)
    make_operated_company("F Failing More Ltd", failed=3, needs_attention=1)
    html = staff_client.get(URL).content.decode()
    assert company_order(html) == [
        "F Failing More Ltd",
        "D Failing Ltd",
        "C Reauth Ltd",
        "B Paused Ltd",
        "A Fine Ltd",
        "E File Ltd",
    ]
    assert "The Xero link needs re-authorisation by a Super Admin." in html


@pytest.mark.django_db
def test_documents_waiting_for_a_missing_link_need_attention(staff_client):
    make_operated_company("Waiting Ltd", link=LinkStatus.NOT_CONNECTED, pending=2)
    make_operated_company("Idle Ltd", link=LinkStatus.NOT_CONNECTED)
    html = staff_client.get(URL).content.decode()
    assert company_order(html) == ["Waiting Ltd", "Idle Ltd"]
    assert "2 documents wait for a Xero link." in html


@pytest.mark.django_db
def test_search_filters_by_company_or_organisation_name(staff_client):
    make_operated_company("Northway Haulage Ltd", tenant_name="NW Org")
    make_operated_company("Pennine Cold Chain Ltd", tenant_name="Cold Org")
    assert company_order(staff_client.get(URL, {"search": "pennine"}).content.decode()) == [
        "Pennine Cold Chain Ltd"
    ]
    assert company_order(staff_client.get(URL, {"search": "nw org"}).content.decode()) == [
        "Northway Haulage Ltd"
    ]


@pytest.mark.django_db
def test_show_filters_attention_backlog_and_package(staff_client):
    make_operated_company("Backlog Ltd", pending=1)
    make_operated_company("Failing Ltd", failed=1)
    make_operated_company("Quiet File Ltd", package="xero_file", link=None)
    shown = {
        show: company_order(staff_client.get(URL, {"show": show}).content.decode())
        for show in ("attention", "backlog", "xero_api")
    }
    assert shown == {
        "attention": ["Failing Ltd"],
        "backlog": ["Backlog Ltd"],
        "xero_api": ["Failing Ltd", "Backlog Ltd"],
    }


@pytest.mark.django_db
def test_an_htmx_request_gets_only_the_results(staff_client):
    make_operated_company("Htmx Ltd")
    answer = staff_client.get(URL, {"search": "htmx"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert html.lstrip().startswith('<div id="results">') and "Htmx Ltd" in html
    assert "<html" not in html


@pytest.mark.django_db
def test_companies_are_paged_fifty_at_a_time_with_platform_totals(staff_client):
    for i in range(55):
        make_operated_company(f"Paged {i:02d} Ltd", pending=1 if i == 54 else 0)
    first = staff_client.get(URL).content.decode()
    second = staff_client.get(URL, {"page": 2}).content.decode()
    assert len(company_order(first)) == 50 and len(company_order(second)) == 5
    assert "1–50 of 55" in first
    assert '<span class="ops-figure">55</span> companies' in second
    assert '<span class="ops-figure">1</span> document waiting' in second


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER])
def test_company_users_are_refused_with_a_reason(member_client, role):
    make_operated_company("Someone Else Ltd", failed=1, failure_message="secret-ish detail")
    answer = member_client(role).get(URL)
    assert answer.status_code == 403
    html = answer.content.decode()
    assert "Only platform staff" in html
    assert "Someone Else Ltd" not in html and "secret-ish detail" not in html


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    answer = client.get(URL)
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_only_platform_staff_have_the_operations_link(staff_client, member_client):
    make_operated_company("Any Ltd")
    assert 'id="nav-operations"' in staff_client.get(reverse("invoice_list")).content.decode()
    page = member_client(Role.SUPER_ADMIN).get(reverse("invoice_list")).content.decode()
    assert 'id="nav-operations"' not in page


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_number_of_companies(
    staff_client, django_assert_max_num_queries
):
    def add(count: int) -> None:
        for i in range(count):
            make_operated_company(
                pending=i % 3, failed=i % 2, failure_message="bad", polled_at=timezone.now()
            )

    add(5)
    page_queries(staff_client)  # the first view writes the current company to the session
    few = page_queries(staff_client)
    add(45)
    with django_assert_max_num_queries(few):
        assert staff_client.get(URL).status_code == 200
    assert page_queries(staff_client) == few
