"""Login throttling: a username from one address is locked out after a few failures."""

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


@pytest.fixture
def user():
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
