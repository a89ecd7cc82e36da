"""Fixtures of the web UI tests: logged-in clients per role."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerbridge.companies.models import Role
from tests.ledgerbridge.factories import PASSWORD, make_company, make_user

ROLES = [Role.SUPER_ADMIN, Role.FINANCE, Role.VIEWER]


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
