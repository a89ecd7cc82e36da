"""The operations overview: every company's Xero link, backlog, failures and rate-limit use,
and the stored figures out of range (three more queries, one per model).

Built for hundreds of companies: one query pages through the companies with
their counts aggregated in the database (sorted so that those needing
attention come first), three sum the whole platform, and one read of the
rate limiter's shared log (a Redis pipeline, or one query) gives the page's
organisations their calls in the current minute and day. The number of queries
does not grow with the number of companies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    FilteredRelation,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from ledgerbridge.accounting.models import (
    OPEN_SYNC_STATUSES,
    AccountingPackage,
    SyncRecord,
    SyncStatus,
)
from ledgerbridge.companies.models import Company, User
from ledgerbridge.errors import PermissionDeniedError
from ledgerbridge.invoicing.figures import FigureProblem, figure_problems
from ledgerbridge.words import counted
from ledgerbridge.xero.models import LinkStatus, XeroWebhookEvent
from ledgerbridge.xero.ratelimit import RateUsage, Usage, rate_limiter

PAGE_SIZE = 50
# The operations page lists the first stored figures out of range (per model);
# ``ledgerbridge check-data`` lists them all.
OUT_OF_RANGE_SHOWN = 100
# A document waiting longer than this is worth a look (the worker runs every
# minute and posts 59 documents a minute per organisation).
STALE_BACKLOG = dt.timedelta(minutes=30)

ATTENTION, WATCH, OK = 2, 1, 0
FILTERS = [
    ("", "All companies"),
    ("attention", "Needs attention"),
    ("backlog", "With a backlog"),
    ("xero_api", "On Xero (API)"),
]

_OPEN = OPEN_SYNC_STATUSES
_WAITING = [SyncStatus.PENDING, SyncStatus.POSTING]
_FAILED = [SyncStatus.FAILED, SyncStatus.NEEDS_ATTENTION]


@dataclass
class CompanyHealth:
    """One line of the overview. ``rate_*`` are for the company's organisation."""

    company_id: int
    name: str
    package: str
    package_label: str
    link_status: str
    link_status_label: str
    tenant_id: str
    tenant_name: str
    link_error: str
    link_error_at: dt.datetime | None
    last_success_at: dt.datetime | None
    pending: int
    posting: int
    oldest_waiting_since: dt.datetime | None
    failed: int
    needs_attention: int
    last_failure: str
    last_failure_at: dt.datetime | None
    paused_until: dt.datetime | None
    last_polled_at: dt.datetime | None
    poll_error: str
    last_webhook_at: dt.datetime | None
    attention: int
    reasons: list[str] = field(default_factory=list)
    rate_minute: Usage | None = None
    rate_day: Usage | None = None

    @property
    def backlog(self) -> int:
        return self.pending + self.posting

    @property
    def uses_xero_api(self) -> bool:
        return self.package == AccountingPackage.XERO_API


@dataclass
class OperationsOverview:
    page: Page  # of CompanyHealth
    app_minute: Usage
    companies: int
    needing_attention: int
    backlog: int
    failed: int
    now: dt.datetime
    # Stored figures outside their bounds, at most OUT_OF_RANGE_SHOWN rows per model.
    figures_out_of_range: list[FigureProblem] = field(default_factory=list)


def _require_platform_staff(user: User) -> None:
    if not getattr(user, "is_platform_staff", False):
        raise PermissionDeniedError("Only platform staff may see the operations overview.")


def companies_health(*, now: dt.datetime, search: str = "", show: str = "") -> QuerySet[Company]:
    """Companies with their health annotated, those needing attention first."""
    latest_failure = SyncRecord.objects.filter(company=OuterRef("pk"), status__in=_FAILED).order_by(
        "-updated_at", "-id"
    )
    latest_webhook = XeroWebhookEvent.objects.filter(company=OuterRef("pk")).order_by(
        "-received_at"
    )
    xero_api = Q(package=AccountingPackage.XERO_API)
    qs = (
        Company.objects.annotate(
            # Only the records still on their way are joined: posted ones,
            # the bulk of the table, never leave the index.
            open_records=FilteredRelation(
                "sync_records", condition=Q(sync_records__status__in=_OPEN)
            ),
            package=Coalesce(F("accounting_settings__package"), Value(AccountingPackage.NONE)),
            paused_until=Case(
                When(
                    accounting_settings__paused_until__gt=now,
                    then=F("accounting_settings__paused_until"),
                ),
                default=None,
                output_field=DateTimeField(),
            ),
            link_status=Coalesce(F("xero_connection__status"), Value(LinkStatus.NOT_CONNECTED)),
            tenant_id=Coalesce(F("xero_connection__tenant_id"), Value("")),
            tenant_name=Coalesce(F("xero_connection__tenant_name"), Value("")),
            link_error=Coalesce(
                F("xero_connection__last_error"), Value(""), output_field=TextField()
            ),
            link_error_at=F("xero_connection__last_error_at"),
            last_success_at=F("xero_connection__last_success_at"),
            last_polled_at=F("xero_poll__last_polled_at"),
            poll_error=Coalesce(F("xero_poll__last_error"), Value(""), output_field=TextField()),
            pending=Count("open_records", filter=Q(open_records__status=SyncStatus.PENDING)),
            posting=Count("open_records", filter=Q(open_records__status=SyncStatus.POSTING)),
            failed=Count("open_records", filter=Q(open_records__status=SyncStatus.FAILED)),
            needs_attention=Count(
                "open_records", filter=Q(open_records__status=SyncStatus.NEEDS_ATTENTION)
            ),
            oldest_waiting_since=Min(
                "open_records__created_at", filter=Q(open_records__status__in=_WAITING)
            ),
            last_failure=Subquery(latest_failure.values("message")[:1]),
            last_failure_at=Subquery(latest_failure.values("updated_at")[:1]),
            last_webhook_at=Subquery(latest_webhook.values("received_at")[:1]),
        )
        .annotate(
            attention=Case(
                When(xero_api & Q(link_status=LinkStatus.NEEDS_REAUTHORISATION), then=ATTENTION),
                When(Q(failed__gt=0) | Q(needs_attention__gt=0), then=ATTENTION),
                When(
                    xero_api
                    & ~Q(link_status=LinkStatus.CONNECTED)
                    & (Q(pending__gt=0) | Q(posting__gt=0)),
                    then=ATTENTION,
                ),
                When(paused_until__isnull=False, then=WATCH),
                When(oldest_waiting_since__lt=now - STALE_BACKLOG, then=WATCH),
                When(xero_api & ~Q(poll_error=""), then=WATCH),
                When(
                    xero_api
                    & Q(link_error_at__isnull=False)
                    & (Q(last_success_at__isnull=True) | Q(last_success_at__lt=F("link_error_at"))),
                    then=WATCH,
                ),
                default=OK,
                output_field=IntegerField(),
            ),
        )
        .defer("logo")
    )
    if search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(legal_name__icontains=term) | Q(xero_connection__tenant_name__icontains=term)
        )
    if show == "attention":
        qs = qs.filter(attention__gt=OK)
    elif show == "backlog":
        qs = qs.filter(Q(pending__gt=0) | Q(posting__gt=0))
    elif show == "xero_api":
        qs = qs.filter(xero_api)
    return qs.order_by(
        "-attention",
        F("failed").desc(),
        F("needs_attention").desc(),
        F("oldest_waiting_since").asc(nulls_last=True),
        "legal_name",
        "pk",
    )


