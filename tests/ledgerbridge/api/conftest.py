"""Fixtures of the API tests: a company and a client holding one of its tokens."""

from __future__ import annotations

import pytest

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from tests.ledgerbridge.factories import make_actor, make_company


def client_for(client, company, role=Role.FINANCE):
    admin = make_actor(company, Role.SUPER_ADMIN)
    _, raw = api_token_create(actor=admin, name="TMS", role=role)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


@pytest.fixture
def company(db):
    return make_company("Northway Haulage Ltd")


@pytest.fixture
def api(client, company):
    return client_for(client, company)
