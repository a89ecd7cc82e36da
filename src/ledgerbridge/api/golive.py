"""REST endpoints of going live on an organisation that already holds data: the state
and the matching's summary, choosing the contact of an ambiguous partner, confirming
the backlog, and matching again.

Super Admin only, as Configuration > Accounting > Going live (``web/views/golive.py``);
each action is one service of ``ledgerbridge.accounting.golive``.
"""

# No `from __future__ import annotations`: ninja reads these annotations at runtime.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from ledgerbridge.accounting.connector import company_package_name
from ledgerbridge.accounting.golive import (
    golive_confirm,
    golive_contact_choose,
    golive_start,
    golive_summary,
)
from ledgerbridge.accounting.models import GoLiveDocumentClass
from ledgerbridge.companies.permissions import Actor, Permission, require

from .schemas import ErrorOut

router = Router(tags=["going live"])

# Documents listed per class that asks a person to act; the counts say how many in all.
LIST_LIMIT = 500
# The classes whose documents are not posted until a person acts.
FOR_A_PERSON = (GoLiveDocumentClass.CONFLICT, GoLiveDocumentClass.NUMBER_KEPT)


class CandidateOut(Schema):
    external_id: str = Field(description="The package's id of the contact: choose by it")
    name: str
    contact_number: str
    tax_number: str
    archived: bool
    why: str = Field(description="Why it is a candidate, in words")


class ReviewOut(Schema):
    partner_id: int
    partner_name: str
    candidates: list[CandidateOut]


class DocumentOut(Schema):
    kind: str
    document_id: int | None = Field(description="Our document")
    external_id: str = Field(description="The package's document it was matched with")
    number: str
    contact_name: str
    currency: str
    total: Decimal | None
    note: str = Field(description="What happens to it and what to do, in words")


class GoLiveOut(Schema):
    state: str = Field(
        description="none (not going live), matching, awaiting (a Super Admin confirms) or "
        "confirmed"
    )
    started_at: dt.datetime | None
    matched_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    confirmed_by: str
    error: str = Field(description="Why the last matching could not finish")
    calls: int = Field(description="Calls made to the package to match")
    bytes_read: int = Field(description="Bytes downloaded from the package to match")
    contacts: dict[str, int] = Field(
        description="Partners per way matched: contact_number, tax_number, name, chosen, "
        "none (a contact is created when first posted), ambiguous (waiting for a choice)"
    )
    documents: dict[str, int] = Field(
        description="Documents per class: linked, conflict, number_kept (the package keeps "
        "the number for a voided or deleted document and would refuse ours), to_post, "
        "only_in_package, gone (voided or deleted there)"
    )
    classes: dict[str, str] = Field(description="Each document class in words")
    newcomers: int = Field(
        description="Documents finalised since the matching: matched when confirmed"
    )
    to_post_by_hand: int = Field(
        description="Of to_post, documents whose type is not posted automatically "
        "(accounting settings): after confirmation they wait for Finance to post them"
    )
    review: list[ReviewOut] = Field(description="Partners waiting for a contact to be chosen")
    for_a_person: list[DocumentOut] = Field(
        description="Documents not posted until a person acts (conflict, number_kept)"
    )


class ChooseIn(Schema):
    contact: str = Field(description="The package's id of one of the partner's candidates")


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require(actor, Permission.CONFIGURE)
    return actor


def _out(actor: Actor) -> GoLiveOut:
    summary = golive_summary(company=actor.company)
    package = company_package_name(actor.company.pk)
    classes = {
        kind: label.replace("the package", package) for kind, label in GoLiveDocumentClass.choices
    }
    if summary is None:
        return GoLiveOut(
            state="none",
            started_at=None,
            matched_at=None,
            confirmed_at=None,
            confirmed_by="",
            error="",
            calls=0,
            bytes_read=0,
            contacts={},
            documents={},
            classes=classes,
            newcomers=0,
            to_post_by_hand=0,
            review=[],
            for_a_person=[],
        )
    go_live = summary.go_live
    return GoLiveOut(
        state=go_live.state,
        started_at=go_live.started_at,
        matched_at=go_live.matched_at,
        confirmed_at=go_live.confirmed_at,
        confirmed_by=go_live.confirmed_by_label,
        error=go_live.error,
        calls=go_live.calls,
        bytes_read=go_live.bytes_read,
        contacts={method: len(rows) for method, rows in summary.contacts.items()},
        documents={kind: len(rows) for kind, rows in summary.documents.items()},
        classes=classes,
        newcomers=summary.newcomers,
        to_post_by_hand=summary.to_post_by_hand,
        review=[
            ReviewOut(
                partner_id=row.partner_id,
                partner_name=row.partner.name,
                candidates=[
                    CandidateOut(
                        external_id=c["external_id"],
                        name=c["name"],
                        contact_number=c.get("contact_number", ""),
                        tax_number=c.get("tax_number", ""),
                        archived=bool(c.get("archived")),
                        why=str(c.get("why", "")).replace("the package", package),
                    )
                    for c in row.candidates
                ],
            )
            for row in summary.review
        ],
        for_a_person=[
            DocumentOut(
                kind=doc.kind,
                document_id=doc.document_id,
                external_id=doc.external_id,
                number=doc.number,
                contact_name=doc.contact_name,
                currency=doc.currency,
                total=doc.total,
                note=doc.note.replace("the package", package),
            )
            for kind in FOR_A_PERSON
            for doc in summary.documents.get(kind, [])[:LIST_LIMIT]
        ],
    )


@router.get("", response={200: GoLiveOut, 403: ErrorOut})
def go_live_get(request: HttpRequest) -> Any:
    """The state of going live and the matching's summary."""
    return _out(_actor(request))


@router.post("/match", response={202: GoLiveOut, 400: ErrorOut, 403: ErrorOut})
def go_live_match(request: HttpRequest) -> Any:
    """Match what the package holds (again): posting is held until confirmed; a worker
    matches (poll the state)."""
    actor = _actor(request)
    golive_start(actor=actor, now=timezone.now())
    return Status(202, _out(actor))


@router.post("/confirm", response={200: GoLiveOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def go_live_confirm(request: HttpRequest) -> Any:
    """Link the matched documents and post the rest of the backlog (documents finalised
    since the matching are matched first)."""
    actor = _actor(request)
    golive_confirm(actor=actor, now=timezone.now())
    return _out(actor)


@router.post(
    "/partners/{partner_id}/contact",
    response={200: GoLiveOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: Any},
)
def go_live_contact_choose(request: HttpRequest, partner_id: int, payload: ChooseIn) -> Any:
    """Say which of the package's contacts an ambiguous partner is."""
    actor = _actor(request)
    golive_contact_choose(
        actor=actor, partner_id=partner_id, external_id=payload.contact, now=timezone.now()
    )
    return _out(actor)
