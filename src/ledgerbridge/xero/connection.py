"""The company's Xero link: authorise, pick the organisation, keep tokens fresh, reset.

Refresh tokens are single-use, so a refresh is done by one process at a time:
the link row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite runs
write transactions one at a time) and the new pair is saved in the same
transaction, before anyone uses it. Whoever waited finds a fresh token and
does not refresh again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledgerbridge.accounting.golive import golive_start_on_link
from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.accounting.outbox import sync_records_resume
from ledgerbridge.accounting.services import accounting_settings_get
from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError

from . import oauth
from .errors import XeroAuthRejected, XeroError, XeroUnavailable
from .models import LinkStatus, XeroConnection

log = structlog.get_logger(__name__)

# Refresh a little before expiry so a token never dies mid-request.
REFRESH_MARGIN = dt.timedelta(minutes=2)


class LinkNotUsable(XeroAuthRejected):
    """Posting and checks pause until a Super Admin (re-)authorises the link."""


def xero_link_get(*, company: Company) -> XeroConnection:
    link, _ = XeroConnection.objects.get_or_create(company=company)
    return link


def _require_api_package(actor: Actor) -> None:
    require(actor, Permission.CONFIGURE)
    if accounting_settings_get(company=actor.company).package != AccountingPackage.XERO_API:
        raise ApplicationError(
            "The company's accounting package is not Xero (API); platform staff can change it."
        )


def xero_authorise_start(*, actor: Actor, redirect_uri: str) -> oauth.AuthorizationRequest:
    _require_api_package(actor)
    return oauth.authorization_request(redirect_uri=redirect_uri)


def xero_authorise_complete(
    *,
    actor: Actor,
    code: str,
    redirect_uri: str,
    code_verifier: str,
    now: dt.datetime | None = None,
) -> XeroConnection:
    """Exchange the code, read the authorised organisations, and link if there is one."""
    _require_api_package(actor)
    now = now or timezone.now()
    try:
        tokens = oauth.exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier, now=now
        )
        connections = oauth.list_connections(access_token=tokens.access_token)
    except oauth.IdentityError as error:
        raise ApplicationError(f"Authorising with Xero failed: {error.message}") from error
    organisations = [c for c in connections if c.tenant_type in ("ORGANISATION", "")]
    if not organisations:
        raise ApplicationError(
            "No Xero organisation was authorised. Authorise again and tick the organisation."
        )
    with transaction.atomic():
        link = XeroConnection.objects.select_for_update().get(
            pk=xero_link_get(company=actor.company).pk
        )
        _store_tokens(link, tokens, now=now)
        link.pending_tenants = [
            {"id": c.id, "tenant_id": c.tenant_id, "tenant_name": c.tenant_name}
            for c in organisations
        ]
        link.xero_user_email = tokens.user_email
        link.save()
        audit_record(
            actor=actor,
            company=actor.company,
            action="Xero authorised",
            target=", ".join(c.tenant_name for c in organisations),
        )
    if len(organisations) == 1:
        return xero_tenant_choose(actor=actor, tenant_id=organisations[0].tenant_id, now=now)
    return link


def _store_tokens(link: XeroConnection, tokens: oauth.TokenSet, *, now: dt.datetime) -> None:
    link.access_token = tokens.access_token
    link.refresh_token = tokens.refresh_token
    link.access_expires_at = tokens.expires_at
    link.refresh_obtained_at = now
    if tokens.scope:
        link.scopes = tokens.scope


def xero_tenant_choose(
    *,
    actor: Actor,
    tenant_id: str,
    confirm_other_organisation: bool = False,
    now: dt.datetime | None = None,
) -> XeroConnection:
    """Link the company to one of the organisations the user just authorised."""
    _require_api_package(actor)
    now = now or timezone.now()
    with transaction.atomic():
        link = XeroConnection.objects.select_for_update().get(company=actor.company)
        chosen = next((t for t in link.pending_tenants if t["tenant_id"] == tenant_id), None)
        if chosen is None:
            raise ApplicationError(
                "Choose one of the organisations you just authorised.", field="tenant_id"
            )
        taken = XeroConnection.objects.filter(tenant_id=tenant_id).exclude(pk=link.pk).exists()
        if taken:
            raise ApplicationError(
                f"“{chosen['tenant_name']}” is already linked to another company in LedgerBridge. "
                "Choose another organisation, or reset that company's link first.",
                field="tenant_id",
            )
        if (
            link.previous_tenant_id
            and link.previous_tenant_id != tenant_id
            and not (actor.is_platform_staff and confirm_other_organisation)
        ):
            raise ApplicationError(
                f"This company's documents were posted to “{link.previous_tenant_name}”. Linking "
                f"“{chosen['tenant_name']}” instead needs platform staff to confirm.",
                field="tenant_id",
            )
        link.tenant_id = tenant_id
        link.tenant_name = chosen["tenant_name"]
        link.connection_id = chosen["id"]
        link.pending_tenants = []
        link.status = LinkStatus.CONNECTED
        link.connected_at = now
        link.connected_by = actor.user
        link.connected_by_label = actor.name
        link.last_error = ""
        link.last_error_at = None
        try:
            with transaction.atomic():
                link.save()
        except IntegrityError:
            raise ApplicationError(
                f"“{chosen['tenant_name']}” is already linked to another company in LedgerBridge.",
                field="tenant_id",
            ) from None
        audit_record(
            actor=actor,
            company=actor.company,
            action="Xero organisation linked",
            target=link.tenant_name,
            changes={"tenant_id": tenant_id},
        )
    _read_short_code(link)
    # First linked with documents waiting: what the organisation already holds is
    # matched first, and posting waits for a Super Admin (golive.py).
    golive_start_on_link(company=actor.company, organisation=tenant_id, now=now)
    # Documents waiting for the link go now (unless going live holds them).
    sync_records_resume(company_id=actor.company.pk)
    return link


def _read_short_code(link: XeroConnection) -> None:
    """Xero's short code lets "open in Xero" links land in the right organisation."""
    from .client import XeroClient

    try:
        client = XeroClient(link.company, interactive=True)  # the Super Admin is waiting
        organisations = client.call(client.api.get_organisations).organisations or []
    except XeroError as error:
        log.warning("xero.short_code_unread", company_id=link.company_id, reason=str(error))
        return
    if organisations and organisations[0].short_code:
        link.short_code = organisations[0].short_code
        link.save(update_fields=["short_code", "updated_at"])


