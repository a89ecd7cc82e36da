"""Figures stored out of range: written straight into the database, as only a
database edit (or SQLite, which does not enforce a column's digits) can."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Model
from django.test import Client

from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from tests.ledgerbridge.factories import PASSWORD, make_actor, make_company, make_user

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="PostgreSQL refuses a value wider than its numeric column when it is written",
)


def store_raw(obj: Model, field: str, literal: str) -> None:
    """``UPDATE <table> SET <field> = <literal>`` for one row, past every check of ours."""
    table = obj._meta.db_table
    column = obj._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE "{table}" SET "{column}" = {literal} WHERE id = %s', [obj.pk])


@pytest.fixture
def company(db):
    return make_company("Northern Haulage Ltd")


@pytest.fixture
def finance(company):
    return make_actor(company, Role.FINANCE)


@pytest.fixture
def web(company):
    """A Finance user's browser session."""
    client = Client()
    user = make_user(company, Role.FINANCE)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def api(company):
    admin = make_actor(company, Role.SUPER_ADMIN)
    _, raw = api_token_create(actor=admin, name="TMS", role=Role.FINANCE)
    return Client(headers={"authorization": f"Bearer {raw}"})
