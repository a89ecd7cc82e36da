"""The document search: any of the document's numbers and references, or its partner's name."""

import pytest

from ledgerbridge.invoicing.selectors import DocumentFilters, document_list
from tests.ledgerbridge.factories import make_actor, make_company, make_document, make_partner

pytestmark = pytest.mark.django_db


def _found(actor, term):
    return set(document_list(actor=actor, filters=DocumentFilters(search=term)))


def test_a_document_is_found_by_its_partners_name_or_a_reference_in_any_case():
    actor = make_actor(make_company())
    humber = make_document(actor, partner=make_partner(actor.company, name="Humber Freight Ltd"))
    trip = make_document(actor, trip_reference="T-HUMBER-7")
    make_document(actor, reference="Leeds depot")

    assert _found(actor, "humber") == {humber, trip}
    assert _found(actor, "  FREIGHT ") == {humber}
    assert _found(actor, "nowhere") == set()


def test_another_companys_partner_of_the_same_name_finds_nothing_here():
    ours, theirs = make_actor(make_company()), make_actor(make_company())
    make_document(theirs, partner=make_partner(theirs.company, name="Humber Freight Ltd"))
    mine = make_document(ours, partner=make_partner(ours.company, name="Selby Haulage"))

    assert _found(ours, "humber") == set()
    assert _found(ours, "selby") == {mine}
