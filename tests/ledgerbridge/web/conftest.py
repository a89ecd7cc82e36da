"""Fixtures of the web UI tests: logged-in clients per role, and Debian's chromium."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

# Playwright's sync API runs an event loop in the test thread (see tests/conftest.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROLES = [Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium: Playwright cannot download its own browsers here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def company(db):
    return make_company("Northern Haulage Ltd")


@pytest.fixture
def other_company(db):
    return make_company("Southern Freight plc")


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def client_for(company):
    """``client_for(role)``: a test client logged in with that role in ``company``."""

    def make(role: str = Role.FINANCE, *, of=None) -> Client:
        return login(make_user(of or company, role))

    return make
