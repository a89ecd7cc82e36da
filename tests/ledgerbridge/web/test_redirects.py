"""Forms that go "back" after an action never send the user to another site."""

import pytest

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(client):
    user = make_user(make_company(), Role.FINANCE)
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "path", ["/invoices/post-to-xero", "/invoices/check-payments", "/company/switch"]
)
@pytest.mark.parametrize(
    "next_url", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"]
)
def test_a_next_url_on_another_site_is_ignored(finance_client, path, next_url):
    answer = finance_client.post(path, {"next": next_url})
    assert answer.status_code == 302
    assert answer["Location"] == "/invoices/"


@pytest.mark.parametrize(
    "path", ["/invoices/post-to-xero", "/invoices/check-payments", "/company/switch"]
)
def test_a_next_url_of_ours_is_followed(finance_client, path):
    answer = finance_client.post(path, {"next": "/invoices/?xero=failed"})
    assert answer["Location"] == "/invoices/?xero=failed"
