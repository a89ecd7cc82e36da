import hashlib

import pytest

from ledgerbridge.companies.models import ApiToken, AuditEntry, Role
from ledgerbridge.companies.selectors import actor_for, companies_for_user
from ledgerbridge.companies.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    company_create,
    membership_set,
)
from ledgerbridge.errors import PermissionDeniedError
from tests.ledgerbridge.factories import make_actor, make_company, make_user

pytestmark = pytest.mark.django_db


def test_only_platform_staff_create_companies():
    staff = make_user(platform_staff=True)
    company = company_create(by=staff, legal_name="Calder Freight Ltd", vat_number="GB1")
    assert AuditEntry.objects.filter(company=company, action="company created").exists()
    with pytest.raises(PermissionDeniedError):
        company_create(by=make_user(), legal_name="Sneaky Ltd")


def test_a_user_acts_in_each_company_with_the_role_held_there():
    north, south = make_company("North Ltd"), make_company("South Ltd")
    user = make_user(north, Role.SUPER_ADMIN)
    admin_south = make_actor(south, Role.SUPER_ADMIN)
    membership_set(actor=admin_south, user=user, role=Role.VIEWER)
    assert actor_for(user=user, company_id=north.pk).role == Role.SUPER_ADMIN
    assert actor_for(user=user, company_id=south.pk).role == Role.VIEWER
    assert set(companies_for_user(user=user)) == {north, south}


def test_a_user_cannot_switch_into_a_company_they_do_not_belong_to():
    north, south = make_company("North Ltd"), make_company("South Ltd")
    user = make_user(north, Role.FINANCE)
    assert actor_for(user=user, company_id=south.pk).company == north


def test_platform_staff_can_act_in_any_company():
    company = make_company()
    staff = make_user(platform_staff=True)
    actor = actor_for(user=staff, company_id=company.pk)
    assert actor.company == company and actor.is_platform_staff


def test_api_tokens_are_stored_hashed_and_can_be_revoked():
    admin = make_actor(make_company(), Role.SUPER_ADMIN)
    token, raw = api_token_create(actor=admin, name="TMS sync")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.token_hash, stored.prefix)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert api_token_authenticate(raw=raw).company == admin.company
    api_token_revoke(actor=admin, token_id=token.pk)
    assert api_token_authenticate(raw=raw) is None
    actions = list(
        AuditEntry.objects.filter(company=admin.company).values_list("action", flat=True)
    )
    assert {"API token created", "API token revoked"} <= set(actions)


def test_finance_cannot_manage_members_or_tokens():
    finance = make_actor(make_company(), Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        api_token_create(actor=finance, name="x")
    with pytest.raises(PermissionDeniedError):
        membership_set(actor=finance, user=make_user(), role=Role.SUPER_ADMIN)


def test_company_details_are_validated_and_audited():
    from ledgerbridge.companies.services import company_update
    from ledgerbridge.errors import ApplicationError

    admin = make_actor(make_company("North Ltd"), Role.SUPER_ADMIN)
    with pytest.raises(ApplicationError) as error:
        company_update(actor=admin, legal_name="  ")
    assert error.value.field == "legal_name"
    with pytest.raises(ApplicationError) as error:
        company_update(actor=admin, base_currency="pounds")
    assert error.value.field == "base_currency"
    company_update(actor=admin, legal_name="North Haulage Ltd", logo=b"\x89PNG...")
    entry = AuditEntry.objects.filter(company=admin.company, action="company details changed").get()
    assert entry.changes == {"legal_name": ["North Ltd", "North Haulage Ltd"], "logo": "changed"}


def test_revoking_another_companys_token_is_not_found():
    from ledgerbridge.errors import NotFoundError

    admin = make_actor(make_company(), Role.SUPER_ADMIN)
    other, _ = api_token_create(actor=make_actor(make_company(), Role.SUPER_ADMIN), name="x")
    with pytest.raises(NotFoundError):
        api_token_revoke(actor=admin, token_id=other.pk)
