"""Login throttling: a username (however it is typed) from one address is locked out
after a few failures, an address after more failures over any usernames."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

pytestmark = pytest.mark.django_db

LOCKED = b"Too many failed logins for this username."
ADDRESS_LOCKED = b"Too many failed logins from this network address."


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    """Only the counting is under test; the production hasher costs ~0.3 s a login."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(fast_hashing):
    return make_user(make_company("Northern Haulage Ltd"), Role.FINANCE, username="dispatch")


def attempt(client: Client, password: str, username: str = "dispatch", ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def fail(client: Client, times: int, **kwargs):
    return [attempt(client, "wrong-password", **kwargs) for _ in range(times)][-1]


def test_a_few_failures_still_show_the_ordinary_error(user):
    response = fail(Client(), settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200
    assert b"That username and password do not match." in response.content
    assert LOCKED not in response.content


def test_the_limit_locks_the_username_out_with_a_clear_message(user):
    client = Client()
    response = fail(client, settings.AXES_FAILURE_LIMIT)
    assert response.status_code == 429
    assert LOCKED in response.content
    assert b"blocked for 15 minutes" in response.content
    assert b'name="password"' in response.content  # still the login page
    # The right password does not get in while locked out.
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(user):
    make_user(username="accounts")
    fail(Client(), settings.AXES_FAILURE_LIMIT)
    other_address = attempt(Client(), PASSWORD, ip="10.0.0.2")
    assert other_address.status_code == 302
    other_user = attempt(Client(), PASSWORD, username="accounts")
    assert other_user.status_code == 302


def test_the_lockout_ends_after_the_cool_off(user):
    fail(Client(), settings.AXES_FAILURE_LIMIT)
    later = dt.timedelta(minutes=16)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - later)
    client = Client()
    response = attempt(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_successful_login_resets_the_count(user):
    fail(Client(), settings.AXES_FAILURE_LIMIT - 1)
    assert attempt(Client(), PASSWORD).status_code == 302
    response = fail(Client(), settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200


def test_the_username_counts_however_it_is_typed(user):
    client = Client()
    typed = ["DISPATCH", "Dispatch", " dispatch ", "DisPatch", "dispatch"]
    assert len(typed) == settings.AXES_FAILURE_LIMIT
    for username in typed[:-1]:
        assert attempt(client, "wrong-password", username=username).status_code == 200
    response = attempt(client, "wrong-password", username=typed[-1])
    assert response.status_code == 429
    assert LOCKED in response.content
    assert attempt(Client(), PASSWORD).status_code == 429


def test_many_usernames_from_one_address_lock_the_address_out(user):
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT  # an office shares one address
    for number in range(limit):
        response = attempt(Client(), "Winter2026!", username=f"guess{number}", ip="10.0.0.9")
        assert response.status_code == 200, number
    # Even a real user with the right password waits, from that address only.
    client = Client()
    response = attempt(client, PASSWORD, ip="10.0.0.9")
    assert response.status_code == 429
    assert ADDRESS_LOCKED in response.content
    assert "_auth_user_id" not in client.session
    assert attempt(Client(), PASSWORD, ip="10.0.0.10").status_code == 302


def test_fewer_failures_from_an_address_than_its_limit_let_a_user_in(user):
    for number in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        attempt(Client(), "Winter2026!", username=f"guess{number}", ip="10.0.0.9")
    assert attempt(Client(), PASSWORD, ip="10.0.0.9").status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(user, settings):
    settings.PROXY_COUNT = 1

    def through_proxy(username: str, written_by_client: str, seen_by_proxy: str):
        return Client().post(
            reverse("login"),
            {"username": username, "password": "wrong-password"},
            REMOTE_ADDR="10.1.1.1",  # the proxy
            HTTP_X_FORWARDED_FOR=f"{written_by_client}, {seen_by_proxy}",
        )

    # A client writing a new address each time is still one address.
    for number in range(settings.AXES_FAILURE_LIMIT):
        response = through_proxy("dispatch", f"198.51.100.{number}", "203.0.113.7")
    assert response.status_code == 429
    # Another client behind the same proxy is not locked out.
    other = Client().post(
        reverse("login"),
        {"username": "dispatch", "password": PASSWORD},
        REMOTE_ADDR="10.1.1.1",
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert other.status_code == 302
