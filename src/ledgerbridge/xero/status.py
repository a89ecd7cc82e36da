"""Where posting to Xero stands, in one sentence that is true, for one reader.

One selector for the invoice list's banner, the document page and the REST
API. It says exactly one of: *sending* (counts and progress), *waiting* for
Xero's rate limit (and when it goes on), *blocked* (not connected, needs
re-authorisation, paused for the daily limit, or held until a Super Admin confirms
going live — and who must act), *failed*
(how many, and where to see them), or *idle*. For one document also *posted*
and *not sent*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from ledgerbridge.accounting.golive import golive_holds_all
from ledgerbridge.accounting.models import (
    OPEN_SYNC_STATUSES,
    AccountingPackage,
    AccountingSettings,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.words import counted

from .models import LinkStatus, XeroConnection
from .problems import ask_super_admin

SENDING, WAITING, BLOCKED, FAILED, IDLE = "sending", "waiting", "blocked", "failed", "idle"
POSTED, NOT_SENT = "posted", "not_sent"
NOT_CONNECTED, NEEDS_REAUTHORISATION, PAUSED = "not_connected", "needs_reauthorisation", "paused"
GO_LIVE = "go_live"


@dataclass(frozen=True)
class PostingStatus:
    state: str
    headline: str
    blocked_reason: str = ""  # not_connected, needs_reauthorisation, paused, go_live
    who: str = ""  # who must act, said to this reader
    action_label: str = ""  # for a reader who can act …
    action_url: str = ""  # … and where
    resumes_at: dt.datetime | None = None
    on_the_way: int = 0
    posted: int = 0  # 0 unless counted (see posting_status's count_posted)
    failed: int = 0
    progress: int = 0  # percent of the documents of this round already in Xero
    failed_url: str = ""

    @property
    def busy(self) -> bool:
        """Worth looking again in a moment (the banner polls)."""
        return self.state in (SENDING, WAITING)


def _time(value: dt.datetime, now: dt.datetime) -> str:
    local = timezone.localtime(value)
    if local.date() == timezone.localtime(now).date():
        return date_format(local, "H:i")
    return date_format(local, "j M H:i")


def _blocked(
    actor: Actor,
    settings: AccountingSettings,
    now: dt.datetime,
    waiting: int,
    *,
    one_document: bool = False,
) -> PostingStatus | None:
    link = XeroConnection.objects.filter(company=actor.company).first()
    if not waiting:
        nothing_lost = ""
    elif one_document:
        nothing_lost = " This document waits; nothing is lost."
    else:
        nothing_lost = (
            f" {counted(waiting, 'document')} wait{'s' if waiting == 1 else ''}; nothing is lost."
        )
    if link is None or link.status != LinkStatus.CONNECTED:
        reauthorise = link is not None and link.status in (
            LinkStatus.NEEDS_REAUTHORISATION,
            LinkStatus.DISCONNECTED,
        )
        if reauthorise:
            reason, what = NEEDS_REAUTHORISATION, "needs re-authorisation"
            act = "re-authorise Xero in Configuration > Accounting (Authorise API again)"
            label = "Re-authorise Xero"
        else:
            reason, what = NOT_CONNECTED, "is not connected"
            act = "connect Xero in Configuration > Accounting (Authorise API)"
            label = "Connect Xero"
        can = actor.can(Permission.CONFIGURE)
        return PostingStatus(
            state=BLOCKED,
            headline=f"Posting to Xero is blocked: the Xero link {what}.{nothing_lost}",
            blocked_reason=reason,
            who=(f"A Super Admin must {act}." if can else ask_super_admin(actor.company.pk, act)),
            action_label=label if can else "",
            action_url=reverse("config_accounting") + "#xero-link" if can else "",
        )
    if golive_holds_all(actor.company.pk):
        can = actor.can(Permission.CONFIGURE)
        act = "confirm what Xero already holds in Configuration > Accounting > Going live"
        return PostingStatus(
            state=BLOCKED,
            headline="Posting to Xero waits for going live: documents already in Xero are "
            f"matched first, so that nothing is posted twice.{nothing_lost}",
            blocked_reason=GO_LIVE,
            who=(f"A Super Admin must {act}." if can else ask_super_admin(actor.company.pk, act)),
            action_label="Review and confirm" if can else "",
            action_url=reverse("config_go_live") if can else "",
        )
    if settings.paused_until and settings.paused_until > now:
        at = _time(settings.paused_until, now)
        return PostingStatus(
            state=BLOCKED,
            headline=f"Posting is paused until {at}: Xero's daily limit for this organisation "
            f"is used up for automatic posting.{nothing_lost}",
            blocked_reason=PAUSED,
            who=f"Nobody needs to act: posting resumes by itself at {at}.",
            resumes_at=settings.paused_until,
        )
    return None


def posting_status(
    *,
    actor: Actor,
    record: SyncRecord | None = None,
    document_id: int | None = None,
    now: dt.datetime | None = None,
    count_posted: bool = True,
) -> PostingStatus | None:
    """The company's posting state (the list's banner), or one document's when
    ``document_id`` is given (its record may be passed in). None when the company
    does not post through the Xero API.

    Only the company's open records (on their way or refused) are counted for
    the state. All it ever posted is counted when ``count_posted`` or when the
    headline says it (idle, failed): pages that show only the headline pass
    False, so the fragment polled every 2 s while sending reads no posted bulk.
    """
    now = now or timezone.now()
    settings = AccountingSettings.objects.filter(company=actor.company).first()
    if settings is None or settings.package != AccountingPackage.XERO_API:
        return None
    if document_id is not None:
        return _document_status(actor, settings, record, document_id, now)
    records = SyncRecord.objects.filter(company=actor.company)
    on_the_way_q = Q(status__in=[SyncStatus.PENDING, SyncStatus.POSTING])
    counts = records.filter(status__in=OPEN_SYNC_STATUSES).aggregate(
        on_the_way=Count("pk", filter=on_the_way_q),
        failed=Count("pk", filter=Q(status=SyncStatus.FAILED)),
        attention=Count("pk", filter=Q(status=SyncStatus.NEEDS_ATTENTION)),
        since=Min("created_at", filter=on_the_way_q),
        limit_until=Min(
            "next_attempt_at",
            filter=Q(
                status=SyncStatus.PENDING,
                waiting_for=WaitReason.RATE_LIMIT,
                next_attempt_at__gt=now,
            ),
        ),
    )
    on_the_way = counts["on_the_way"]
    failed = counts["failed"] + counts["attention"]
    # Idle and failed headlines (nothing on the way) say how many are posted.
    posted = (
        records.filter(status=SyncStatus.POSTED).count() if count_posted or not on_the_way else 0
    )
    failed_filter = SyncStatus.FAILED if counts["failed"] else SyncStatus.NEEDS_ATTENTION
    common = {
        "on_the_way": on_the_way,
        "posted": posted,
        "failed": failed,
        "failed_url": f"{reverse('invoice_list')}?xero={failed_filter}" if failed else "",
    }
    blocked = _blocked(actor, settings, now, on_the_way)
    if blocked is not None:
        return replace(blocked, **common)
    if counts["limit_until"] is not None:
        at = timezone.localtime(counts["limit_until"])
        return PostingStatus(
            state=WAITING,
            headline=f"Waiting for Xero's rate limit: {counted(on_the_way, 'document')} "
            f"go{'es' if on_the_way == 1 else ''} on at {date_format(at, 'H:i:s')}.",
            who="Nobody needs to act.",
            resumes_at=counts["limit_until"],
            **common,
        )
    if on_the_way:
        # This round: what was posted since the oldest document still on its way was queued.
        done = records.filter(status=SyncStatus.POSTED, posted_at__gte=counts["since"]).count()
        return PostingStatus(
            state=SENDING,
            headline=f"Sending to Xero: {counted(on_the_way, 'document')} on the way · "
            f"{done} of {done + on_the_way} posted.",
            progress=round(100 * done / (done + on_the_way)),
            **common,
        )
    if failed:
        return PostingStatus(
            state=FAILED,
            headline=f"{counted(failed, 'document')} could not be posted to Xero · "
            f"{posted} posted.",
            who="Open each to see what to fix and who can fix it.",
            **common,
        )
    return PostingStatus(state=IDLE, headline=f"Xero: {posted} posted.", **common)


def _document_status(
    actor: Actor,
    settings: AccountingSettings,
    record: SyncRecord | None,
    document_id: int,
    now: dt.datetime,
) -> PostingStatus:
    if record is None:
        record = SyncRecord.objects.filter(company=actor.company, document_id=document_id).first()
    if record is not None and record.status == SyncStatus.POSTED:
        return PostingStatus(
            state=POSTED, headline=f"In Xero as {record.external_number}.", posted=1
        )
    if record is not None and record.status in (SyncStatus.FAILED, SyncStatus.NEEDS_ATTENTION):
        headline = (
            "Xero refused this document."
            if record.status == SyncStatus.FAILED
            else "Xero could not be reached for this document after several attempts."
        )
        return PostingStatus(state=FAILED, headline=headline, failed=1)
    waiting = int(record is not None)
    blocked = _blocked(actor, settings, now, waiting, one_document=True)
    if blocked is not None:
        return blocked
    if record is None:
        return PostingStatus(
            state=NOT_SENT, headline="Not sent to Xero yet: its “Post to Xero” task is open."
        )
    if record.waiting_for == WaitReason.GO_LIVE:  # its contact is to be chosen
        can = actor.can(Permission.CONFIGURE)
        act = "choose its Xero contact in Configuration > Accounting > Going live"
        return PostingStatus(
            state=BLOCKED,
            headline=record.message,
            blocked_reason=GO_LIVE,
            who=(f"A Super Admin must {act}." if can else ask_super_admin(actor.company.pk, act)),
            action_label="Choose the contact" if can else "",
            action_url=reverse("config_go_live") if can else "",
            on_the_way=1,
        )
    if (
        record.waiting_for == WaitReason.RATE_LIMIT
        and record.next_attempt_at
        and record.next_attempt_at > now
    ):
        at = date_format(timezone.localtime(record.next_attempt_at), "H:i:s")
        return PostingStatus(
            state=WAITING,
            headline=f"Waiting for Xero's rate limit: it goes on at {at}.",
            who="Nobody needs to act.",
            resumes_at=record.next_attempt_at,
            on_the_way=1,
        )
    note = f" {record.message}" if record.message else ""
    return PostingStatus(state=SENDING, headline=f"On its way to Xero.{note}", on_the_way=1)
