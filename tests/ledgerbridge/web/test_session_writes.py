"""A page view writes the session only when something in it changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledgerbridge.companies.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db


def _session_writes(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [
        q["sql"]
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    ]


def test_viewing_pages_again_writes_no_session(client_for):
    client = client_for()
    client.get(reverse("invoice_list"))  # the first view settles the current company

    assert _session_writes(client, reverse("invoice_list")) == []
    assert _session_writes(client, reverse("partner_list")) == []


def test_the_current_company_is_still_written_when_it_is_missing(client_for, company):
    client = client_for()
    session = client.session
    session.pop(SESSION_KEY, None)
    session.save()

    assert _session_writes(client, reverse("invoice_list")) != []
    assert client.session[SESSION_KEY] == company.pk
