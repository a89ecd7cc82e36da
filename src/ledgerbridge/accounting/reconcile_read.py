"""What people read of reconciliation: a company's runs, a run's rows by class, the
trend over the last runs, and which documents of a list still need a look.

Runs and rows are written by ``reconcile`` (the engine), whose selectors keep a
person to their company's runs and rows; this module builds the page's views of
them on those selectors. Classes are named in the package's words
(``package_name``): "Missing in Xero", never a hard-coded name here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Count, Max, Q, QuerySet, Subquery

from ledgerbridge.companies.permissions import Actor

from .connector import UNNAMED
from .models import (
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationRow,
    ReconciliationRun,
    RemoteChange,
)
from .reconcile import ACKNOWLEDGED, reconciliation_rows, reconciliation_runs

# Tabs of the page besides the classes: rows still to look at (the default), rows a
# person acknowledged, and every row.
OPEN = "open"
ALL = "all"
# The order people read them in: what needs a look first, what agrees last.
CLASSES = (
    ReconcileOutcome.DIFFERS,
    ReconcileOutcome.STATUS_DIFFERS,
    ReconcileOutcome.MISSING,
    ReconcileOutcome.ONLY_IN_PACKAGE,
    ReconcileOutcome.AGREES,
)
TABS = (OPEN, *(c.value for c in CLASSES), ACKNOWLEDGED, ALL)

# The compared values (``ReconciliationRow.ours`` / ``theirs``) in reading order.
FIELDS = (
    ("contact", "Contact"),
    ("date", "Date"),
    ("due_date", "Due date"),
    ("reference", "Reference"),
    ("currency", "Currency"),
    ("net", "Net"),
    ("tax", "Tax"),
    ("gross", "Total"),
    ("line_count", "Lines"),
    ("status", "Status"),
    ("amount_due", "Due"),
    ("number", "Number"),
)
MONEY_FIELDS = ("net", "tax", "gross", "amount_due")
# Shown on every row, differing or not; the others only where they differ.
ALWAYS_SHOWN = ("date", "gross", "status")


def class_label(outcome: str, package: str) -> str:
    """A class in words, the package named: "Missing in Xero"."""
    label = str(ReconcileOutcome(outcome).label)
    if package and package != UNNAMED:
        label = label.replace("the package", package)
    return label


def class_words(outcome: str, package: str) -> str:
    """A class inside a sentence: "missing in Xero" (the package keeps its capital)."""
    label = class_label(outcome, package)
    return label[:1].lower() + label[1:]


def tab_label(tab: str, package: str) -> str:
    if tab == OPEN:
        return "To look at"
    if tab == ACKNOWLEDGED:
        return "Acknowledged"
    if tab == ALL:
        return "All"
    return class_label(tab, package)


def is_open(row: ReconciliationRow) -> bool:
    """Neither agreeing nor accepted by a person."""
    return row.outcome != ReconcileOutcome.AGREES and row.acknowledgement_id is None


# -- runs ---------------------------------------------------------------------------------


def reconciliation_run_latest(
    *, actor: Actor, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> ReconciliationRun | None:
    """The latest run (of this period, when given): what the page shows."""
    runs = reconciliation_runs(actor=actor)
    if date_from and date_to:
        runs = runs.filter(period_from=date_from, period_to=date_to)
    return runs.first()


def reconciliation_run_latest_done(
    *, actor: Actor, date_from: dt.date, date_to: dt.date
) -> ReconciliationRun | None:
    """The period's latest finished run: its rows show while another one runs."""
    runs = reconciliation_runs(actor=actor).filter(period_from=date_from, period_to=date_to)
    return runs.filter(status=ReconcileRunStatus.DONE).first()


def reconciliation_trend(*, actor: Actor, limit: int = 12) -> list[ReconciliationRun]:
    """The company's last finished runs, oldest first (the trend charts' points)."""
    runs = reconciliation_runs(actor=actor).filter(status=ReconcileRunStatus.DONE)
    return list(reversed(runs[:limit]))


