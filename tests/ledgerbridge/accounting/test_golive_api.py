"""The REST API of going live: the state and summary, choosing a contact, confirming,
matching again; Super Admin only, another company's partner is 404.

The world (four documents, one typed in the package, an ambiguous customer) is
``test_golive.py``'s."""

from __future__ import annotations

import pytest
from django.test import Client

from ledgerbridge.accounting.models import GoLive, GoLiveState, SyncStatus
from ledgerbridge.companies.models import Role
from ledgerbridge.companies.services import api_token_create
from tests.ledgerbridge.factories import make_actor, make_company, make_partner

from . import test_golive
from .conftest import post_all

pytestmark = pytest.mark.django_db

# The fixtures of test_golive.py, used here too.
world = test_golive.world
begin = test_golive.begin
_record = test_golive._record

URL = "/api/accounting/go-live"


def api_as(company, role: str) -> Client:
    admin = make_actor(company, Role.SUPER_ADMIN)
    _, raw = api_token_create(actor=admin, name=f"TMS {role}", role=role)
    return Client(headers={"authorization": f"Bearer {raw}"})


def _post(client: Client, path: str, body: dict | None = None):
    return client.post(URL + path, body or {}, content_type="application/json")


def test_a_company_not_going_live_says_so(admin):
    answer = api_as(admin.company, Role.SUPER_ADMIN).get(URL)
    assert answer.status_code == 200
    assert answer.json()["state"] == "none"


def test_the_summary_gives_counts_per_class_and_the_ambiguous_contacts_with_candidates(
    package, world, begin
):
    company = world["admin"].company
    begin(company)
    body = api_as(company, Role.SUPER_ADMIN).get(URL).json()
    assert body["state"] == "awaiting"
    assert body["contacts"] == {"tax_number": 1, "name": 1, "ambiguous": 1}
    assert body["documents"] == {"linked": 1, "conflict": 1, "to_post": 2, "only_in_package": 1}
    assert body["classes"]["linked"] == "Already in Xero: linked, not posted"
    [review] = body["review"]
    assert review["partner_id"] == world["twin"].pk
    assert [(c["external_id"], c["why"]) for c in review["candidates"]] == [
        ("c-twin-old", "same name, archived in Xero"),
        ("c-twin", "same name"),
    ]
    [clash] = body["for_a_person"]
    assert (clash["kind"], clash["number"]) == ("conflict", world["clash"].number)
    assert "Already in Xero as" in clash["note"]
    assert body["calls"] == 2 and body["newcomers"] == 0


def test_a_super_admin_chooses_a_contact_and_confirms(package, world, begin):
    company = world["admin"].company
    begin(company)
    api = api_as(company, Role.SUPER_ADMIN)
    answer = _post(api, f"/partners/{world['twin'].pk}/contact", {"contact": "c-twin"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["review"] == [] and answer.json()["contacts"]["chosen"] == 1
    answer = _post(api, "/confirm")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "confirmed"
    post_all(company)
    assert _record(world["waits"]).status == SyncStatus.POSTED
    assert _record(world["typed"]).external_id == "x-typed"
    assert _post(api, "/confirm").json() == {"detail": "The backlog was confirmed already."}


def test_choosing_a_contact_not_among_the_candidates_is_refused_with_a_reason(
    package, world, begin
):
    company = world["admin"].company
    begin(company)
    answer = _post(
        api_as(company, Role.SUPER_ADMIN),
        f"/partners/{world['twin'].pk}/contact",
        {"contact": "c-acme"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"] == "Choose one of the contacts listed for it."


def test_matching_again_holds_posting_and_matches_once_more(
    package, world, begin, django_capture_on_commit_callbacks
):
    company = world["admin"].company
    begin(company)
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(api_as(company, Role.SUPER_ADMIN), "/match")
    assert answer.status_code == 202
    assert answer.json()["state"] == "matching"
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING


@pytest.mark.parametrize("role", [Role.FINANCE, Role.VIEWER])
def test_finance_and_viewers_may_neither_read_nor_act(package, world, begin, role):
    company = world["admin"].company
    begin(company)
    api = api_as(company, role)
    assert api.get(URL).status_code == 403
    for path, body in [
        ("/confirm", {}),
        ("/match", {}),
        (f"/partners/{world['twin'].pk}/contact", {"contact": "c-twin"}),
    ]:
        assert _post(api, path, body).status_code == 403
    assert GoLive.objects.get(company=company).state == GoLiveState.AWAITING
    post_all(company)
    assert package.numbers(company) == []


def test_another_companys_partner_is_not_found(package, world, begin):
    company = world["admin"].company
    begin(company)
    other = make_company("Other Haulage Ltd")
    stranger = make_partner(other, name="Stranger Ltd")
    answer = _post(
        api_as(other, Role.SUPER_ADMIN),
        f"/partners/{world['twin'].pk}/contact",
        {"contact": "c-twin"},
    )
    assert answer.status_code == 404
    answer = _post(
        api_as(company, Role.SUPER_ADMIN), f"/partners/{stranger.pk}/contact", {"contact": "c-twin"}
    )
    assert answer.status_code == 404
    # The other company is not going live: nothing of this one's shows.
    assert api_as(other, Role.SUPER_ADMIN).get(URL).json()["state"] == "none"
    assert _post(api_as(other, Role.SUPER_ADMIN), "/confirm").status_code == 404
