"""Reads of the invoicing domain, always scoped to the actor's company."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ledgerbridge.companies.permissions import Actor
from ledgerbridge.errors import NotFoundError

from .models import Document, DocumentPdf, Partner


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
        qs = qs.filter(
            Q(number__icontains=term)
            | Q(reference__icontains=term)
            | Q(order_reference__icontains=term)
            | Q(trip_reference__icontains=term)
            | Q(supplier_reference__icontains=term)
            | Q(partner__name__icontains=term)
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
