"""Invoices > Reconciliation: a period's documents compared with the package's, by class,
with "Reconcile now", acknowledging a row with a reason, the safe actions, and CSV."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ledgerbridge.accounting import reconcile
from ledgerbridge.accounting import reconcile_read as read
from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.models import (
    AccountingPackage,
    ReconcileRunStatus,
    ReconciliationRow,
    ReconciliationRun,
)
from ledgerbridge.accounting.services import accounting_settings_get
from ledgerbridge.companies.permissions import Actor, Permission
from ledgerbridge.errors import ApplicationError, NotFoundError, PermissionDeniedError
from ledgerbridge.invoicing.models import DocumentType
from ledgerbridge.invoicing.money import format_date
from ledgerbridge.invoicing.selectors import document_detail_get
from ledgerbridge.spreadsheet import SafeCsvWriter

from ..forms import DATE
from ..templatetags.web import package_words
from .common import PAGE_SIZE, actor_view, int_or_none, paginate_ids_first, redirect_back

TREND_RUNS = 12
DATE_FIELDS = ("date", "due_date")
# The service's words for a period longer than it reconciles, said before a run is asked for.
PERIOD_TOO_LONG = "Reconcile at most a year at a time; choose a shorter period."


class ReconcileFilterForm(forms.Form):
    date_from = forms.DateField(
        widget=DATE,
        label="From",
        error_messages={
            "invalid": "The first day is not a date on the calendar.",
            "required": "Choose the first day of the period.",
        },
    )
    date_to = forms.DateField(
        widget=DATE,
        label="To",
        error_messages={
            "invalid": "The last day is not a date on the calendar.",
            "required": "Choose the last day of the period.",
        },
    )
    type = forms.ChoiceField(
        required=False, choices=[("", "All types"), *DocumentType.choices], label="Type"
    )
    search = forms.CharField(required=False, max_length=100, label="Number or contact")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The period ends before it starts.")
        elif start and end and end - start > reconcile.LONGEST_PERIOD:
            self.add_error("date_from", PERIOD_TOO_LONG)
        return data

    def period_error(self) -> str:
        """What is wrong with the period asked for, in words; "" when it is right."""
        if not self.is_bound:
            return ""
        for field in ("date_from", "date_to"):
            for error in self.errors.get(field, []):
                return str(error)
        return ""


def _period(
    request: HttpRequest, actor: Actor, form: ReconcileFilterForm
) -> tuple[dt.date, dt.date]:
    """The period asked for; else the last run's; else this month."""
    if form.is_valid():
        return form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    latest = read.reconciliation_run_latest(actor=actor)
    if latest is not None and not request.GET.get("date_from"):
        return latest.period_from, latest.period_to
    return read.month_of(timezone.localdate())


def _filters(request: HttpRequest, form: ReconcileFilterForm) -> read.RowFilters:
    tab = request.GET.get("tab", read.OPEN)
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    return read.RowFilters(
        tab=tab if tab in read.TABS else read.OPEN,
        document_type=data.get("type") or "",
        search=(data.get("search") or "").strip(),
    )