@dataclass(frozen=True)
class Credentials:
    access_token: str
    tenant_id: str


def xero_credentials(
    *, company: Company, now: dt.datetime | None = None, force_refresh: bool = False
) -> Credentials:
    """A valid access token for the company's organisation, refreshing it if due.

    ``force_refresh``: Xero refused the current token (401) although it had not
    expired by our clock; get a new one unless another process just did.
    """
    now = now or timezone.now()
    link = XeroConnection.objects.filter(company=company).first()
    if link is None or link.status != LinkStatus.CONNECTED:
        raise LinkNotUsable(_not_usable_message(link))
    refused_token = link.access_token if force_refresh else None
    fresh = link.access_expires_at and link.access_expires_at > now + REFRESH_MARGIN
    if fresh and not force_refresh:
        return Credentials(access_token=link.access_token, tenant_id=link.tenant_id)
    failure: oauth.IdentityError | None = None
    with transaction.atomic():
        link = XeroConnection.objects.select_for_update().get(pk=link.pk)
        if link.status != LinkStatus.CONNECTED:
            raise LinkNotUsable(_not_usable_message(link))
        fresh = link.access_expires_at and link.access_expires_at > now + REFRESH_MARGIN
        if fresh and link.access_token != refused_token:
            return Credentials(access_token=link.access_token, tenant_id=link.tenant_id)
        try:
            tokens = _refresh_with_grace(link.refresh_token, now=now)
        except oauth.IdentityError as error:
            failure = error
            _record_failure(link, error, now=now)
        else:
            _store_tokens(link, tokens, now=now)
            link.save()
            log.info("xero.token_refreshed", company_id=company.pk)
            return Credentials(access_token=link.access_token, tenant_id=link.tenant_id)
    assert failure is not None
    if isinstance(failure, oauth.GrantRejected):
        raise LinkNotUsable(_not_usable_message(link))
    # The link's last error says it too (_record_failure), for the pages that show it.
    if failure.retryable:
        raise XeroUnavailable(f"Xero could not be reached to renew access: {failure.message}")
    raise XeroAuthRejected(f"Xero refused to renew access: {failure.message}")


def _refresh_with_grace(refresh_token: str, *, now: dt.datetime) -> oauth.TokenSet:
    try:
        return oauth.refresh(refresh_token=refresh_token, now=now)
    except oauth.GrantRejected:
        raise
    except oauth.IdentityError as error:
        if not error.retryable:
            raise
        # The answer may have been lost after Xero rotated the token. Xero
        # accepts the same refresh token again within its grace period and
        # returns the pair it issued, so one retry recovers it.
        log.warning("xero.refresh_retry", reason=error.message)
        return oauth.refresh(refresh_token=refresh_token, now=now)


