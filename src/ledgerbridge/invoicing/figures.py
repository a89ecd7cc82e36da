"""Stored figures outside their bounds: which, where, and what they block.

The bounds (``bounds.py``) refuse such figures at the edge, yet a row can still
hold one: written before the bounds existed, by an edit of the database, or on
SQLite, which keeps any number in a decimal column. Such a figure still reads
back (``SafeDecimalField``) and pages show it; its document is marked as needing
correction, and is neither finalised nor sent to an accounting package.

The search is one query per model whatever the number of rows or companies: a
range filter on each figure (portable: SQLite compares its REALs and TEXTs with
the bounds numerically, PostgreSQL its numerics), the figures read as text so
that no value, however wide, goes through a decimal conversion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import CharField, Model, QuerySet
from django.db.models.functions import Cast

from . import bounds
from .bounds import Bound
from .models import DOCUMENT_FIGURES, LINE_FIGURES, Document, DocumentLine, TaxRate


@dataclass(frozen=True)
class _Stored:
    """Where a model's figures live and how to name the row they belong to."""

    model: type[Model]
    kind: str
    figures: dict[str, Bound]
    company: str  # path to the company
    document: str | None  # path to the document's id
    name: str  # path to what names the row: the document's number, the tax code
    position: str | None = None


STORED_FIGURES = (
    _Stored(
        DocumentLine,
        "line",
        LINE_FIGURES,
        company="document__company",
        document="document_id",
        name="document__number",
        position="position",
    ),
    _Stored(
        Document,
        "document",
        DOCUMENT_FIGURES,
        company="company",
        document="pk",
        name="number",
    ),
    _Stored(
        TaxRate,
        "tax rate",
        {"rate": bounds.TAX_RATE_PERCENT},
        company="company",
        document=None,
        name="code",
    ),
)

LABELS = {
    "net_amount": "net amount",
    "tax_amount": "tax amount",
    "net_total": "net total",
    "tax_total": "tax total",
    "gross_total": "gross total",
}


@dataclass(frozen=True)
class FigureProblem:
    """One stored figure outside its bound."""

    company_id: int
    company: str
    kind: str  # "line", "document" or "tax rate"
    row_id: int
    document_id: int | None
    name: str  # the document's number, or the tax rate's code
    position: int | None  # the line's
    field: str
    value: str  # as stored, in words a person can read
    bound: Bound
    problem: str

    @property
    def label(self) -> str:
        return LABELS.get(self.field, self.bound.label)

    @property
    def document_label(self) -> str:
        if self.document_id is None:
            return ""
        return self.name or f"Draft {self.document_id}"

    @property
    def where(self) -> str:
        if self.kind == "line":
            return f"Line {self.position}"
        if self.kind == "tax rate":
            return f"Tax rate {self.name}"
        return "Document"

    @property
    def allowed(self) -> str:
        return self.bound.describe()

    @property
    def message(self) -> str:
        return f"{self.where}: {self.label} {self.value} {self.problem}"


def _number(text: Any) -> Decimal:
    try:
        return Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def _shown(number: Decimal, text: Any) -> str:
    if not number.is_finite():
        return str(text)
    if abs(number) < Decimal("1e18"):
        return f"{number.normalize():,f}"
    return f"{number.normalize():E}"


def figure_problems(
    *,
    company_ids: Iterable[int] | None = None,
    document_ids: Iterable[int] | QuerySet[Any] | None = None,
    limit: int | None = None,
) -> list[FigureProblem]:
    """Every stored figure outside its bound, one query per model.

    ``document_ids`` narrows to those documents and their lines (tax rates are
    left out); ``company_ids`` to those companies; ``limit`` caps the rows read
    per model.
    """
    if document_ids is not None and not isinstance(document_ids, QuerySet):
        document_ids = list(document_ids)
    if company_ids is not None:
        company_ids = list(company_ids)
    found: list[FigureProblem] = []
    for stored in STORED_FIGURES:
        if document_ids is not None and stored.document is None:
            continue
        # The condition of the model's partial index (documents and lines), word for word.
        rows = stored.model.objects.filter(bounds.outside(stored.figures))  # type: ignore[attr-defined]
        if company_ids is not None:
            rows = rows.filter(**{f"{stored.company}_id__in": company_ids})
        if document_ids is not None:
            rows = rows.filter(**{f"{stored.document}__in": document_ids})
        columns = {
            "row_id": "pk",
            "company_id": f"{stored.company}_id",
            "company": f"{stored.company}__legal_name",
            "name": stored.name,
        }
        if stored.document:
            columns["document_id"] = stored.document
        if stored.position:
            columns["position"] = stored.position
        texts = {f"{name}_text": Cast(name, CharField()) for name in stored.figures}
        rows = (
            rows.annotate(**texts)
            .values(*columns.values(), *texts)
            .order_by(columns["company_id"], "pk")
        )
        if limit is not None:
            rows = rows[:limit]
        for row in rows:
            for name, bound in stored.figures.items():
                text = row[f"{name}_text"]
                number = _number(text)
                problem = bound.problem(number)
                if problem is None:
                    continue
                found.append(
                    FigureProblem(
                        company_id=row[columns["company_id"]],
                        company=row[columns["company"]],
                        kind=stored.kind,
                        row_id=row["pk"],
                        document_id=row[columns["document_id"]] if stored.document else None,
                        name=row[stored.name] or "",
                        position=row[stored.position] if stored.position else None,
                        field=name,
                        value=_shown(number, text),
                        bound=bound,
                        problem=problem,
                    )
                )
    return found


def document_figure_problems(document: Document) -> list[FigureProblem]:
    """The figures of ``document`` and its lines outside their bounds (two queries)."""
    problems = figure_problems(document_ids=[document.pk])
    return sorted(problems, key=lambda p: (p.kind != "line", p.position or 0))


def documents_with_figure_problems(
    document_ids: Iterable[int] | QuerySet[Any],
) -> dict[int, list[FigureProblem]]:
    """Per document id (ids, or a query of them), its figures outside their bounds;
    documents without any are left out."""
    found: dict[int, list[FigureProblem]] = {}
    for problem in figure_problems(document_ids=document_ids):
        assert problem.document_id is not None
        found.setdefault(problem.document_id, []).append(problem)
    return found


def figures_need_correction_message(problems: list[FigureProblem]) -> str:
    """Why a document cannot go on: its figures outside their bounds, in words."""
    listed = "; ".join(p.message for p in problems[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    return f"Figures out of range need correcting first: {listed}{more}."
