"""Going live on an organisation that already holds contacts and documents.

A company newly linked to its package may find a year of invoices typed there by
hand. Before the first posting run, what the package holds is matched with ours:
contacts by contact number, then tax (VAT) number, then exact name; documents by
number, contact and total. Matched documents are *linked* (their outbox record says
where the package holds them) and never posted; the rest of the backlog is posted
only after a Super Admin confirms the summary. A partner several contacts fit (or
a contact several partners fit) is never merged by itself: it waits in a review
queue, and its documents with it, until a Super Admin chooses.

Nothing goes twice: documents finalised after the matching read the package stay
held and are matched when the Super Admin confirms (the package's documents none of
ours matched are kept, and only what it changed since is read again). Where the
package keeps a number for a voided or deleted document (the adapter says which
types, ``numbers_kept_register``), ours with that number is shown as such and not
posted, rather than refused by the package later.

The matching is pure (``contacts_match``, ``documents_match``) over the port's
``RemoteContact`` and ``RemoteDocument``; the services around it read through the
package's ``BooksReader``, store the outcome (``GoLive``, ``GoLiveContact``,
``GoLiveDocument``) and hold or release the outbox (``posting_held``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import structlog
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ledgerbridge.companies.models import Company
from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import ApplicationError, NotFoundError
from ledgerbridge.invoicing.models import Document, DocumentStatus, Partner
from ledgerbridge.invoicing.money import format_date, format_money
from ledgerbridge.words import counted

from .connector import (
    ConnectorError,
    ReadMeter,
    RemoteContact,
    RemoteDocument,
    TryLater,
    company_package_name,
    reader_for,
)
from .fingerprint import DocumentFingerprint
from .models import (
    AccountingPackage,
    AccountingSettings,
    ContactMatchMethod,
    GoLive,
    GoLiveContact,
    GoLiveDocument,
    GoLiveDocumentClass,
    GoLiveState,
    StepStatus,
    SyncAttempt,
    SyncRecord,
    SyncStatus,
    WaitReason,
)
from .workflow import post_tasks_follow, posts_by_itself

log = structlog.get_logger(__name__)

# Methods that settle a partner's contact: posting uses it, never another.
SETTLED_METHODS = (
    ContactMatchMethod.CONTACT_NUMBER,
    ContactMatchMethod.TAX_NUMBER,
    ContactMatchMethod.NAME,
    ContactMatchMethod.CHOSEN,
)
# Documents in these states are no longer in the package's books.
GONE = ("voided", "deleted")
# The package's documents none of ours matched: kept, so documents finalised after the
# matching are matched at confirmation with only what changed since read again.
REMOTE_CLASSES = (GoLiveDocumentClass.ONLY_IN_PACKAGE, GoLiveDocumentClass.GONE)
# A change made in the package just before the matching read is read again (clocks
# differ).
CLOCK_MARGIN = dt.timedelta(minutes=10)
# A matching not finished after this long is asked for again by the sweep.
MATCHING_PATIENCE = dt.timedelta(minutes=5)
# The package's documents are read this far either side of ours.
READ_MARGIN = dt.timedelta(days=366)


_organisations: dict[str, Callable[[Company], str]] = {}


def organisation_register(package: str, organisation: Callable[[Company], str]) -> None:
    """The adapter's way to name the organisation a company is linked to (its id there):
    contacts matched in one organisation are never used in another."""
    _organisations[package] = organisation


def organisation_of(company: Company, package: str) -> str:
    found = _organisations.get(package)
    return found(company) if found else ""


_numbers_kept: dict[str, frozenset[str]] = {}


def numbers_kept_register(package: str, types: Iterable[str]) -> None:
    """The adapter's word on which document types' numbers its package keeps unique
    even once a document is voided or deleted (it refuses a second one with the
    number): ours of those types matching only a gone document would be refused."""
    _numbers_kept[package] = frozenset(types)


def numbers_kept_of(package: str) -> frozenset[str]:
    return _numbers_kept.get(package, frozenset())


# -- matching (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerFacts:
    """What matching needs of one of our partners."""

    id: int
    kind: str
    number: str
    name: str
    tax_number: str = ""


@dataclass(frozen=True)
class Candidate:
    contact: RemoteContact
    why: str  # in words: "same VAT number", "archived in the package", …


@dataclass(frozen=True)
class ContactMatch:
    """``method`` is a ``ContactMatchMethod``; ``contact`` is set when it is settled."""

    partner: PartnerFacts
    method: str
    contact: RemoteContact | None = None
    candidates: tuple[Candidate, ...] = ()


def tax_number_key(value: str) -> str:
    """A VAT number as compared: letters and digits only, upper case, without a
    country prefix ("GB 123 4567 89" and "123456789" are the same number)."""
    key = re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if len(key) > 2 and key[:2].isalpha() and key[2:].isdigit():
        key = key[2:]
    return key


def name_key(value: str) -> str:
    """A name as compared: exact, but for spaces and case (the package keeps names
    unique regardless of case, so "ACME Ltd" and "Acme Ltd" are one name there)."""
    return " ".join(value.split()).casefold()


_STEPS = (
    (ContactMatchMethod.CONTACT_NUMBER, "same contact number", lambda v: v.strip()),
    (ContactMatchMethod.TAX_NUMBER, "same VAT number", tax_number_key),
    (ContactMatchMethod.NAME, "same name", name_key),
)


def _partner_keys(partner: PartnerFacts) -> tuple[str, str, str]:
    return (partner.number, partner.tax_number, partner.name)


def _contact_keys(contact: RemoteContact) -> tuple[str, str, str]:
    return (contact.contact_number, contact.tax_number, contact.name)


def contacts_match(
    partners: Sequence[PartnerFacts], contacts: Sequence[RemoteContact]
) -> list[ContactMatch]:
    """Each partner's contact: by contact number, else VAT number, else exact name.

    The first step with any candidate decides: one contact is a match, several are
    ambiguous (a weaker key is not asked to break the tie). A contact archived in
    the package is never taken by itself, and one contact that fits two partners of
    the same kind (two customers) is ambiguous for both: a person chooses.
    """
    indexes: list[dict[str, list[RemoteContact]]] = [defaultdict(list) for _ in _STEPS]
    for contact in contacts:
        for index, (_, _, key_of), value in zip(
            indexes, _STEPS, _contact_keys(contact), strict=True
        ):
            key = key_of(value)
            if key:
                index[key].append(contact)
    tentative: list[ContactMatch] = []
    for partner in partners:
        match = ContactMatch(partner=partner, method=ContactMatchMethod.NONE)
        for index, (method, why, key_of), value in zip(
            indexes, _STEPS, _partner_keys(partner), strict=True
        ):
            key = key_of(value)
            found = index.get(key, []) if key else []
            if len(found) == 1 and not found[0].archived:
                match = ContactMatch(partner=partner, method=method, contact=found[0])
            elif found:
                match = ContactMatch(
                    partner=partner,
                    method=ContactMatchMethod.AMBIGUOUS,
                    candidates=tuple(
                        Candidate(c, f"{why}, archived in the package" if c.archived else why)
                        for c in found
                    ),
                )
            if found:
                break
        tentative.append(match)
    claimed: dict[tuple[str, str], list[ContactMatch]] = defaultdict(list)
    for match in tentative:
        if match.contact is not None:
            claimed[(match.contact.external_id, match.partner.kind)].append(match)
    shared = {key for key, matches in claimed.items() if len(matches) > 1}
    result = []
    for match in tentative:
        if match.contact is None or (match.contact.external_id, match.partner.kind) not in shared:
            result.append(match)
            continue
        others = [
            m.partner.name
            for m in claimed[(match.contact.external_id, match.partner.kind)]
            if m.partner.id != match.partner.id
        ]
        result.append(
            ContactMatch(
                partner=match.partner,
                method=ContactMatchMethod.AMBIGUOUS,
                candidates=(Candidate(match.contact, f"also fits {', '.join(others)}"),),
            )
        )
    return result


@dataclass(frozen=True)
class OurDocument:
    """What matching needs of one of our final documents. ``number``: the number the
    package knows it by (ours for sales, the supplier's for purchases)."""

    id: int
    type: str
    number: str
    partner_id: int
    partner_name: str
    currency: str
    gross: Decimal


@dataclass(frozen=True)
class DocumentMatch:
    kind: str  # GoLiveDocumentClass
    ours: OurDocument | None = None
    theirs: RemoteDocument | None = None
    note: str = ""


def _differences(ours: OurDocument, theirs: RemoteDocument, contact_fits: bool) -> list[str]:
    found = []
    if not contact_fits:
        found.append(f"contact {theirs.contact_name or 'unknown'} (ours: {ours.partner_name})")
    currency = theirs.fingerprint.currency or ours.currency
    if currency != ours.currency:
        found.append(f"currency {currency} (ours: {ours.currency})")
    elif theirs.fingerprint.gross != ours.gross:
        found.append(
            f"total {format_money(theirs.fingerprint.gross, currency)} "
            f"(ours: {format_money(ours.gross, ours.currency)})"
        )
    return found


def _number_kept_note(document: OurDocument, gone: RemoteDocument) -> str:
    total = format_money(gone.fingerprint.gross, gone.fingerprint.currency or document.currency)
    return (
        f"Not posted, as the package would refuse it: it keeps the number {gone.number} "
        f"for a document {gone.status} there ({gone.contact_name or 'no contact'}, {total}). "
        "If that was this document, voided there on purpose, credit it here too; otherwise "
        "issue it again under a new number."
    )


def documents_match(
    ours: Sequence[OurDocument],
    theirs: Sequence[RemoteDocument],
    contacts_of: Mapping[int, Iterable[str]],
    numbers_kept: frozenset[str] = frozenset(),
) -> list[DocumentMatch]:
    """Each of our documents linked, in conflict, refused for its number or to post;
    each of the package's that is none of ours listed as only in the package.

    Linked: same type and number, for a contact that is (or may be) the partner's
    (``contacts_of``: the matched contact, or every candidate of an ambiguous one),
    same currency and total. The same number with another contact or total is a
    conflict for a person, never posted by itself. Voided and deleted documents are
    not in the package's books and match nothing; but where the package keeps their
    numbers (``numbers_kept``: types whose numbers stay unique, gone ones included)
    ours with such a number would be refused, so it is shown as such, not posted.
    """
    by_number: dict[tuple[str, str], list[RemoteDocument]] = defaultdict(list)
    gone: dict[tuple[str, str], list[RemoteDocument]] = defaultdict(list)
    for remote in theirs:
        if remote.number:
            index = gone if remote.status in GONE else by_number
            index[(remote.type, remote.number.casefold())].append(remote)
    used: set[str] = set()
    result = []
    for document in ours:
        key = (document.type, document.number.casefold())
        same = [r for r in by_number.get(key, []) if r.external_id not in used]
        if document.number and not same and document.type in numbers_kept and gone.get(key):
            used.add(gone[key][0].external_id)
            result.append(
                DocumentMatch(
                    GoLiveDocumentClass.NUMBER_KEPT,
                    ours=document,
                    theirs=gone[key][0],
                    note=_number_kept_note(document, gone[key][0]),
                )
            )
            continue
        if not document.number or not same:
            result.append(DocumentMatch(GoLiveDocumentClass.TO_POST, ours=document))
            continue
        fits = set(contacts_of.get(document.partner_id, ()))
        for remote in same:
            if not _differences(document, remote, remote.contact_id in fits):
                used.add(remote.external_id)
                result.append(
                    DocumentMatch(
                        GoLiveDocumentClass.LINKED,
                        ours=document,
                        theirs=remote,
                        note=f"Already in the package as {remote.number} for "
                        f"{remote.contact_name}: linked, not posted.",
                    )
                )
                break
        else:
            remote = same[0]
            used.add(remote.external_id)
            differs = ", ".join(_differences(document, remote, remote.contact_id in fits))
            result.append(
                DocumentMatch(
                    GoLiveDocumentClass.CONFLICT,
                    ours=document,
                    theirs=remote,
                    note=f"Already in the package as {remote.number}, but with {differs}. "
                    "Not posted: check both, then retry it to post it anyway.",
                )
            )
    for remote in theirs:
        if remote.external_id not in used:
            gone_there = remote.status in GONE
            kind = GoLiveDocumentClass.GONE if gone_there else GoLiveDocumentClass.ONLY_IN_PACKAGE
            result.append(DocumentMatch(kind, theirs=remote))
    return result


# -- reading and storing -----------------------------------------------------------------


@dataclass
class Summary:
    """What the page and the command show: counts per class and the lists."""

    go_live: GoLive
    contacts: dict[str, list[GoLiveContact]] = field(default_factory=dict)
    documents: dict[str, list[GoLiveDocument]] = field(default_factory=dict)
    # Final documents the matching has not seen yet (finalised since it read the
    # package): matched when the Super Admin confirms, before anything goes.
    newcomers: int = 0
    # Of the documents to post, those whose type waits for a Finance user to post it
    # (its "post" task is manual: purchases by default): confirming does not send them.
    to_post_by_hand: int = 0

    @property
    def to_post_by_itself(self) -> int:
        return len(self.documents.get(GoLiveDocumentClass.TO_POST, [])) - self.to_post_by_hand

    @property
    def review(self) -> list[GoLiveContact]:
        return self.contacts.get(ContactMatchMethod.AMBIGUOUS, [])


# Who confirmed a backlog nobody had to: the package held nothing to match (the
# stored marker; pages say it in words, ``confirmed_words``).
CONFIRMED_AUTOMATICALLY = "automatic: nothing to match"


def confirmed_words(go_live: GoLive, package: str) -> str:
    """When and by whom the backlog was confirmed, as a page says it: "4 Dec 2026 at
    14:02 by Sam Clerk", or "Automatically on 4 Dec 2026 at 14:02: Xero held nothing
    to match" (a stored marker is no name to show after "by")."""
    if go_live.confirmed_at is None:
        return ""
    at = timezone.localtime(go_live.confirmed_at)
    when = f"{format_date(at.date())} at {at:%H:%M}"
    if go_live.confirmed_by_id is None and go_live.confirmed_by_label == CONFIRMED_AUTOMATICALLY:
        return f"Automatically on {when}: {package} held nothing to match"
    return f"{when} by {go_live.confirmed_by_label}"


def go_live_of(company: Company) -> GoLive | None:
    return GoLive.objects.filter(company=company).first()


def golive_begin(*, company: Company, now: dt.datetime, queue: bool = True) -> GoLive:
    """Hold the company's posting and match what its package holds (after commit, in
    the queue; ``queue`` False: the caller matches).

    Matching again while it waits for confirmation starts over, keeping the
    contacts a Super Admin already chose."""
    with transaction.atomic():
        go_live, created = GoLive.objects.select_for_update().get_or_create(
            company=company, defaults={"started_at": now}
        )
        if not created:
            if go_live.state == GoLiveState.CONFIRMED:
                raise ApplicationError(
                    "This company has gone live already: its backlog was confirmed "
                    f"on {format_date(timezone.localtime(go_live.confirmed_at or now).date())}."
                )
            go_live.state = GoLiveState.MATCHING
            go_live.started_at = now
            go_live.error = ""
            go_live.save()
        company_id = company.pk
        if queue:
            transaction.on_commit(lambda: _match_soon(company_id))
    return go_live


def golive_start(*, actor: Actor, now: dt.datetime | None = None) -> GoLive:
    """A Super Admin asks for the package's books to be matched (again) before the
    backlog is posted: posting is held from now on (audited)."""
    require(actor, Permission.CONFIGURE)
    now = now or timezone.now()
    settings = AccountingSettings.objects.filter(company=actor.company).first()
    if settings is None or reader_for(settings.package) is None:
        raise ApplicationError("Going live needs the company to post through a package's API.")
    go_live = golive_begin(company=actor.company, now=now)
    audit_record(actor=actor, company=actor.company, action="go-live matching started", now=now)
    return go_live


def golive_stuck(*, now: dt.datetime) -> list[int]:
    """Companies whose matching has not finished for a while (its job lost, or
    reading failed): the sweep asks again, so posting is not held for ever."""
    return list(
        GoLive.objects.filter(
            state=GoLiveState.MATCHING, started_at__lt=now - MATCHING_PATIENCE
        ).values_list("company_id", flat=True)
    )


def _match_soon(company_id: int) -> None:
    from .golive_tasks import golive_match_task

    golive_match_task(company_id)


def golive_start_on_link(*, company: Company, organisation: str, now: dt.datetime) -> GoLive | None:
    """A company was linked to an organisation of its package: go live first if it
    never posted there and has final documents waiting (else posting goes on as
    usual). Matching done for another organisation is forgotten."""
    settings = AccountingSettings.objects.filter(company=company).first()
    if settings is None or settings.package != AccountingPackage.XERO_API:
        return None
    other = GoLive.objects.filter(company=company).exclude(organisation__in=["", organisation])
    if other.exists():
        GoLiveContact.objects.filter(company=company).delete()
        GoLiveDocument.objects.filter(company=company).delete()
        other.delete()
    if reader_for(settings.package) is None or GoLive.objects.filter(company=company).exists():
        return None
    if SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED).exists():
        return None
    if not Document.objects.filter(company=company, status=DocumentStatus.FINAL).exists():
        return None
    return golive_begin(company=company, now=now)


