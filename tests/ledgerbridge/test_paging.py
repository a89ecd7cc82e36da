"""Id-first paging gives the pages the queryset's own slices would, in the same order."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledgerbridge.bench.pages import seed
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document
from ledgerbridge.invoicing.selectors import DocumentFilters, document_list
from ledgerbridge.paging import IdFirst

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    company, _ = seed(130)
    return Actor(company=company, role=Role.FINANCE, label="tests")


@pytest.mark.parametrize(
    "filters",
    [DocumentFilters(), DocumentFilters(search="humber"), DocumentFilters(type="sales_invoice")],
)
def test_every_page_holds_the_documents_of_the_plain_slice_in_order(actor, filters):
    documents = document_list(actor=actor, filters=filters)
    paged = IdFirst(documents)

    assert paged.count() == documents.count()
    for start in range(0, documents.count() + 50, 50):
        assert paged[start : start + 50] == list(documents[start : start + 50])


def test_a_page_is_two_queries_and_keeps_its_joins(actor):
    paged = IdFirst(document_list(actor=actor).select_related("sync_record"))

    with CaptureQueriesContext(connection) as queries:
        page = paged[100:150]
        names = [(d.partner.name, d.sync_record.status) for d in page]

    assert len(queries) == 2
    assert len(names) == 30


def test_a_page_past_the_end_is_empty_in_one_query(actor):
    with CaptureQueriesContext(connection) as queries:
        assert IdFirst(Document.objects.filter(company=actor.company))[500:550] == []
    assert len(queries) == 1
