"""Platform staff open a company and its first Super Admin from the platform area."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerbridge.companies.models import AuditEntry, Company, Membership, Role, User
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

pytestmark = pytest.mark.django_db

URL = "/platform/companies/new"
NEW_PASSWORD = "Trailer-Hitch-Ninety-4"

FILLED = {
    "legal_name": "Moorside Freight Ltd",
    "vat_number": "GB987654321",
    "address_line1": "4 Canal Wharf",
    "city": "Wakefield",
    "postcode": "WF1 5PQ",
    "country": "gb",
    "base_currency": "gbp",
    "email": "accounts@moorside.example",
    "admin_first_name": "Priya",
    "admin_last_name": "Shah",
    "admin_username": "priya",
    "admin_email": "priya@moorside.example",
    "admin_password": NEW_PASSWORD,
    "admin_password_again": NEW_PASSWORD,
}


@pytest.fixture
def staff():
    return make_user(platform_staff=True, username="support")


@pytest.fixture
def staff_client(client, staff):
    assert client.login(username=staff.username, password=PASSWORD)
    return client


def test_staff_create_a_company_with_its_first_super_admin(staff_client, staff):
    answer = staff_client.post(URL, FILLED, follow=True)

    assert answer.redirect_chain == [("/platform/operations", 302)]
    html = answer.content.decode()
    assert "Moorside Freight Ltd is created. Its Super Admin priya" in html
    assert NEW_PASSWORD not in html
    company = Company.objects.get(legal_name="Moorside Freight Ltd")
    assert (company.country, company.base_currency, company.city) == ("GB", "GBP", "Wakefield")
    admin = User.objects.get(username="priya")
    assert (admin.email, admin.get_full_name()) == ("priya@moorside.example", "Priya Shah")
    assert not admin.is_platform_staff
    assert admin.password != NEW_PASSWORD and admin.check_password(NEW_PASSWORD)
    assert Membership.objects.get(user=admin).role == Role.SUPER_ADMIN
    assert Membership.objects.get(user=admin).company == company
    audit = AuditEntry.objects.filter(company=company)
    assert set(audit.values_list("action", flat=True)) == {"company created", "member added"}
    assert all(NEW_PASSWORD not in str(entry.changes) for entry in audit)
    assert "support" in str(audit.get(action="company created").changes)


def test_the_new_super_admin_logs_in_to_their_company_and_may_configure_it():
    staff = make_user(platform_staff=True)
    client = Client()
    client.login(username=staff.username, password=PASSWORD)
    client.post(URL, FILLED)

    theirs = Client()
    assert theirs.login(username="priya", password=NEW_PASSWORD)
    page = theirs.get("/configuration/company")
    assert page.status_code == 200
    assert "Moorside Freight Ltd" in page.content.decode()


def test_every_mistake_is_named_at_once_and_the_password_is_not_sent_back(staff_client):
    make_user(username="Priya")
    answer = staff_client.post(
        URL,
        {
            **FILLED,
            "legal_name": "  ",
            "country": "Britain",
            "admin_email": "priya at moorside",
            "admin_password": "password",
            "admin_password_again": "password",
        },
    )

    assert answer.status_code == 200
    html = answer.content.decode()
    for words in (
        "Enter the company&#x27;s legal name.",
        "Country must be a 2-letter ISO code such as GB.",
        "The username &#x27;priya&#x27; is taken; choose another.",
        "Enter the Super Admin&#x27;s email address, such as name@example.com.",
        "This password is too common.",
    ):
        assert words in html
    assert 'value="password"' not in html
    assert 'value="Moorside' not in html and 'value="GB987654321"' in html  # the rest is kept
    assert not Company.objects.filter(vat_number="GB987654321").exists()
    assert User.objects.filter(username__iexact="priya").count() == 1


def test_the_password_must_be_typed_twice_the_same(staff_client):
    answer = staff_client.post(URL, {**FILLED, "admin_password_again": NEW_PASSWORD + "x"})

    html = answer.content.decode()
    assert "The two passwords differ; type the same one twice." in html
    assert NEW_PASSWORD not in html
    assert not User.objects.filter(username="priya").exists()


def test_a_short_password_or_one_like_the_username_is_refused(staff_client):
    short = staff_client.post(
        URL, {**FILLED, "admin_password": "Tr4iler", "admin_password_again": "Tr4iler"}
    )
    assert "This password is too short." in short.content.decode()
    like_the_name = staff_client.post(
        URL, {**FILLED, "admin_password": "Priya2026", "admin_password_again": "Priya2026"}
    )
    assert "The password is too similar to the username." in like_the_name.content.decode()
    assert not User.objects.filter(username="priya").exists()


@pytest.mark.parametrize("role", [Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER])
def test_company_users_are_refused(client, role):
    user = make_user(make_company(starter=False), role)
    client.login(username=user.username, password=PASSWORD)

    assert client.get(URL).status_code == 403
    refused = client.post(URL, FILLED)

    assert refused.status_code == 403
    assert "Only platform staff can create companies." in refused.content.decode()
    assert not Company.objects.filter(legal_name="Moorside Freight Ltd").exists()
    assert not User.objects.filter(username="priya").exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    answer = client.post(URL, FILLED)
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert not Company.objects.filter(legal_name="Moorside Freight Ltd").exists()


def test_a_post_without_the_csrf_token_is_refused(staff):
    client = Client(enforce_csrf_checks=True)
    client.login(username=staff.username, password=PASSWORD)

    assert client.post(URL, FILLED).status_code == 403
    assert not Company.objects.filter(legal_name="Moorside Freight Ltd").exists()

    form = client.get(URL)
    token = form.cookies["csrftoken"].value
    assert client.post(URL, {**FILLED, "csrfmiddlewaretoken": token}).status_code == 302
    assert Company.objects.filter(legal_name="Moorside Freight Ltd").exists()


def test_the_operations_page_links_to_the_new_company_page(staff_client):
    html = staff_client.get("/platform/operations").content.decode()
    assert 'href="/platform/companies/new"' in html