def _page_context(request: HttpRequest, actor: Actor, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    data = request.GET.copy()
    form = ReconcileFilterForm(data if data.get("date_from") or data.get("date_to") else None)
    date_from, date_to = _period(request, actor, form)
    if not form.is_bound:
        form = ReconcileFilterForm(
            {**data.dict(), "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
        )
        form.is_valid()
    filters = _filters(request, form)
    package = company_package_name(actor.company.pk)
    latest = read.reconciliation_run_latest(actor=actor, date_from=date_from, date_to=date_to)
    running = latest if latest is not None and latest.status == ReconcileRunStatus.RUNNING else None
    # A run that failed compared nothing: its empty tabs would read as "every document
    # agrees". It is said above the last run that finished, whose rows still stand.
    failed = latest if latest is not None and latest.status == ReconcileRunStatus.FAILED else None
    shown = latest
    if running is not None or failed is not None:
        shown = read.reconciliation_run_latest_done(
            actor=actor, date_from=date_from, date_to=date_to
        )
    query = {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        **({"type": filters.document_type} if filters.document_type else {}),
        **({"search": filters.search} if filters.search else {}),
    }
    # Links and forms name the page itself: it is also rendered as the answer to an
    # acknowledgement with an error, at that form's URL, where "?tab=…" would lead nowhere.
    page_url = reverse("reconciliation_page")
    counts = read.reconciliation_tab_counts(run=shown) if shown is not None else {}
    trend = read.reconciliation_trend(actor=actor, limit=TREND_RUNS)
    tabs = [
        {
            "key": tab,
            "label": read.tab_label(tab, package),
            "count": counts.get(tab, 0),
            "url": f"{page_url}?" + urlencode({**query, "tab": tab}),
            "trend": read.trend_points(trend, tab)
            if tab not in (read.OPEN, read.ALL) and len(trend) > 1
            else "",
        }
        for tab in read.TABS
    ]
    page = None
    if shown is not None:
        rows = read.reconciliation_rows_filtered(actor=actor, run=shown, filters=filters)
        page = paginate_ids_first(request, rows)
    package_key = accounting_settings_get(company=actor.company).package
    if page is not None:
        for row in page.object_list:
            _decorate(row, package, package_key)
            row.run = shown  # one run: its start, for the changes seen since
        since = read.changes_since(page.object_list)
        for row in page.object_list:
            row.since = since.get(row.document_id)  # type: ignore[attr-defined]
    uses_api = package_key == AccountingPackage.XERO_API
    return {
        "form": form,
        "period_error": form.period_error(),
        "package": package,
        "uses_api": uses_api,
        "date_from": date_from,
        "date_to": date_to,
        "this_month": read.month_of(today),
        "last_month": read.month_of(read.month_of(today)[0] - dt.timedelta(days=1)),
        "running": running,
        "failed": failed,
        "page_url": page_url,
        "pager_base": page_url,
        "here": f"{page_url}?{request.GET.urlencode()}" if request.GET else page_url,
        "run": shown,
        "run_bytes": read.bytes_text(shown.bytes_read) if shown else "",
        "tabs": tabs,
        "tab": filters.tab,
        "tab_label": read.tab_label(filters.tab, package),
        "page": page,
        "trend_runs": len(trend),
        "csv_query": urlencode({**query, "tab": filters.tab, "format": "csv"}),
        "query": urlencode({**query, "tab": filters.tab}),
        **extra,
    }


def _decorate(row: ReconciliationRow, package: str, package_key: str) -> None:
    """What the row shows: its class in words, the compared values, the actions it
    allows (``reconcile.reconciliation_row_actions``, the one rule)."""
    row.class_label = read.class_label(row.outcome, package)  # type: ignore[attr-defined]
    row.type_label = _type_label(row.type)  # type: ignore[attr-defined]
    row.compared = _as_shown(row, read.row_compared(row))  # type: ignore[attr-defined]
    row.is_open = read.is_open(row)  # type: ignore[attr-defined]
    row.allowed = reconcile.reconciliation_row_actions(row, package=package_key)  # type: ignore[attr-defined]


def _as_shown(row: ReconciliationRow, compared: list[read.Compared]) -> list[read.Compared]:
    """Dates as every page shows them (``2 Nov 2026``, not ``2026-11-02``) and amounts
    with their currency (``1,005.34 GBP``), each side in its own currency."""
    ours_currency = (row.ours or {}).get("currency") or row.currency
    their_currency = (row.theirs or {}).get("currency") or row.currency
    shown = []
    for c in compared:
        if c.key in DATE_FIELDS:
            c = replace(c, ours=_date_text(c.ours), theirs=_date_text(c.theirs))
        elif c.key in read.MONEY_FIELDS:
            c = replace(
                c,
                ours=_money_text(c.ours, ours_currency),
                theirs=_money_text(c.theirs, their_currency),
            )
        shown.append(c)
    return shown


def _date_text(value: str) -> str:
    try:
        return format_date(dt.date.fromisoformat(value)) if value else value
    except ValueError:
        return value


def _money_text(value: str, currency: str) -> str:
    return f"{value} {currency}" if value and currency else value


@actor_view()
def reconciliation_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.GET.get("format") == "csv":
        return _csv(request, actor)
    return render(request, "web/reconciliation/page.html", _page_context(request, actor))


@actor_view()
def reconciliation_progress(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The running run's progress, polled; once it has finished the page reloads."""
    run_id = int_or_none(request.GET.get("run"))
    if run_id is None:
        raise Http404("Which reconciliation?")
    run = reconcile.reconciliation_run_get(actor=actor, run_id=run_id)
    if run.status != ReconcileRunStatus.RUNNING:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(
        request,
        "web/reconciliation/_progress.html",
        {"running": run, "package": company_package_name(actor.company.pk)},
    )


@actor_view()
def reconciliation_row(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A row's place on the page (its run, tab and page): where a document links to."""
    row = reconcile.reconciliation_row_get(actor=actor, row_id=pk)
    return HttpResponseRedirect(_row_url(actor, row))


def _row_url(actor: Actor, row: ReconciliationRow) -> str:
    run: ReconciliationRun = row.run
    tab = read.reconciliation_row_tab(row)
    before = read.reconciliation_row_position(actor=actor, row=row)
    query = {
        "date_from": run.period_from.isoformat(),
        "date_to": run.period_to.isoformat(),
        "tab": tab,
        "page": str(before // PAGE_SIZE + 1),
    }
    return f"{reverse('reconciliation_page')}?{urlencode(query)}#row-{row.pk}"


# -- CSV ----------------------------------------------------------------------------------


def _csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = _page_context(request, actor)
    run: ReconciliationRun | None = context["run"]
    package = context["package"]
    filename = f"reconciliation-{context['date_from']}-{context['date_to']}-{context['tab']}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = SafeCsvWriter(response)
    writer.writerow(
        [
            "Class",
            "Type",
            "Number",
            "Contact",
            "Currency",
            *(
                heading
                for _, label in read.FIELDS
                for heading in (f"{label} (ours)", f"{label} ({package})")
            ),
            "Differences",
            "Acknowledged by",
            "Acknowledged at",
            "Reason",
            f"{package} id",
        ]
    )
    if run is None:
        return response
    rows = read.reconciliation_rows_filtered(
        actor=actor, run=run, filters=_filters(request, context["form"])
    )
    for row in rows.iterator(chunk_size=500):
        ours, theirs = row.ours or {}, row.theirs or {}
        ack = row.acknowledgement
        writer.writerow(
            [
                read.class_label(row.outcome, package),
                _type_label(row.type),
                row.number,
                row.contact_name,
                row.currency,
                *(
                    value
                    for key, _ in read.FIELDS
                    for value in (_cell(ours.get(key)), _cell(theirs.get(key)))
                ),
                "; ".join(package_words(d, package) for d in row.differences or []),
                ack.by_label if ack else "",
                timezone.localtime(ack.at).strftime("%Y-%m-%d %H:%M") if ack else "",
                ack.reason if ack else "",
                row.external_id,
            ]
        )
    return response


def _type_label(value: str) -> str:
    return str(DocumentType(value).label) if value in DocumentType.values else value


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


# -- starting a run, acknowledging, acting ------------------------------------------------


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def reconciliation_start(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ReconcileFilterForm(request.POST)
    if not form.is_valid():
        given = request.POST.get("date_from") and request.POST.get("date_to")
        error = form.period_error() if given else ""
        messages.error(
            request,
            f"Nothing was started. {error}"
            if error
            else "Choose the period to reconcile: a first and a last day.",
        )
        return redirect("reconciliation_page")
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    try:
        reconcile.reconciliation_start(
            actor=actor,
            date_from=date_from,
            date_to=date_to,
            incremental=bool(request.POST.get("incremental")),
            now=timezone.now(),
        )
    except ApplicationError as error:
        if isinstance(error, PermissionDeniedError | NotFoundError):
            raise
        messages.error(request, error.message)
    query = urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
    return HttpResponseRedirect(f"{reverse('reconciliation_page')}?{query}")


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def reconciliation_acknowledge_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    row = reconcile.reconciliation_row_get(actor=actor, row_id=pk)
    reason = request.POST.get("reason", "")
    try:
        row = reconcile.reconciliation_acknowledge(
            row, reason=reason, actor=actor, now=timezone.now()
        )
    except ApplicationError as error:
        if isinstance(error, PermissionDeniedError | NotFoundError):
            raise
        if error.field != "reason":
            # Nothing a reason can fix (the row agrees, or someone acknowledged it first):
            # said above the list, where the row no longer offers a form.
            messages.error(request, error.message)
            return redirect_back(request, _row_url(actor, row))
        return _page_with_error(request, actor, row, reason=reason, message=error.message)
    messages.success(
        request, f"{row.number or 'The row'} acknowledged: it is listed under Acknowledged now."
    )
    return redirect_back(request, _row_url(actor, row))


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def reconciliation_act_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    row = reconcile.reconciliation_row_get(actor=actor, row_id=pk)
    package = company_package_name(actor.company.pk)
    action = request.POST.get("action", "")
    allowed = reconcile.reconciliation_row_actions(
        row, package=accounting_settings_get(company=actor.company).package
    )
    if action == "acknowledge" or action not in allowed:
        messages.error(request, "That action is not offered for this row any more.")
        return redirect_back(request, _row_url(actor, row))
    name = row.number or "The document"
    try:
        if action == "credit" and row.document_id is not None:
            credit_note = reconcile.document_gone_credit(
                actor=actor, document_id=row.document_id, now=timezone.now()
            )
            messages.success(
                request,
                f"{name}: credit note drafted. Check it, then finalise it to give it a number.",
            )
            return redirect("document_detail", pk=credit_note.pk)
        row = reconcile.reconciliation_act(row, action, actor=actor, now=timezone.now())
    except ApplicationError as error:
        if isinstance(error, PermissionDeniedError | NotFoundError):
            raise
        messages.error(request, package_words(error.message, package))
    else:
        if action == "post":
            messages.success(request, f"{name}: queued for {package}.")
        elif action == "post_again":
            messages.success(request, f"{name}: queued to be posted to {package} again.")
        elif action == "link":
            messages.success(request, f"{name}: linked with its copy in {package}.")
        else:
            now_in = read.class_words(row.outcome, package)
            messages.success(request, f"{name} checked again: {now_in}.")
    return redirect_back(request, _row_url(actor, row))


@require_POST
@actor_view(Permission.WORK_DOCUMENTS)
def document_gone_act_view(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """The document page's choices for one of ours voided or deleted in the package."""
    document = document_detail_get(actor=actor, document_id=pk)
    action = request.POST.get("action", "")
    allowed = reconcile.document_gone_actions(document, actor=actor)
    if action == "acknowledge" or action not in allowed:
        messages.error(request, "That choice is not offered for this document any more.")
        return redirect("document_detail", pk=pk)
    package = company_package_name(actor.company.pk)
    name = document.display_number
    try:
        if action == "credit":
            credit_note = reconcile.document_gone_credit(
                actor=actor, document_id=pk, now=timezone.now()
            )
            messages.success(
                request,
                f"Credit note drafted for {name}. Check it, then finalise it to give it "
                f"a number; it is not sent to {package}.",
            )
            return redirect("document_detail", pk=credit_note.pk)
        reconcile.document_post_again(actor=actor, document_id=pk, now=timezone.now())
    except ApplicationError as error:
        if isinstance(error, PermissionDeniedError | NotFoundError):
            raise
        messages.error(request, package_words(error.message, package))
    else:
        messages.success(request, f"{name}: queued to be posted to {package} again.")
    return redirect("document_detail", pk=pk)


def _page_with_error(
    request: HttpRequest, actor: Actor, row: ReconciliationRow, *, reason: str, message: str
) -> HttpResponse:
    """The page the form was sent from (its ``next``), the row's form open with the error."""
    target = urlsplit(request.POST.get("next") or _row_url(actor, row))
    request.GET = QueryDict(target.query)
    context = _page_context(request, actor, ack_row=row.pk, ack_reason=reason, ack_error=message)
    return render(request, "web/reconciliation/page.html", context, status=400)