def _reasons(company: Any, now: dt.datetime) -> list[str]:
    """Why a company is flagged, in words (the same rules as the ``attention`` annotation)."""
    reasons = []
    xero_api = company.package == AccountingPackage.XERO_API
    if xero_api and company.link_status == LinkStatus.NEEDS_REAUTHORISATION:
        reasons.append("The Xero link needs re-authorisation by a Super Admin.")
    if company.needs_attention:
        verb = "needs" if company.needs_attention == 1 else "need"
        reasons.append(f"{counted(company.needs_attention, 'document')} {verb} attention.")
    if company.failed:
        reasons.append(f"{counted(company.failed, 'document')} failed in Xero.")
    waiting = company.pending + company.posting
    if xero_api and company.link_status != LinkStatus.CONNECTED and waiting:
        reasons.append(
            f"{counted(waiting, 'document')} wait{'s' if waiting == 1 else ''} for a Xero link."
        )
    if company.paused_until:
        reasons.append("Posting is paused by Xero's daily limit.")
    if company.oldest_waiting_since and company.oldest_waiting_since < now - STALE_BACKLOG:
        reasons.append("Documents have waited more than 30 minutes.")
    if xero_api and company.poll_error:
        reasons.append("The last payment poll failed.")
    if (
        xero_api
        and company.link_error_at
        and (not company.last_success_at or company.last_success_at < company.link_error_at)
    ):
        reasons.append("The last call to Xero failed.")
    return reasons


def _health(company: Any, now: dt.datetime, usage: RateUsage) -> CompanyHealth:
    return CompanyHealth(
        company_id=company.pk,
        name=company.legal_name,
        package=company.package,
        package_label=AccountingPackage(company.package).label,
        link_status=company.link_status,
        link_status_label=LinkStatus(company.link_status).label,
        tenant_id=company.tenant_id,
        tenant_name=company.tenant_name,
        link_error=company.link_error,
        link_error_at=company.link_error_at,
        last_success_at=company.last_success_at,
        pending=company.pending,
        posting=company.posting,
        oldest_waiting_since=company.oldest_waiting_since,
        failed=company.failed,
        needs_attention=company.needs_attention,
        last_failure=company.last_failure or "",
        last_failure_at=company.last_failure_at,
        paused_until=company.paused_until,
        last_polled_at=company.last_polled_at,
        poll_error=company.poll_error,
        last_webhook_at=company.last_webhook_at,
        attention=company.attention,
        reasons=_reasons(company, now),
        rate_minute=usage.minute.get(company.tenant_id),
        rate_day=usage.day.get(company.tenant_id),
    )


def operations_overview(
    *,
    user: User,
    now: dt.datetime,
    search: str = "",
    show: str = "",
    page: int | str | None = 1,
    page_size: int = PAGE_SIZE,
    clock: float | None = None,
) -> OperationsOverview:
    """One page of the overview, with the platform's totals and the app's minute.

    ``clock`` is the rate limiter's time (epoch seconds); it defaults to ``now``.
    """
    _require_platform_staff(user)
    companies = companies_health(now=now, search=search, show=show)
    result = Paginator(companies, page_size).get_page(page)
    rows: list[Any] = list(result.object_list)
    usage = rate_limiter().usage(
        [c.tenant_id for c in rows], now=now.timestamp() if clock is None else clock
    )
    result.object_list = [_health(company, now, usage) for company in rows]  # type: ignore[misc]
    records = SyncRecord.objects.filter(status__in=_OPEN).aggregate(
        backlog=Count("pk", filter=Q(status__in=_WAITING)),
        failed=Count("pk", filter=Q(status__in=_FAILED)),
    )
    return OperationsOverview(
        page=result,
        app_minute=usage.app_minute,
        companies=Company.objects.count(),
        needing_attention=companies_health(now=now).filter(attention=ATTENTION).count(),  # type: ignore[misc]
        backlog=records["backlog"],
        failed=records["failed"],
        now=now,
        figures_out_of_range=figure_problems(limit=OUT_OF_RANGE_SHOWN),
    )
