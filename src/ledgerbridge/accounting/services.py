"""Actions on a company's accounting settings."""

from __future__ import annotations

from django.db import transaction

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, PermissionDeniedError
from ledgerbridge.invoicing.workflow import tasks_refresh_visibility

from .models import AccountingPackage, AccountingSettings
from .workflow import POST_TASK


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
        # Tasks that no longer apply are hidden, not deleted; switching back shows them.
        tasks_refresh_visibility(company_id=actor.company.pk, task_type_key=POST_TASK)
    return settings


AUTO_POST_FIELDS = (
    "auto_post_sales_invoice",
    "auto_post_sales_credit_note",
    "auto_post_purchase_invoice",
    "auto_post_purchase_credit_note",
    "post_as_draft",
)


def posting_settings_set(*, actor: Actor, **flags: bool) -> AccountingSettings:
    """Auto-complete or manual "Post to Xero" per document type; draft or approved."""
    require(actor, Permission.CONFIGURE)
    unknown = set(flags) - set(AUTO_POST_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown setting {sorted(unknown)[0]}.")
    with transaction.atomic():
        settings = AccountingSettings.objects.select_for_update().get_or_create(
            company=actor.company
        )[0]
        changes = {}
        for name, value in flags.items():
            if getattr(settings, name) != bool(value):
                changes[name] = [getattr(settings, name), bool(value)]
                setattr(settings, name, bool(value))
        if changes:
            settings.save()
            audit_record(
                actor=actor,
                company=actor.company,
                action="posting settings changed",
                target=actor.company.legal_name,
                changes=changes,
            )
    return settings


def documents_send(*, actor: Actor, document_ids: list[int]) -> int:
    """A Finance user sends several documents to the package at once (their open or
    failed tasks)."""
    from ledgerbridge.invoicing.models import Task, TaskStatus
    from ledgerbridge.invoicing.workflow import task_complete

    require(actor, Permission.WORK_DOCUMENTS)
    tasks = Task.objects.filter(
        document__company=actor.company,
        document_id__in=document_ids,
        type=POST_TASK,
        hidden=False,
        status__in=[TaskStatus.OPEN, TaskStatus.FAILED],
        # In an import file: importing the file puts them in the package (see the outbox).
        document__export_entries__isnull=True,
    ).values_list("pk", flat=True)
    count = 0
    for task_id in tasks:
        task_complete(actor=actor, task_id=task_id)
        count += 1
    return count