def _record_failure(link: XeroConnection, error: oauth.IdentityError, *, now: dt.datetime) -> None:
    link.last_error_at = now
    if isinstance(error, oauth.GrantRejected):
        link.status = LinkStatus.NEEDS_REAUTHORISATION
        link.last_error = (
            "Xero no longer accepts this link (the authorisation was revoked, expired after 60 "
            "days unused, or the connection was removed in Xero). A Super Admin must click "
            "Authorise API again; nothing is posted until then and nothing is lost."
        )
    else:
        link.last_error = error.message
    link.save(update_fields=["status", "last_error", "last_error_at", "updated_at"])


def _not_usable_message(link: XeroConnection | None) -> str:
    if link is None or link.status == LinkStatus.NOT_CONNECTED:
        return (
            "The company is not connected to Xero. A Super Admin can connect it in "
            "Configuration > Accounting (Authorise API)."
        )
    if link.status == LinkStatus.NEEDS_REAUTHORISATION:
        return (
            "The Xero link needs re-authorisation: a Super Admin must click Authorise API "
            "in Configuration > Accounting. Posting resumes after that."
        )
    return "The Xero link is disconnected. A Super Admin can reconnect it in Configuration > Accounting."


def xero_call_succeeded(*, company: Company, now: dt.datetime | None = None) -> None:
    XeroConnection.objects.filter(company=company).update(last_success_at=now or timezone.now())


def xero_call_rejected(*, company: Company, message: str, now: dt.datetime | None = None) -> None:
    """Xero answered 401/403 to an API call: the link needs the user again."""
    XeroConnection.objects.filter(company=company, status=LinkStatus.CONNECTED).update(
        status=LinkStatus.NEEDS_REAUTHORISATION,
        last_error=message,
        last_error_at=now or timezone.now(),
    )


# Xero forgets a refresh token unused for 60 days; renewing well before keeps
# quiet companies linked.
KEEPALIVE_AFTER = dt.timedelta(days=30)


def xero_links_keep_alive(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    renewed = 0
    stale = XeroConnection.objects.filter(
        status=LinkStatus.CONNECTED, refresh_obtained_at__lt=now - KEEPALIVE_AFTER
    ).select_related("company")
    for link in stale:
        XeroConnection.objects.filter(pk=link.pk).update(access_expires_at=now)
        try:
            xero_credentials(company=link.company, now=now)
        except XeroError as error:
            log.warning("xero.keep_alive_failed", company_id=link.company_id, reason=error.message)
        else:
            renewed += 1
    return renewed


def xero_link_reset(*, actor: Actor, now: dt.datetime | None = None) -> XeroConnection:
    """De-authorise: revoke, delete the connection, wipe tokens, set Not connected.

    Documents keep their Xero ids and history; the organisation is remembered so
    that linking a different one later needs platform staff to confirm.
    """
    require(actor, Permission.CONFIGURE)
    now = now or timezone.now()
    notes: list[str] = []
    with transaction.atomic():
        link = XeroConnection.objects.select_for_update().get(
            pk=xero_link_get(company=actor.company).pk
        )
        if link.connection_id and link.access_token:
            try:
                oauth.delete_connection(
                    access_token=link.access_token, connection_id=link.connection_id
                )
            except oauth.IdentityError as error:
                notes.append(f"connection not deleted: {error.message}")
        if link.refresh_token:
            try:
                oauth.revoke(refresh_token=link.refresh_token)
            except oauth.IdentityError as error:
                notes.append(f"token not revoked: {error.message}")
        if link.tenant_id:
            link.previous_tenant_id = link.tenant_id
            link.previous_tenant_name = link.tenant_name
        old_name = link.tenant_name
        link.status = LinkStatus.NOT_CONNECTED
        link.access_token = ""
        link.refresh_token = ""
        link.access_expires_at = None
        link.tenant_id = ""
        link.tenant_name = ""
        link.short_code = ""
        link.connection_id = ""
        link.pending_tenants = []
        link.last_error = "; ".join(notes)
        link.last_error_at = now if notes else None
        link.save()
        audit_record(
            actor=actor,
            company=actor.company,
            action="Xero link reset",
            target=old_name,
            changes={"notes": notes} if notes else None,
        )
    return link
