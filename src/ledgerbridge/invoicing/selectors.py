"""Reads of the invoicing domain, always scoped to the actor's company."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import NotFoundError

from .models import PURCHASE_TYPES, Document, DocumentPdf, DocumentStatus, Partner


@dataclass(frozen=True)
class DocumentFilters:
    type: str | None = None
    status: str | None = None
    partner_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    search: str | None = None


def document_list(*, actor: Actor, filters: DocumentFilters | None = None) -> QuerySet[Document]:
    filters = filters or DocumentFilters()
    qs = Document.objects.filter(company=actor.company).select_related("partner")
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.partner_id:
        qs = qs.filter(partner_id=filters.partner_id)
    if filters.date_from:
        qs = qs.filter(issue_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(issue_date__lte=filters.date_to)
    if filters.search:
        term = filters.search.strip()
        # The matching partners are found first, so that every condition is on
        # the document's own columns: PostgreSQL then reads each from its
        # trigram index (migration 0006) and ORs the bitmaps, where a condition
        # on the joined partner made it read every document of the company.
        partner_ids = list(
            Partner.objects.filter(company=actor.company, name__icontains=term).values_list(
                "pk", flat=True
            )
        )
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(reference__icontains=term)
            | Q(order_reference__icontains=term)
            | Q(trip_reference__icontains=term)
            | Q(supplier_reference__icontains=term)
            | Q(partner_id__in=partner_ids)
        )
    return qs


def document_get(*, actor: Actor, document_id: int) -> Document:
    document = (
        Document.objects.filter(company=actor.company, pk=document_id)
        .select_related("partner", "original", "company")
        .first()
    )
    if document is None:
        raise NotFoundError("No such document.")
    return document


def partner_list(*, actor: Actor, kind: str | None = None) -> QuerySet[Partner]:
    qs = Partner.objects.filter(company=actor.company)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def partner_get(*, actor: Actor, partner_id: int) -> Partner:
    partner = Partner.objects.filter(company=actor.company, pk=partner_id).first()
    if partner is None:
        raise NotFoundError("No such partner.")
    return partner


def document_pdf_get(*, actor: Actor, document_id: int) -> DocumentPdf:
    """The stored PDF of a final document, rendering it now if the worker has not yet."""
    from .pdf import document_pdf_ensure

    document = document_get(actor=actor, document_id=document_id)
    if document.is_draft:
        raise NotFoundError("A draft has no PDF yet; finalise it first.")
    return document_pdf_ensure(document=document)


# ---------------------------------------------------------------- web UI reads

from django.db.models import Prefetch  # noqa: E402

from .models import (  # noqa: E402
    Dimension,
    DimensionRule,
    DocumentLine,
    LineDimension,
    NominalCode,
    NumberSeries,
    Task,
    TaxRate,
)


def document_list_with_tasks(
    *, actor: Actor, filters: DocumentFilters | None = None
) -> QuerySet[Document]:
    """``document_list`` with each document's visible tasks on ``visible_tasks``."""
    return document_list(actor=actor, filters=filters).prefetch_related(
        Prefetch("tasks", queryset=Task.objects.filter(hidden=False), to_attr="visible_tasks")
    )


def document_detail_get(*, actor: Actor, document_id: int) -> Document:
    """One document with its lines (codes, dimension values) and credit notes loaded."""
    document = (
        Document.objects.filter(company=actor.company, pk=document_id)
        .select_related("partner", "original", "company", "created_by", "finalised_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=DocumentLine.objects.select_related(
                    "nominal_code", "tax_rate"
                ).prefetch_related(
                    Prefetch(
                        "dimensions",
                        queryset=LineDimension.objects.select_related(
                            "dimension", "value"
                        ).order_by("dimension__position", "dimension__name"),
                    )
                ),
            ),
            "credit_notes",
        )
        .first()
    )
    if document is None:
        raise NotFoundError("No such document.")
    return document