# -- rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowFilters:
    tab: str = OPEN
    document_type: str = ""
    search: str = ""


def reconciliation_rows_filtered(
    *, actor: Actor, run: ReconciliationRun, filters: RowFilters
) -> QuerySet[ReconciliationRow]:
    """A tab of a run's rows (``reconciliation_rows``), narrowed by type and by a
    number or contact."""
    rows = reconciliation_rows(
        actor=actor, run_id=run.pk, outcome=None if filters.tab == ALL else filters.tab
    )
    if filters.document_type:
        rows = rows.filter(type=filters.document_type)
    if filters.search:
        rows = rows.filter(
            Q(number__icontains=filters.search) | Q(contact_name__icontains=filters.search)
        )
    return rows


def reconciliation_tab_counts(*, run: ReconciliationRun) -> dict[str, int]:
    """Rows per tab of ``run``, as they stand now (acknowledging moves a row), in one query."""
    grouped = (
        ReconciliationRow.objects.filter(run=run)
        .values("outcome")
        .annotate(
            rows=Count("id"),
            acknowledged=Count("id", filter=Q(acknowledgement__isnull=False)),
        )
        .order_by()
    )
    counts = dict.fromkeys(TABS, 0)
    for group in grouped:
        open_rows = group["rows"] - group["acknowledged"]
        if group["outcome"] in counts:
            counts[group["outcome"]] += open_rows
        counts[ACKNOWLEDGED] += group["acknowledged"]
        counts[ALL] += group["rows"]
        if group["outcome"] != ReconcileOutcome.AGREES:
            counts[OPEN] += open_rows
    return counts


def reconciliation_row_tab(row: ReconciliationRow) -> str:
    if row.acknowledgement_id is not None:
        return ACKNOWLEDGED
    return str(row.outcome)


def reconciliation_row_position(*, actor: Actor, row: ReconciliationRow) -> int:
    """How many rows come before ``row`` in its run's tab (for its page)."""
    rows = reconciliation_rows_filtered(
        actor=actor, run=row.run, filters=RowFilters(tab=reconciliation_row_tab(row))
    )
    return rows.filter(id__lt=row.pk).count()


@dataclass(frozen=True)
class Compared:
    key: str
    label: str
    ours: str
    theirs: str
    differs: bool


def row_compared(row: ReconciliationRow) -> list[Compared]:
    """Ours and the package's values of a row, field by field: those always shown and
    those that differ (a row stays a few lines high; the CSV has every field).

    Our status and the package's are in different words (``unpaid`` against
    ``authorised`` agree), so a status is marked as differing only on a row whose
    class says so. A value one side does not know (the package's line count of a
    document read without its lines, a due amount never read) is no difference:
    a field is marked only when both sides have a value, save the reference, which
    may rightly be emptied."""
    ours, theirs = row.ours or {}, row.theirs or {}
    both = bool(ours) and bool(theirs)
    compared = []
    for key, label in FIELDS:
        mine, its = _text(key, ours.get(key)), _text(key, theirs.get(key))
        if key == "status":
            differs = row.outcome == ReconcileOutcome.STATUS_DIFFERS
        else:
            known = key == "reference" or (bool(mine) and bool(its))
            differs = both and known and mine != its
        if (differs or key in ALWAYS_SHOWN) and (mine or its):
            compared.append(Compared(key, label, mine, its, differs))
    return compared


def _text(key: str, value: object) -> str:
    """A compared value as the page shows it: amounts with separators, states in words."""
    if value is None or value == "":
        return ""
    text = str(value)
    if key in MONEY_FIELDS:
        try:
            return f"{Decimal(text):,.2f}"
        except InvalidOperation:
            return text
    if key == "status":
        return text.replace("_", " ").capitalize()
    return text


