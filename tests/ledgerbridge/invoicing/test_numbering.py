import threading

import pytest
from django.db import connection, connections

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import Document, NumberSeries
from ledgerbridge.invoicing.services import document_finalise
from tests.ledgerbridge.factories import make_actor, make_company, make_document


@pytest.mark.django_db
def test_numbers_restart_each_year_when_the_series_says_so():
    import datetime as dt

    actor = make_actor(make_company(), Role.FINANCE)
    a = make_document(actor)
    b = make_document(actor)
    document_finalise(
        actor=actor, document_id=a.pk, now=dt.datetime(2026, 12, 31, 12, tzinfo=dt.UTC)
    )
    b = document_finalise(
        actor=actor, document_id=b.pk, now=dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC)
    )
    assert b.number == "INV-2027-00001"


@pytest.mark.django_db
def test_series_without_yearly_reset_keeps_counting():
    actor = make_actor(make_company(), Role.FINANCE)
    NumberSeries.objects.filter(company=actor.company, document_type="sales_invoice").update(
        reset_yearly=False, prefix="NW", padding=6, next_number=41
    )
    assert make_document(actor, finalise=True).number == "NW000041"


@pytest.mark.django_db(transaction=True)
def test_parallel_finalising_gives_consecutive_distinct_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections are what this checks; run on PostgreSQL")
    actor = make_actor(make_company(), Role.FINANCE)
    drafts = [make_document(actor, lines=1).pk for _ in range(20)]
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def finalise(document_id: int) -> None:
        try:
            barrier.wait()
            document_finalise(actor=actor, document_id=document_id)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finalise, args=(pk,)) for pk in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Document.objects.filter(pk__in=drafts).values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:05d}" for n in range(1, 21)]
