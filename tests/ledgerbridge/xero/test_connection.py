import datetime as dt
import threading

import httpx
import pytest
from django.db import connection as db
from django.db import connections
from django.utils import timezone

from ledgerbridge.accounting.models import AccountingSettings
from ledgerbridge.companies.models import AuditEntry, Role
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.xero import connection
from ledgerbridge.xero.client import XeroClient
from ledgerbridge.xero.errors import XeroAuthRejected
from ledgerbridge.xero.models import LinkStatus, XeroConnection
from tests.ledgerbridge.factories import make_actor, make_company

from .conftest import REDIRECT_URI, authorise

pytestmark = pytest.mark.django_db


def test_authorising_one_organisation_connects_the_company(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    assert link.status == LinkStatus.CONNECTED
    assert link.tenant_id == sandbox.tenant_id
    assert link.tenant_name == "Demo Company (UK)"
    assert link.connected_by == admin.user
    assert "accounting.invoices" in link.scopes and "accounting.transactions" not in link.scopes
    assert AuditEntry.objects.filter(
        company=admin.company, action="Xero organisation linked"
    ).exists()


def test_the_authorize_url_asks_for_granular_scopes_with_pkce(sandbox, admin):
    request = connection.xero_authorise_start(actor=admin, redirect_uri=REDIRECT_URI)
    query = httpx.URL(request.url).params
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == request.state
    assert set(query["scope"].split()) == {
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.settings",
        "accounting.contacts",
        "accounting.invoices",
        "accounting.payments.read",
        "accounting.attachments",
    }


def test_with_several_organisations_the_user_picks_one(sandbox, admin, northway_org):
    link = authorise(sandbox, admin, [sandbox.tenant_id, northway_org])
    assert link.status == LinkStatus.NOT_CONNECTED
    assert {t["tenant_id"] for t in link.pending_tenants} == {sandbox.tenant_id, northway_org}
    link = connection.xero_tenant_choose(actor=admin, tenant_id=northway_org)
    assert link.status == LinkStatus.CONNECTED and link.tenant_name == "Northway Haulage (Xero)"


def test_an_organisation_cannot_be_linked_to_two_companies(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    other = make_company("Rival Freight Ltd")
    AccountingSettings.objects.create(company=other, package="xero_api")
    other_admin = make_actor(other, Role.SUPER_ADMIN)
    with pytest.raises(ApplicationError, match="already linked to another company"):
        authorise(sandbox, other_admin, [sandbox.tenant_id])
    assert XeroConnection.objects.get(company=other).status == LinkStatus.NOT_CONNECTED


def test_only_a_super_admin_can_authorise(sandbox, admin):
    finance = make_actor(admin.company, Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        connection.xero_authorise_start(actor=finance, redirect_uri=REDIRECT_URI)


def test_authorise_needs_the_xero_api_package(sandbox, admin):
    AccountingSettings.objects.filter(company=admin.company).update(package="xero_file")
    with pytest.raises(ApplicationError, match="not Xero \\(API\\)"):
        connection.xero_authorise_start(actor=admin, redirect_uri=REDIRECT_URI)


def _expire(company):
    XeroConnection.objects.filter(company=company).update(
        access_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )


def test_an_expired_access_token_is_refreshed_and_the_new_pair_saved(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    old_access, old_refresh = link.access_token, link.refresh_token
    _expire(admin.company)
    credentials = connection.xero_credentials(company=admin.company)
    link.refresh_from_db()
    assert credentials.access_token == link.access_token != old_access
    assert link.refresh_token != old_refresh
    answer = httpx.get(
        f"{sandbox.base_url}/connections",
        headers={"Authorization": f"Bearer {credentials.access_token}"},
    )
    assert answer.status_code == 200


def test_a_revoked_refresh_token_turns_the_link_into_needs_reauthorisation(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    revoked = httpx.post(
        f"{sandbox.base_url}/connect/revocation",
        data={"token": link.refresh_token},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert revoked.status_code == 200
    _expire(admin.company)
    with pytest.raises(connection.LinkNotUsable, match="re-authorisation"):
        connection.xero_credentials(company=admin.company)
    link = XeroConnection.objects.get(company=admin.company)
    assert link.status == LinkStatus.NEEDS_REAUTHORISATION
    assert "Authorise API again" in link.last_error
    # re-authorising the same organisation resumes
    assert authorise(sandbox, admin, [sandbox.tenant_id]).status == LinkStatus.CONNECTED


def test_a_connection_removed_in_xero_turns_the_link_into_needs_reauthorisation(sandbox, admin):
    authorise(sandbox, admin, [sandbox.tenant_id])
    sandbox.control.revoke(sandbox.tenant_id)
    with pytest.raises(XeroAuthRejected):
        client = XeroClient(admin.company)
        client.call(client.api.get_organisations)
    link = XeroConnection.objects.get(company=admin.company)
    assert link.status == LinkStatus.NEEDS_REAUTHORISATION
    assert "authorise the link again" in link.last_error


def test_tokens_are_unreadable_in_the_raw_database(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM xero_xeroconnection")
        raw_access, raw_refresh = cursor.fetchone()
    assert link.access_token and link.access_token not in raw_access
    assert link.refresh_token not in raw_refresh
    assert raw_access.startswith("gAAAA")  # a Fernet token


def test_reset_revokes_deletes_the_connection_and_wipes_tokens(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    access = link.access_token
    link = connection.xero_link_reset(actor=admin)
    assert link.status == LinkStatus.NOT_CONNECTED
    assert (link.access_token, link.refresh_token, link.tenant_id) == ("", "", "")
    assert link.last_error == ""
    answer = httpx.get(
        f"{sandbox.base_url}/connections", headers={"Authorization": f"Bearer {access}"}
    )
    assert answer.status_code == 401 or answer.json() == []
    with pytest.raises(connection.LinkNotUsable, match="not connected"):
        connection.xero_credentials(company=admin.company)


def test_after_reset_a_different_organisation_needs_platform_staff(sandbox, admin, northway_org):
    authorise(sandbox, admin, [sandbox.tenant_id])
    connection.xero_link_reset(actor=admin)
    with pytest.raises(ApplicationError, match="needs platform staff to confirm"):
        authorise(sandbox, admin, [northway_org])
    staff = make_actor(admin.company, Role.SUPER_ADMIN)
    staff = type(staff)(company=staff.company, role="", user=staff.user, is_platform_staff=True)
    link = connection.xero_tenant_choose(
        actor=staff, tenant_id=northway_org, confirm_other_organisation=True
    )
    assert link.status == LinkStatus.CONNECTED and link.tenant_id == northway_org


@pytest.mark.django_db(transaction=True)
def test_four_threads_refreshing_at_once_make_one_refresh_call(sandbox, admin):
    if db.vendor != "postgresql":
        pytest.skip("row locks across connections are what this checks; run on PostgreSQL")
    authorise(sandbox, admin, [sandbox.tenant_id])
    _expire(admin.company)
    sandbox.control.clear_calls()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def use() -> None:
        try:
            barrier.wait()
            results.append(connection.xero_credentials(company=admin.company).access_token)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    refreshes = [c for c in sandbox.control.calls() if c["path"] == "/connect/token"]
    assert len(refreshes) == 1
    assert len(set(results)) == 1
    answer = httpx.get(
        f"{sandbox.base_url}/connections", headers={"Authorization": f"Bearer {results[0]}"}
    )
    assert answer.status_code == 200


def test_linking_reads_the_organisation_short_code(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    assert link.short_code.startswith("!")


def test_links_unused_for_30_days_are_renewed_before_xero_forgets_them(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    old_refresh = link.refresh_token
    XeroConnection.objects.filter(pk=link.pk).update(
        refresh_obtained_at=timezone.now() - dt.timedelta(days=31)
    )
    assert connection.xero_links_keep_alive() == 1
    link.refresh_from_db()
    assert link.refresh_token != old_refresh
    assert connection.xero_links_keep_alive() == 0


def test_a_refresh_whose_answer_was_lost_is_recovered_by_xeros_grace_period(sandbox, admin):
    link = authorise(sandbox, admin, [sandbox.tenant_id])
    # Xero rotated the token but the answer never arrived here.
    lost = httpx.post(
        f"{sandbox.base_url}/connect/token",
        data={"grant_type": "refresh_token", "refresh_token": link.refresh_token},
        auth=(sandbox.client_id, sandbox.client_secret),
    )
    assert lost.status_code == 200
    _expire(admin.company)
    credentials = connection.xero_credentials(company=admin.company)
    link.refresh_from_db()
    assert link.status == LinkStatus.CONNECTED
    assert link.refresh_token == lost.json()["refresh_token"]
    answer = httpx.get(
        f"{sandbox.base_url}/connections",
        headers={"Authorization": f"Bearer {credentials.access_token}"},
    )
    assert answer.status_code == 200


def test_each_client_has_its_own_sdk_token_object():
    from ledgerbridge.xero.client import sdk_configuration

    first, second = sdk_configuration(), sdk_configuration()
    assert first.oauth2_token is not second.oauth2_token
