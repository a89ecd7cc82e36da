"""``bench pages`` in small: each page makes as many queries at 120 documents as at 30.

Speed is the benchmark's to measure (on PostgreSQL, at 1,000 to 100,000
documents); a query count that grows with the ledger is a bug anyone can see here.
"""

import pytest

from ledgerbridge.bench.pages import query_counts, seed

pytestmark = pytest.mark.django_db


def test_every_page_makes_the_same_queries_at_120_documents_as_at_30():
    small = query_counts(*seed(30, name="Small Haulage Ltd"))
    large = query_counts(*seed(120, name="Large Haulage Ltd"))

    assert large == small
    assert set(small) >= {
        "list, first page",
        "list, last page",
        "list, search",
        "REST list, page 1",
    }
