"""REST endpoints of Configuration > Accounting (Super Admin; the package: platform staff)."""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
from typing import Any

from django.http import HttpRequest
from ninja import Router

from ledgerbridge.accounting.models import AccountingPackage
from ledgerbridge.accounting.services import accounting_package_set, accounting_settings_get
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.xero import connection
from ledgerbridge.xero.setup_check import xero_setup_check_run

from .schemas import AccountingOut, ErrorOut, PackageIn, SetupCheckOut, XeroLinkOut

router = Router(tags=["accounting"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require(actor, Permission.CONFIGURE)
    return actor


def _out(actor: Actor) -> AccountingOut:
    settings = accounting_settings_get(company=actor.company)
    xero = None
    if settings.package == AccountingPackage.XERO_API:
        link = connection.xero_link_get(company=actor.company)
        xero = XeroLinkOut(
            status=link.status,
            status_label=link.get_status_display(),
            tenant_id=link.tenant_id,
            tenant_name=link.tenant_name,
            short_code=link.short_code,
            connected_at=link.connected_at,
            connected_by=link.connected_by_label,
            access_expires_at=link.access_expires_at,
            last_success_at=link.last_success_at,
            last_error=link.last_error,
        )
    return AccountingOut(
        package=settings.package, package_label=settings.get_package_display(), xero=xero
    )


@router.get("", response={200: AccountingOut, 403: ErrorOut})
def accounting_get(request: HttpRequest) -> Any:
    return _out(_actor(request))


@router.put("/package", response={200: AccountingOut, 403: ErrorOut, 422: Any})
def accounting_package_put(request: HttpRequest, payload: PackageIn) -> Any:
    actor = _actor(request)
    accounting_package_set(actor=actor, package=payload.package)
    return _out(actor)


@router.post("/xero/setup-check", response={200: SetupCheckOut, 400: ErrorOut, 403: ErrorOut})
def accounting_setup_check(request: HttpRequest) -> Any:
    check = xero_setup_check_run(actor=_actor(request))
    return SetupCheckOut(
        ok=check.ok, ran_at=check.ran_at, ran_by=check.ran_by_label, items=check.items
    )


@router.post("/xero/reset", response={200: AccountingOut, 403: ErrorOut})
def accounting_xero_reset(request: HttpRequest) -> Any:
    actor = _actor(request)
    connection.xero_link_reset(actor=actor)
    return _out(actor)