# -- documents ----------------------------------------------------------------------------


def documents_reconcile_open(
    *, company_id: int, document_ids: Iterable[int]
) -> dict[int, ReconciliationRow]:
    """Of these documents, those whose latest reconciliation row still needs a look, with
    that row: one query for a page of a list, whatever its length."""
    ids = list(document_ids)
    if not ids:
        return {}
    latest = (
        ReconciliationRow.objects.filter(company_id=company_id, document_id__in=ids)
        .values("document_id")
        .annotate(latest=Max("id"))
        .values("latest")
    )
    rows = (
        ReconciliationRow.objects.filter(pk__in=Subquery(latest))
        .select_related("run")
        .only(
            "id",
            "document_id",
            "outcome",
            "acknowledgement_id",
            "differences",
            "run_id",
            "run__started_at",
        )
    )
    open_rows = {row.document_id: row for row in rows if is_open(row) and row.document_id}
    since = changes_since(
        [row for row in open_rows.values() if row.outcome == ReconcileOutcome.DIFFERS]
    )
    return {
        document_id: row
        for document_id, row in open_rows.items()
        if not (document_id in since and not since[document_id].differences)
    }


def changes_since(rows: Iterable[ReconciliationRow]) -> dict[int, RemoteChange]:
    """The latest change seen in the package since each differing row's run, by
    document (one query; the rows' runs loaded): a person there put the document back, or changed it otherwise, after the
    run compared it. The stored run is left as it was."""
    started = {
        row.document_id: row.run.started_at
        for row in rows
        if row.document_id and row.outcome == ReconcileOutcome.DIFFERS
    }
    if not started:
        return {}
    changes = RemoteChange.objects.filter(
        record__document_id__in=list(started), detected_at__gt=min(started.values())
    ).order_by("detected_at", "id")
    latest: dict[int, RemoteChange] = {}
    for change in changes.select_related("record").only(
        "id", "detected_at", "remote_updated_at", "source", "differences", "record__document_id"
    ):
        document_id = change.record.document_id
        if change.detected_at > started[document_id]:
            latest[document_id] = change
    return latest


def document_reconcile_since(row: ReconciliationRow | None) -> RemoteChange | None:
    """The change seen in the package since ``row``'s run compared its document, when
    the row says it differs: the document page says the package's copy agrees again
    (or differs otherwise) rather than the run's stale words."""
    if row is None or row.outcome != ReconcileOutcome.DIFFERS or not row.document_id:
        return None
    return changes_since([row]).get(row.document_id)


def document_reconcile_latest(*, actor: Actor, document_id: int) -> ReconciliationRow | None:
    """The document's row of the latest run that compared it."""
    return (
        ReconciliationRow.objects.filter(company=actor.company, document_id=document_id)
        .select_related("run")
        .order_by("-id")
        .first()
    )


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month ``day`` is in: the page's default period."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def bytes_text(size: int) -> str:
    """``812 bytes``, ``12.4 kB``, ``3.1 MB``: what a run downloaded."""
    if size < 1000:
        return f"{size}\u00a0bytes"
    value, unit = size / 1000, "kB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:,.1f}\u00a0{unit}"  # never split across lines


def trend_points(
    runs: Sequence[ReconciliationRun], key: str, *, width: int = 72, height: int = 16
) -> str:
    """An SVG polyline's points for ``counts[key]`` over ``runs``, scaled into the box
    (a flat line at the bottom when every count is 0)."""
    values = [int((run.counts or {}).get(key, 0) or 0) for run in runs]
    if not values:
        return ""
    top = max(values) or 1
    step = width / (len(values) - 1) if len(values) > 1 else 0
    points = []
    for i, value in enumerate(values):
        x = round(i * step, 1) if len(values) > 1 else width / 2
        y = round(height - 2 - (value / top) * (height - 4), 1)
        points.append(f"{x},{y}")
    return " ".join(points)