def _unmatched(company: Company, *, newcomers_only: bool = True) -> QuerySet[Document]:
    """Final documents not posted (by us); ``newcomers_only``: and not matched yet
    (finalised since the matching read the package)."""
    posted = SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED).values(
        "document_id"
    )
    documents = Document.objects.filter(company=company, status=DocumentStatus.FINAL).exclude(
        pk__in=posted
    )
    if newcomers_only:
        matched = GoLiveDocument.objects.filter(company=company, document__isnull=False)
        documents = documents.exclude(pk__in=matched.values("document_id"))
    return documents


def _our_documents(company: Company, *, newcomers_only: bool) -> list[OurDocument]:
    documents = (
        _unmatched(company, newcomers_only=newcomers_only)
        .select_related("partner")
        .order_by("issue_date", "id")
    )
    return [
        OurDocument(
            id=d.pk,
            type=d.type,
            number=d.number if d.is_sales else d.supplier_reference,
            partner_id=d.partner_id,
            partner_name=d.partner.name,
            currency=d.currency,
            gross=d.gross_total,
        )
        for d in documents
    ]


def _period(company: Company, now: dt.datetime) -> tuple[dt.date, dt.date]:
    dates = list(
        Document.objects.filter(company=company, status=DocumentStatus.FINAL)
        .order_by("issue_date")
        .values_list("issue_date", flat=True)
    )
    today = timezone.localdate(now)
    first = min(dates[0], today) if dates else today
    last = max(dates[-1], today) if dates else today
    return first - READ_MARGIN, last + READ_MARGIN