def supplier_document_duplicate(*, document: Document) -> Document | None:
    """A final document of the same kind recording the same supplier document, if any.

    The same supplier and their number (case and spacing ignored), or the same
    supplier, issue date and total: both are how a bill gets entered twice.
    """
    if document.type not in PURCHASE_TYPES:
        return None
    same = Q(
        issue_date=document.issue_date,
        gross_total=document.gross_total,
        currency=document.currency,
    )
    if document.supplier_reference_key:
        same |= Q(supplier_reference_key=document.supplier_reference_key)
    return (
        Document.objects.filter(
            same,
            company_id=document.company_id,
            partner_id=document.partner_id,
            type=document.type,
            status=DocumentStatus.FINAL,
        )
        .exclude(pk=document.pk)
        .order_by("finalised_at", "id")
        .first()
    )


def lines_left_to_credit(*, invoice: Document) -> dict[int, Decimal]:
    """Per invoice line id, the quantity not yet credited by final credit notes."""
    credited = dict(
        DocumentLine.objects.filter(
            credited_line__document=invoice,
            document__status=DocumentStatus.FINAL,
            document__original=invoice,
        )
        .values("credited_line")
        .annotate(total=Sum("quantity"))
        .values_list("credited_line", "total")
    )
    return {
        line.pk: max(line.quantity - credited.get(line.pk, Decimal("0")), Decimal("0"))
        for line in invoice.lines.all()
    }


def partner_search(
    *, actor: Actor, kind: str | None = None, search: str | None = None
) -> QuerySet[Partner]:
    qs = partner_list(actor=actor, kind=kind)
    if search and search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(name__icontains=term) | Q(number__icontains=term) | Q(email__icontains=term)
        )
    return qs


def nominal_code_list(*, actor: Actor, active_only: bool = False) -> QuerySet[NominalCode]:
    qs = NominalCode.objects.filter(company=actor.company)
    return qs.filter(active=True) if active_only else qs


def nominal_code_get(*, actor: Actor, pk: int) -> NominalCode:
    obj = nominal_code_list(actor=actor).filter(pk=pk).first()
    if obj is None:
        raise NotFoundError("No such nominal code.")
    return obj


def tax_rate_list(
    *, actor: Actor, active_only: bool = False, sales: bool | None = None
) -> QuerySet[TaxRate]:
    """Tax rates; ``sales=True`` only those for sales, ``False`` only those for purchases."""
    qs = TaxRate.objects.filter(company=actor.company)
    if active_only:
        qs = qs.filter(active=True)
    if sales is True:
        qs = qs.filter(applies_to_sales=True)
    elif sales is False:
        qs = qs.filter(applies_to_purchases=True)
    return qs


def tax_rate_default(*, actor: Actor, sales: bool) -> TaxRate | None:
    """The rate a new sales or purchase line starts with: the side's standard rate,
    i.e. its highest active rate (20 % VAT before 5 %, zero-rated and exempt)."""
    return (
        tax_rate_list(actor=actor, active_only=True, sales=sales).order_by("-rate", "code").first()
    )


def tax_rate_get(*, actor: Actor, pk: int) -> TaxRate:
    obj = tax_rate_list(actor=actor).filter(pk=pk).first()
    if obj is None:
        raise NotFoundError("No such tax rate.")
    return obj


def number_series_list(*, actor: Actor) -> QuerySet[NumberSeries]:
    return NumberSeries.objects.filter(company=actor.company).order_by("document_type")


def number_series_get(*, actor: Actor, pk: int) -> NumberSeries:
    obj = number_series_list(actor=actor).filter(pk=pk).first()
    if obj is None:
        raise NotFoundError("No such number series.")
    return obj


def dimension_list(*, actor: Actor) -> QuerySet[Dimension]:
    """Dimensions with their values and ordered rules loaded."""
    return (
        Dimension.objects.filter(company=actor.company)
        .select_related("default_value")
        .prefetch_related(
            "values",
            Prefetch("rules", queryset=DimensionRule.objects.select_related("value")),
        )
    )


def dimension_get(*, actor: Actor, pk: int) -> Dimension:
    obj = dimension_list(actor=actor).filter(pk=pk).first()
    if obj is None:
        raise NotFoundError("No such dimension.")
    return obj
