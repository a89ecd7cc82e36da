"""Actions on a company's accounting settings."""

from __future__ import annotations

from django.db import transaction

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, PermissionDeniedError

from .models import AccountingPackage, AccountingSettings


def accounting_settings_get(*, company: Company) -> AccountingSettings:
    settings, _ = AccountingSettings.objects.get_or_create(company=company)
    return settings


def accounting_package_set(*, actor: Actor, package: str) -> AccountingSettings:
    """Choose the company's accounting package. Platform staff only; audited.

    Nothing about documents is deleted: their sync history stays, and tasks that
    no longer apply are hidden, not removed.
    """
    if not actor.is_platform_staff:
        raise PermissionDeniedError(
            "Only platform staff can change the accounting package. Contact support."
        )
    if package not in AccountingPackage.values:
        choices = ", ".join(AccountingPackage.values)
        raise ApplicationError(f"Unknown accounting package; choose {choices}.", field="package")
    with transaction.atomic():
        settings = AccountingSettings.objects.select_for_update().get_or_create(
            company=actor.company
        )[0]
        old = settings.package
        if old == package:
            return settings
        settings.package = package
        settings.save(update_fields=["package", "updated_at"])
        audit_record(
            actor=actor,
            company=actor.company,
            action="accounting package changed",
            target=actor.company.legal_name,
            changes={"package": [old, package]},
        )
    return settings