def golive_match(*, company: Company, now: dt.datetime | None = None) -> GoLive:
    """Read the package's contacts and documents, match them with ours and store the
    outcome; posting stays held until a Super Admin confirms. An organisation that
    holds none of our documents and no contact to choose for goes live at once."""
    now = now or timezone.now()
    go_live = GoLive.objects.get(company=company)
    if go_live.state == GoLiveState.CONFIRMED:
        return go_live
    settings = AccountingSettings.objects.get(company=company)
    reader = reader_for(settings.package)
    if reader is None:
        raise ApplicationError(
            f"LedgerBridge cannot read {company_package_name(company.pk)}'s books yet."
        )
    organisation = organisation_of(company, settings.package)
    meter = ReadMeter()
    try:
        contacts = list(reader.contacts_read(company, meter=meter))
        date_from, date_to = _period(company, now)
        remote = list(
            reader.documents_read(company, date_from=date_from, date_to=date_to, meter=meter)
        )
    except ConnectorError as error:
        GoLive.objects.filter(pk=go_live.pk).update(error=error.message)
        log.warning("golive.read_failed", company_id=company.pk, message=error.message)
        if isinstance(error, TryLater):
            raise
        go_live.refresh_from_db()
        return go_live
    partners = list(Partner.objects.filter(company=company).order_by("id"))
    facts = [
        PartnerFacts(id=p.pk, kind=p.kind, number=p.number, name=p.name, tax_number=p.vat_number)
        for p in partners
    ]
    contact_matches = contacts_match(facts, contacts)
    chosen = {
        row.partner_id: row
        for row in GoLiveContact.objects.filter(company=company, method=ContactMatchMethod.CHOSEN)
    }
    contacts_of: dict[int, list[str]] = {}
    for match in contact_matches:
        if match.partner.id in chosen:
            contacts_of[match.partner.id] = [chosen[match.partner.id].external_id]
        elif match.contact is not None:
            contacts_of[match.partner.id] = [match.contact.external_id]
        else:
            contacts_of[match.partner.id] = [c.contact.external_id for c in match.candidates]
    # Documents we posted ourselves (matching begun by hand after some were) are ours
    # already: neither to match nor "only in the package".
    ours_there = set(
        SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    remote = [r for r in remote if r.external_id not in ours_there]
    numbers_kept = numbers_kept_of(settings.package)
    # Every final document not posted is matched (an earlier matching's rows are
    # replaced below).
    document_matches = documents_match(
        _our_documents(company, newcomers_only=False), remote, contacts_of, numbers_kept
    )
    with transaction.atomic():
        go_live = GoLive.objects.select_for_update().get(pk=go_live.pk)
        if go_live.state == GoLiveState.CONFIRMED:
            return go_live
        GoLiveContact.objects.filter(company=company).delete()
        GoLiveDocument.objects.filter(company=company).delete()
        GoLiveContact.objects.bulk_create(
            [
                _contact_row(company, match, chosen.get(match.partner.id))
                for match in contact_matches
            ]
        )
        GoLiveDocument.objects.bulk_create([_document_row(company, m) for m in document_matches])
        go_live.counts = _counts(company)
        go_live.organisation = organisation
        go_live.calls, go_live.bytes_read = meter.calls, meter.bytes
        go_live.matched_at = now
        go_live.error = ""
        go_live.state = GoLiveState.AWAITING
        go_live.save()
        if not remote and not go_live.counts["contacts"].get(ContactMatchMethod.AMBIGUOUS):
            # Nothing there to post twice: the backlog goes as it would have.
            _confirm(go_live, actor=None, now=now)
    log.info("golive.matched", company_id=company.pk, counts=go_live.counts, calls=meter.calls)
    return go_live


def _contact_row(
    company: Company, match: ContactMatch, chosen: GoLiveContact | None
) -> GoLiveContact:
    candidates = [
        {
            "external_id": c.contact.external_id,
            "name": c.contact.name,
            "contact_number": c.contact.contact_number,
            "tax_number": c.contact.tax_number,
            "archived": c.contact.archived,
            "why": c.why,
        }
        for c in match.candidates
    ]
    if chosen is not None and any(c["external_id"] == chosen.external_id for c in candidates):
        return GoLiveContact(
            company=company,
            partner_id=match.partner.id,
            method=ContactMatchMethod.CHOSEN,
            external_id=chosen.external_id,
            external_name=chosen.external_name,
            candidates=candidates,
            chosen_by_label=chosen.chosen_by_label,
            chosen_at=chosen.chosen_at,
        )
    return GoLiveContact(
        company=company,
        partner_id=match.partner.id,
        method=match.method,
        external_id=match.contact.external_id if match.contact else "",
        external_name=match.contact.name if match.contact else "",
        candidates=candidates,
    )


def _document_row(company: Company, match: DocumentMatch) -> GoLiveDocument:
    theirs, ours = match.theirs, match.ours
    return GoLiveDocument(
        company=company,
        kind=match.kind,
        document_id=ours.id if ours else None,
        external_id=theirs.external_id if theirs else "",
        number=ours.number if ours else theirs.number if theirs else "",
        contact_name=theirs.contact_name if theirs else ours.partner_name if ours else "",
        currency=(theirs.fingerprint.currency if theirs else "") or (ours.currency if ours else ""),
        total=theirs.fingerprint.gross if theirs else ours.gross if ours else None,
        url=theirs.url if theirs else "",
        fingerprint=(
            {
                **theirs.fingerprint.to_json(),
                "lines_read": theirs.lines_read,
                "type": theirs.type,
                "status": theirs.status,
            }
            if theirs
            else None
        ),
        note=match.note,
    )


def _counts(company: Company) -> dict[str, dict[str, int]]:
    contacts: dict[str, int] = defaultdict(int)
    for method in GoLiveContact.objects.filter(company=company).values_list("method", flat=True):
        contacts[method] += 1
    documents: dict[str, int] = defaultdict(int)
    for kind in GoLiveDocument.objects.filter(company=company).values_list("kind", flat=True):
        documents[kind] += 1
    return {"contacts": dict(contacts), "documents": dict(documents)}


def golive_summary(*, company: Company) -> Summary | None:
    go_live = go_live_of(company)
    if go_live is None:
        return None
    summary = Summary(go_live=go_live)
    for row in GoLiveContact.objects.filter(company=company).select_related("partner"):
        summary.contacts.setdefault(row.method, []).append(row)
    for doc in GoLiveDocument.objects.filter(company=company).select_related("document"):
        summary.documents.setdefault(doc.kind, []).append(doc)
    if go_live.state == GoLiveState.AWAITING:
        summary.newcomers = _unmatched(company).count()
    settings = AccountingSettings.objects.filter(company=company).first()
    summary.to_post_by_hand = sum(
        1
        for doc in summary.documents.get(GoLiveDocumentClass.TO_POST, [])
        if doc.document is not None and not posts_by_itself(settings, doc.document.type)
    )
    return summary


# -- confirming and choosing -------------------------------------------------------------


# Documents finalised while confirming are matched this many times before a person is
# asked to confirm again.
CONFIRM_ROUNDS = 3


def _awaiting(company: Company, *, lock: bool) -> GoLive:
    found = GoLive.objects.select_for_update() if lock else GoLive.objects
    go_live = found.filter(company=company).first()
    if go_live is None:
        raise NotFoundError("This company is not going live.")
    if go_live.state != GoLiveState.AWAITING:
        raise ApplicationError(
            "The backlog was confirmed already."
            if go_live.state == GoLiveState.CONFIRMED
            else "Matching has not finished yet; confirm once its summary is shown."
        )
    return go_live


def golive_confirm(*, actor: Actor, now: dt.datetime | None = None) -> GoLive:
    """A Super Admin confirms the matching: matched documents are linked (never
    posted), conflicts wait for a person, and the rest of the backlog goes.

    Documents finalised since the matching read the package are matched first (with
    only what the package changed since read again), so one typed there by hand in
    the meantime is linked too, never posted twice."""
    require(actor, Permission.CONFIGURE)
    now = now or timezone.now()
    _awaiting(actor.company, lock=False)
    for _ in range(CONFIRM_ROUNDS):
        golive_match_newcomers(company=actor.company, now=now)
        with transaction.atomic():
            go_live = _awaiting(actor.company, lock=True)
            if _unmatched(actor.company).exists():
                continue  # finalised while they were matched: once more
            _confirm(go_live, actor=actor, now=now)
            return go_live
    raise ApplicationError(
        "Documents are being finalised as you confirm: confirm again in a moment."
    )


def _contacts_of(company: Company) -> dict[int, list[str]]:
    """Each partner's contact (or candidates) as the matching left them."""
    contacts_of: dict[int, list[str]] = {}
    for row in GoLiveContact.objects.filter(company=company):
        if row.method in SETTLED_METHODS:
            contacts_of[row.partner_id] = [row.external_id]
        elif row.method == ContactMatchMethod.AMBIGUOUS:
            contacts_of[row.partner_id] = [c["external_id"] for c in row.candidates]
    return contacts_of


def _remote_of(row: GoLiveDocument) -> RemoteDocument:
    fingerprint = row.fingerprint or {}
    return RemoteDocument(
        external_id=row.external_id,
        type=str(fingerprint.get("type", "")),
        number=row.number,
        contact_id=str(fingerprint.get("contact_id", "")),
        contact_name=row.contact_name,
        status=str(fingerprint.get("status", "")),
        fingerprint=DocumentFingerprint.from_json(fingerprint),
        lines_read=False,
        url=row.url,
    )


def golive_match_newcomers(*, company: Company, now: dt.datetime) -> int:
    """Match the documents finalised since the matching read the package (how many).

    Cheap: the package's documents none of ours matched were kept; only what it
    changed since the matching began is read again (one call or two). A person asked
    to confirm is told if the package cannot be read; nothing is posted meanwhile."""
    newcomers = _our_documents(company, newcomers_only=True)
    if not newcomers:
        return 0
    go_live = GoLive.objects.get(company=company)
    settings = AccountingSettings.objects.get(company=company)
    package = company_package_name(company.pk)
    reader = reader_for(settings.package)
    if reader is None:
        raise ApplicationError(f"LedgerBridge cannot read {package}'s books yet.")
    kept_rows = list(GoLiveDocument.objects.filter(company=company, kind__in=REMOTE_CLASSES))
    kept = {row.external_id: _remote_of(row) for row in kept_rows}
    # Rows stored before the package's type was kept with them: read everything again.
    since = None if any(not r.type for r in kept.values()) else go_live.started_at - CLOCK_MARGIN
    taken = set(
        GoLiveDocument.objects.filter(company=company)
        .exclude(kind__in=REMOTE_CLASSES)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    ) | set(
        SyncRecord.objects.filter(company=company, status=SyncStatus.POSTED)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    meter = ReadMeter()
    date_from, date_to = _period(company, now)
    try:
        fresh = list(
            reader.documents_read(
                company, date_from=date_from, date_to=date_to, meter=meter, modified_since=since
            )
        )
    except ConnectorError as error:
        raise ApplicationError(
            f"{counted(len(newcomers), 'document')} finalised since the matching could not be "
            f"checked against {package} ({error.message}). Nothing was posted: confirm again "
            "in a moment."
        ) from error
    pool = dict(kept) if since is not None else {}
    pool.update({r.external_id: r for r in fresh})
    remote = [r for r in pool.values() if r.external_id not in taken]
    matches = documents_match(
        newcomers, remote, _contacts_of(company), numbers_kept_of(settings.package)
    )
    with transaction.atomic():
        go_live = GoLive.objects.select_for_update().get(pk=go_live.pk)
        if go_live.state != GoLiveState.AWAITING:
            return 0
        GoLiveDocument.objects.filter(company=company, kind__in=REMOTE_CLASSES).delete()
        GoLiveDocument.objects.bulk_create([_document_row(company, m) for m in matches])
        go_live.counts = _counts(company)
        go_live.calls += meter.calls
        go_live.bytes_read += meter.bytes
        go_live.save()
    log.info(
        "golive.newcomers_matched", company_id=company.pk, count=len(newcomers), calls=meter.calls
    )
    return len(newcomers)


def _confirm(go_live: GoLive, *, actor: Actor | None, now: dt.datetime) -> None:
    company = go_live.company
    package = company_package_name(company.pk)
    rows = GoLiveDocument.objects.filter(
        company=company,
        kind__in=[
            GoLiveDocumentClass.LINKED,
            GoLiveDocumentClass.CONFLICT,
            GoLiveDocumentClass.NUMBER_KEPT,
        ],
        document__isnull=False,
    ).select_related("document")
    linked = conflicts = 0
    touched: list[SyncRecord] = []
    attempts = []
    for row in rows:
        document = row.document
        if document is None:
            continue
        record, _ = SyncRecord.objects.select_for_update().get_or_create(
            document=document, defaults={"company": company}
        )
        if record.status in (SyncStatus.POSTED, SyncStatus.POSTING):
            continue  # the outbox got there (before go-live began): it settles its own
        record.next_attempt_at = None
        record.wanted_at = None
        record.request_key = ""
        record.waiting_for = WaitReason.NONE
        if row.kind == GoLiveDocumentClass.LINKED:
            record.status = SyncStatus.POSTED
            record.external_id = row.external_id
            record.external_number = row.number
            record.external_url = row.url
            record.external_total = row.total
            record.external_tax = Decimal(row.fingerprint["tax"]) if row.fingerprint else None
            record.posted_at = now
            # What the package holds now is what it should keep from here on; a summary
            # (no lines) would make every line look changed, so only one read in full.
            fingerprint = {
                k: v for k, v in (row.fingerprint or {}).items() if k not in ("type", "status")
            }
            record.fingerprint = fingerprint if fingerprint.get("lines_read") else None
            record.attachment_status = StepStatus.SKIPPED
            record.attachment_message = f"Linked at go-live: {package}'s own document is kept."
            record.allocation_status = StepStatus.NOT_NEEDED
            record.message = (
                f"Linked at go-live to {row.number} already in {package} (not posted by "
                "LedgerBridge)."
            )
            linked += 1
        else:
            record.status = SyncStatus.FAILED
            record.message = row.note.replace("the package", package)
            conflicts += 1
        record.save()
        touched.append(record)
        attempts.append(
            SyncAttempt(
                record=record,
                at=now,
                action="link",
                outcome="ok" if record.status == SyncStatus.POSTED else "failed",
                idempotency_key=row.external_id,
                message=record.message[:2000],
            )
        )
    SyncAttempt.objects.bulk_create(attempts)
    post_tasks_follow(
        [r for r in touched if r.status == SyncStatus.POSTED],
        message=f"Already in {package}: linked at go-live, not posted.",
    )
    post_tasks_follow([r for r in touched if r.status == SyncStatus.FAILED])
    go_live.state = GoLiveState.CONFIRMED
    go_live.confirmed_at = now
    go_live.confirmed_by = actor.user if actor else None
    go_live.confirmed_by_label = actor.name if actor else CONFIRMED_AUTOMATICALLY
    go_live.save()
    audit_record(
        actor=actor,
        company=company,
        action="go-live confirmed",
        target=f"{counted(linked, 'document')} linked, {counted(conflicts, 'conflict')}",
        changes={"counts": go_live.counts},
        now=now,
    )
    _release(company, Q())


def _release(company: Company, only: Q) -> None:
    """Records held for going live go now (those still held are held again, with
    their own reason, when the outbox next claims)."""
    from .outbox import sync_records_resume

    held = SyncRecord.objects.filter(
        only, company=company, status=SyncStatus.PENDING, waiting_for=WaitReason.GO_LIVE
    )
    held.update(waiting_for=WaitReason.NONE, message="", next_attempt_at=None)
    sync_records_resume(company_id=company.pk)


def golive_contact_choose(
    *, actor: Actor, partner_id: int, external_id: str, now: dt.datetime | None = None
) -> GoLiveContact:
    """A Super Admin says which of the package's contacts a partner is; its documents
    are posted to that contact from then on (audited)."""
    require(actor, Permission.CONFIGURE)
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            GoLiveContact.objects.select_for_update()
            .select_related("partner")
            .filter(company=actor.company, partner_id=partner_id)
            .first()
        )
        if row is None:
            raise NotFoundError("This partner was not matched when going live.")
        candidate = next((c for c in row.candidates if c["external_id"] == external_id), None)
        if candidate is None:
            raise ApplicationError("Choose one of the contacts listed for it.", field="contact")
        row.method = ContactMatchMethod.CHOSEN
        row.external_id = external_id
        row.external_name = candidate["name"]
        row.chosen_by_label = actor.name
        row.chosen_at = now
        row.save()
        go_live = GoLive.objects.select_for_update().get(company=actor.company)
        go_live.counts = _counts(actor.company)
        go_live.save(update_fields=["counts"])
        audit_record(
            actor=actor,
            company=actor.company,
            action="go-live contact chosen",
            target=row.partner.name,
            changes={"contact": candidate["name"], "external_id": external_id},
            now=now,
        )
        if go_live.state == GoLiveState.CONFIRMED:
            _release(actor.company, Q(document__partner_id=partner_id))
    return row


# -- what the outbox and the adapter ask -------------------------------------------------


def golive_holds_all(company_id: int) -> bool:
    """Going live holds every document of the company (not confirmed yet)."""
    return (
        GoLive.objects.filter(company_id=company_id).exclude(state=GoLiveState.CONFIRMED).exists()
    )


def golive_wait_for_confirming(company_id: int) -> None:
    """A document asked to be posted while its company goes live waits for a
    confirmation under way to finish (the going-live row's lock), so it is either
    seen and matched by that confirmation or asked for after it: never slipped in
    between the confirmation's last look for newcomers and its release of the held."""
    state = GoLive.objects.filter(company_id=company_id).values_list("state", flat=True).first()
    if state is not None and state != GoLiveState.CONFIRMED:
        list(GoLive.objects.select_for_update().filter(company_id=company_id).values("pk"))


def posting_held(company_id: int) -> Q | None:
    """The records the outbox must not claim for this company (None: none held)."""
    go_live = GoLive.objects.filter(company_id=company_id).values_list("state", flat=True).first()
    if go_live is None:
        return None
    if go_live != GoLiveState.CONFIRMED:
        return Q(company_id=company_id)
    review = list(
        GoLiveContact.objects.filter(
            company_id=company_id, method=ContactMatchMethod.AMBIGUOUS
        ).values_list("partner_id", flat=True)
    )
    return Q(document__partner_id__in=review) if review else None


def held_records_note(company_id: int, held: Q, *, now: dt.datetime) -> None:
    """Say on each newly held record (and its task) why it waits, in words."""
    fresh = SyncRecord.objects.filter(
        held, company_id=company_id, status=SyncStatus.PENDING
    ).exclude(waiting_for=WaitReason.GO_LIVE)
    if not fresh.exists():
        return
    package = company_package_name(company_id)
    state = GoLive.objects.filter(company_id=company_id).values_list("state", flat=True).first()
    records = list(fresh.select_related("document__partner"))
    for record in records:
        if state == GoLiveState.CONFIRMED:
            record.message = (
                f"Waiting for a Super Admin to choose which {package} contact is "
                f"{record.document.partner.name}: several fit (Configuration > Accounting > "
                "Going live)."
            )
        elif state == GoLiveState.AWAITING:
            record.message = (
                f"Going live: waiting for a Super Admin to confirm what {package} already "
                "holds (Configuration > Accounting > Going live). Nothing is posted twice."
            )
        else:
            record.message = (
                f"Going live: LedgerBridge is matching what {package} already holds before "
                "anything is posted."
            )
        record.waiting_for = WaitReason.GO_LIVE
        SyncRecord.objects.filter(pk=record.pk).update(
            waiting_for=WaitReason.GO_LIVE, message=record.message, updated_at=now
        )
    post_tasks_follow(records)


def contact_ids_settled(partner_ids: Iterable[int], *, organisation: str) -> dict[int, str]:
    """The contact in this organisation of each of these partners that going live
    settled (matched or chosen): the adapter posts to it instead of looking one up."""
    return dict(
        GoLiveContact.objects.filter(
            partner_id__in=list(partner_ids),
            method__in=SETTLED_METHODS,
            company__go_live__organisation=organisation,
        ).values_list("partner_id", "external_id")
    )
