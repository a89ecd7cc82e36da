"""The Xero connector: documents become Xero invoices, bills and credit notes.

Everything Xero-shaped about posting lives here: the payloads (through the
official SDK's models), contacts found or created once, per-item results of
``summarizeErrors=false``, lookups that settle unknown outcomes, PDF
attachments and credit-note allocations. It reports to the outbox in the
neutral types of ``accounting.connector``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

import structlog
from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone
from xero_python.accounting import Contacts, CreditNotes, Invoices

from ledgerbridge.accounting.connector import (
    AllocationOutcome,
    ExternalDocument,
    NotLinked,
    PausedUntil,
    PostOutcome,
    Rejected,
    TryLater,
    connector_register,
    package_name_register,
)
from ledgerbridge.accounting.fingerprint import DocumentFingerprint
from ledgerbridge.accounting.golive import (
    contact_ids_settled,
    numbers_kept_register,
    organisation_register,
)
from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings, SyncRecord
from ledgerbridge.companies.models import Company
from ledgerbridge.invoicing.models import (
    SALES_TYPES,
    Document,
    DocumentLine,
    DocumentType,
    LineDimension,
    Partner,
    supplier_reference_key,
)
from ledgerbridge.invoicing.money import format_date, format_money

from . import payloads
from .client import XeroClient, url_groups
from .coding import tax_types_for_company, tracking_category_for
from .errors import (
    XeroAuthRejected,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
    XeroUnavailable,
    XeroValidation,
)
from .models import XeroConnection, XeroContactLink
from .payloads import XERO_TYPES, enum_value, money, request_body, xero_number
from .problems import problem_text, problems_from_refusal

T = TypeVar("T")
log = structlog.get_logger(__name__)

BATCH_SIZE = 50  # Xero's advice for batched PUT/POST
# Documents that count as held by Xero (voided and deleted ones do not).
LIVE_STATUSES = ["DRAFT", "SUBMITTED", "AUTHORISED", "PAID"]

DEEP_LINKS = {
    "ACCREC": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "ACCPAY": "/AccountsPayable/View.aspx?InvoiceID={id}",
    "ACCRECCREDIT": "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}",
    "ACCPAYCREDIT": "/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
}


def _load_lines(documents: Iterable[Document]) -> None:
    """The documents' lines with their coding and dimensions: a handful of queries
    for a whole batch, not a few per document."""
    prefetch_related_objects(
        list(documents),
        Prefetch(
            "lines",
            queryset=DocumentLine.objects.select_related(
                "nominal_code", "tax_rate"
            ).prefetch_related(
                Prefetch(
                    "dimensions",
                    queryset=LineDimension.objects.select_related("value", "dimension"),
                )
            ),
        ),
    )


def deep_link(short_code: str, xero_type: str, xero_id: str) -> str:
    path = DEEP_LINKS[xero_type].format(id=xero_id)
    return f"{settings.XERO_GO_URL}/organisationlogin/default.aspx?shortcode={short_code}&redirecturl={path}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class XeroConnector:
    batch_size = BATCH_SIZE

    # -- plumbing ----------------------------------------------------------------------
    def _client(self, company: Company, *, interactive: bool = False) -> XeroClient:
        try:
            return XeroClient(company, interactive=interactive)
        except XeroAuthRejected as error:  # not linked, or Xero refused to renew access
            raise NotLinked(error.message) from error
        except XeroError as error:  # the login service could not be reached
            raise TryLater(error.message, maybe_sent=False) from error

    def _call(
        self,
        client: XeroClient,
        operation: Callable[..., T],
        *args: Any,
        write: bool = False,
        **kwargs: Any,
    ) -> T:
        try:
            return client.call(operation, *args, **kwargs)
        except XeroRateLimited as error:
            if error.problem == "day":
                until = timezone.now() + dt.timedelta(seconds=error.retry_after or 3600)
                raise PausedUntil(
                    f"Xero's daily limit for this organisation is used up; posting resumes at "
                    f"{timezone.localtime(until):%H:%M}.",
                    until=until,
                ) from error
            raise TryLater(
                error.message, retry_after=error.retry_after, maybe_sent=False
            ) from error
        except XeroUnavailable as error:
            raise TryLater(error.message, maybe_sent=write) from error
        except XeroAuthRejected as error:
            raise NotLinked(error.message) from error

    # -- contacts ----------------------------------------------------------------------
    def _contacts(
        self, client: XeroClient, partners: Iterable[Partner], request_key: str
    ) -> dict[int, str]:
        """ContactID per partner id: by stored link, else as going live settled it, else
        ContactNumber, else exact name, else created."""
        tenant = client.tenant_id
        by_id: dict[int, Partner] = {p.pk: p for p in partners}
        links = {
            link.partner_id: link
            for link in XeroContactLink.objects.filter(partner_id__in=list(by_id), tenant_id=tenant)
        }
        found = {pid: link.contact_id for pid, link in links.items()}
        missing = [p for pid, p in by_id.items() if pid not in found]
        if missing:
            # Going live settled these (by VAT number, or a Super Admin chose among
            # contacts of the same name): never looked up by name again.
            found.update(contact_ids_settled((p.pk for p in missing), organisation=tenant))
        lookup = [p for p in missing if p.pk not in found]
        if lookup:
            found.update(self._find_contacts(client, lookup))
        now = timezone.now()
        to_create = [p for p in missing if p.pk not in found]
        to_update = [
            p for pid, p in by_id.items() if pid in links and p.updated_at > links[pid].synced_at
        ]
        if to_create:
            result = self._call(
                client,
                client.api.create_contacts,
                request_body(Contacts(contacts=[payloads.contact(p) for p in to_create])),
                summarize_errors=False,
                idempotency_key=f"{request_key}:contacts",
                write=True,
            )
            for partner, contact in zip(to_create, result.contacts or [], strict=False):
                if contact.contact_id and enum_value(contact.status_attribute_string) != "ERROR":
                    found[partner.pk] = str(contact.contact_id)
        if to_update:
            self._call(
                client,
                client.api.update_or_create_contacts,
                request_body(
                    Contacts(
                        contacts=[payloads.contact(p, contact_id=found[p.pk]) for p in to_update]
                    )
                ),
                summarize_errors=False,
                idempotency_key=f"{request_key}:contact-updates",
                write=True,
            )
        for pid, contact_id in found.items():
            XeroContactLink.objects.update_or_create(
                partner_id=pid,
                tenant_id=tenant,
                defaults={"contact_id": contact_id, "synced_at": now},
            )
        return found

    def _find_contacts(self, client: XeroClient, partners: Sequence[Partner]) -> dict[int, str]:
        """One GET per 50 partners: by ContactNumber, else by exact name."""
        found: dict[int, str] = {}
        for chunk, where in url_groups(
            list(partners),
            lambda p: f'ContactNumber=="{_escape(p.number)}" OR Name=="{_escape(p.name)}"',
        ):
            contacts = self._call(client, client.api.get_contacts, where=where).contacts or []
            by_number = {c.contact_number: c for c in contacts if c.contact_number}
            by_name = {c.name: c for c in contacts if c.name}
            for partner in chunk:
                contact = by_number.get(partner.number) or by_name.get(partner.name)
                if contact is not None:
                    found[partner.pk] = str(contact.contact_id)
        return found

    # -- documents ---------------------------------------------------------------------
    def post(
        self,
        company: Company,
        records: Sequence[SyncRecord],
        *,
        request_key: str,
        interactive: bool = False,
    ) -> list[PostOutcome]:
        client = self._client(company, interactive=interactive)
        documents = {r.pk: r.document for r in records}
        _load_lines(documents.values())
        contacts = self._contacts(client, {d.partner for d in documents.values()}, request_key)
        settings_row = AccountingSettings.objects.get(company=company)
        status = "DRAFT" if settings_row.post_as_draft else "AUTHORISED"
        tax_types = tax_types_for_company(company)
        categories = {
            d.pk: tracking_category_for(d) for d in company.dimensions.filter(active=True)
        }
        short_code = XeroConnection.objects.get(company=company).short_code
        outcomes: list[PostOutcome] = []
        invoices = [r for r in records if not documents[r.pk].is_credit_note]
        credits = [r for r in records if documents[r.pk].is_credit_note]
        no_contact = [r for r in records if documents[r.pk].partner_id not in contacts]

        def refused(record: SyncRecord, messages: Sequence[str]) -> PostOutcome:
            problems = problems_from_refusal(
                documents[record.pk], messages, tax_types=tax_types, categories=categories
            )
            return PostOutcome(
                record.pk, messages=[problem_text(p) for p in problems], problems=problems
            )

        for record in no_contact:
            outcomes.append(
                refused(
                    record,
                    [
                        f"The contact {documents[record.pk].partner.name} could not be created in Xero."
                    ],
                )
            )

        def coding(record: SyncRecord) -> dict[str, Any]:
            return {
                "contact_id": contacts[documents[record.pk].partner_id],
                "status": status,
                "tax_types": tax_types,
                "categories": categories,
            }

        duplicates = self._duplicates_in_xero(
            company,
            client,
            [r for r in records if r not in no_contact and not r.allow_duplicate],
            documents,
            contacts,
            short_code,
        )
        outcomes += duplicates.values()
        skip = set(no_contact) | {r for r in records if r.pk in duplicates}
        invoices = [r for r in invoices if r not in skip]
        credits = [r for r in credits if r not in skip]

        # Both requests' bodies are built before anything is sent.
        built: dict[int, Any] = {}

        def build(record: SyncRecord) -> Any:
            built[record.pk] = payloads.xero_document(documents[record.pk], **coding(record))
            return built[record.pk]

        requests = [
            _Request(
                records=invoices,
                body=request_body(Invoices(invoices=[build(r) for r in invoices])),
                operation=client.api.create_invoices,
                key=f"{request_key}:invoices",
                fields=("invoices", "invoice_id"),
            ),
            _Request(
                records=credits,
                body=request_body(CreditNotes(credit_notes=[build(r) for r in credits])),
                operation=client.api.create_credit_notes,
                key=f"{request_key}:credits",
                fields=("credit_notes", "credit_note_id"),
            ),
        ]
        for request in requests:
            if not request.records:
                continue
            items_field, id_field = request.fields
            items = self._send(client, request.operation, request.body, request.key, items_field)
            taken: dict[int, list[str]] = {}
            answered = self._outcomes(request.records, items, short_code, id_field, refused, taken)
            if taken:
                answered += self._already_posted(
                    client,
                    [r for r in request.records if r.pk in taken],
                    contacts,
                    short_code,
                    taken,
                    refused,
                )
            outcomes += [
                # What Xero should hold from now on: the fingerprint of what was sent.
                replace(
                    o,
                    posted=replace(
                        o.posted,
                        fingerprint=payloads.sent_fingerprint(
                            built[o.record_id],
                            contact_name=documents[o.record_id].partner.name,
                        ),
                    ),
                )
                if o.posted is not None and o.record_id in built
                else o
                for o in answered
            ]
        # A contact Xero no longer has (merged or removed there): forget our link,
        # so that the retry finds the contact again or creates it.
        stale = {
            p.object_id for o in outcomes for p in o.problems if p.kind == "contact" and p.object_id
        }
        if stale:
            XeroContactLink.objects.filter(
                partner_id__in=stale, tenant_id=client.tenant_id
            ).delete()
        return outcomes

    def _duplicates_in_xero(
        self,
        company: Company,
        client: XeroClient,
        records: Sequence[SyncRecord],
        documents: dict[int, Document],
        contacts: dict[int, str],
        short_code: str,
    ) -> dict[int, PostOutcome]:
        """Purchase documents Xero already holds for the same contact and supplier number.

        Xero does not require a bill's number to be unique, so it would take a second
        copy of a bill someone entered there by hand. One GET per kind and batch finds
        the contacts' documents; numbers are compared the way finalising compares them
        (case and spaces ignored). Documents we posted ourselves are not duplicates.
        """
        refused: dict[int, PostOutcome] = {}
        for kind in (DocumentType.PURCHASE_INVOICE, DocumentType.PURCHASE_CREDIT_NOTE):
            mine = [r for r in records if documents[r.pk].type == kind]
            if not mine:
                continue
            contact_ids = sorted({contacts[documents[r.pk].partner_id] for r in mine})
            xero_type = XERO_TYPES[kind]
            items: list[Any] = []
            if kind == DocumentType.PURCHASE_INVOICE:
                for chunk, _ in url_groups(contact_ids, str, joiner=","):
                    items += (
                        self._call(
                            client,
                            client.api.get_invoices,
                            where=f'Type=="{xero_type}"',
                            contact_i_ds=chunk,
                            statuses=LIVE_STATUSES,
                            summary_only=True,
                        ).invoices
                        or []
                    )
                id_field, number_field = "invoice_id", "invoice_number"
            else:
                # GET CreditNotes has no ContactIDs filter: the contacts go in the where.
                terms = [
                    f'Type=="{xero_type}" AND Contact.ContactID==Guid("{contact_id}")'
                    for contact_id in contact_ids
                ]
                for _, where in url_groups(terms, str):
                    items += (
                        self._call(client, client.api.get_credit_notes, where=where).credit_notes
                        or []
                    )
                id_field, number_field = "credit_note_id", "credit_note_number"
            items = [i for i in items if enum_value(i.status) in LIVE_STATUSES]
            ours = set(
                SyncRecord.objects.filter(
                    company=company, external_id__in=[str(getattr(i, id_field)) for i in items]
                ).values_list("external_id", flat=True)
            )
            by_key: dict[tuple[str, str], Any] = {}
            for item in items:
                if str(getattr(item, id_field)) in ours:
                    continue
                key = supplier_reference_key(getattr(item, number_field) or "")
                by_key.setdefault((str(item.contact.contact_id), key), item)
            for record in mine:
                document = documents[record.pk]
                item = by_key.get((contacts[document.partner_id], document.supplier_reference_key))
                if item is None:
                    continue
                found = _external(item, short_code)
                if _posted_by_us(item, document):
                    # Sent before, its answer lost to us: a database restored from a backup
                    # taken before it was posted, say. It is this document, not a duplicate.
                    log.warning("xero.found_already_posted", document_id=document.pk)
                    refused[record.pk] = PostOutcome(record.pk, posted=found)
                    continue
                refused[record.pk] = PostOutcome(
                    record.pk,
                    messages=[_duplicate_message(document, item, found)],
                    duplicate=found,
                )
        return refused

    def _send(
        self,
        client: XeroClient,
        operation: Callable[..., Any],
        payload: Any,
        key: str,
        items_field: str,
    ) -> list[Any] | _Refused:
        """Xero's per-item answers, or why it refused the whole request."""
        try:
            result = self._call(
                client,
                operation,
                payload,
                summarize_errors=False,
                unitdp=4,
                idempotency_key=key,
                write=True,
            )
        except XeroValidation as error:
            return _Refused(error.messages or ["Xero refused the request."])
        return list(getattr(result, items_field, None) or [])

    def _outcomes(
        self,
        records: Sequence[SyncRecord],
        items: list[Any] | _Refused,
        short_code: str,
        id_field: str,
        refused: Callable[[SyncRecord, Sequence[str]], PostOutcome],
        taken: dict[int, list[str]],
    ) -> list[PostOutcome]:
        """Xero's answer per record; a sales document refused only because Xero holds
        its number goes in ``taken`` (with Xero's messages) instead, to be looked up."""
        if isinstance(items, _Refused):
            return [refused(r, items.messages) for r in records]
        outcomes = []
        # Xero answers item by item, in the order sent.
        for record, item in zip(records, items, strict=False):
            errors = [e.message for e in (item.validation_errors or []) if e.message]
            if (
                enum_value(item.status_attribute_string) == "ERROR"
                or errors
                or not getattr(item, id_field)
            ):
                if (
                    record.document.is_sales
                    and errors
                    and all(_number_taken(message) for message in errors)
                ):
                    taken[record.pk] = errors
                    continue
                outcomes.append(refused(record, errors or ["Xero refused it."]))
                continue
            outcomes.append(PostOutcome(record.pk, posted=_external(item, short_code)))
        return outcomes

    def _already_posted(
        self,
        client: XeroClient,
        records: Sequence[SyncRecord],
        contacts: dict[int, str],
        short_code: str,
        taken: dict[int, list[str]],
        refused: Callable[[SyncRecord, Sequence[str]], PostOutcome],
    ) -> list[PostOutcome]:
        """Sales documents whose number Xero already holds: ours if Xero's document of
        that number and type is for the same contact (sent before, its answer lost to
        us: a database restored from a backup older than the posting, say), else
        refused with Xero's messages."""
        found = self._lookup(client, records)
        outcomes = []
        for record in records:
            document = record.document
            item = next(
                (
                    i
                    for i in found
                    if enum_value(i.type) == XERO_TYPES[document.type]
                    and _item_number(i) == xero_number(document)
                    and enum_value(i.status) in LIVE_STATUSES
                    and str(i.contact.contact_id) == contacts.get(document.partner_id)
                ),
                None,
            )
            if item is None:
                outcomes.append(refused(record, taken[record.pk]))
                continue
            log.warning("xero.found_already_posted", document_id=document.pk)
            outcomes.append(PostOutcome(record.pk, posted=_external(item, short_code)))
        return outcomes

    def _lookup(self, client: XeroClient, records: Sequence[SyncRecord]) -> list[Any]:
        """Xero's invoices and credit notes with these records' numbers (a GET per 40)."""
        items: list[Any] = []
        invoices = [r for r in records if not r.document.is_credit_note]
        credits = [r for r in records if r.document.is_credit_note]
        for _, where in url_groups(
            invoices, lambda r: f'InvoiceNumber=="{_escape(xero_number(r.document))}"'
        ):
            items += self._call(client, client.api.get_invoices, where=where).invoices or []
        for _, where in url_groups(
            credits, lambda r: f'CreditNoteNumber=="{_escape(xero_number(r.document))}"'
        ):
            items += self._call(client, client.api.get_credit_notes, where=where).credit_notes or []
        return items

    # -- settling unknown outcomes -----------------------------------------------------
    def find(
        self, company: Company, records: Sequence[SyncRecord], *, interactive: bool = False
    ) -> dict[int, ExternalDocument]:
        client = self._client(company, interactive=interactive)
        short_code = XeroConnection.objects.get(company=company).short_code
        links = {
            link.partner_id: link.contact_id
            for link in XeroContactLink.objects.filter(
                tenant_id=client.tenant_id, partner_id__in={r.document.partner_id for r in records}
            )
        }
        found: dict[int, ExternalDocument] = {}
        invoices = [r for r in records if not r.document.is_credit_note]
        credits = [r for r in records if r.document.is_credit_note]
        for chunk, where in url_groups(
            invoices, lambda r: f'InvoiceNumber=="{_escape(xero_number(r.document))}"'
        ):
            items = self._call(client, client.api.get_invoices, where=where).invoices or []
            self._match(chunk, items, links, short_code, found)
        for chunk, where in url_groups(
            credits, lambda r: f'CreditNoteNumber=="{_escape(xero_number(r.document))}"'
        ):
            items = self._call(client, client.api.get_credit_notes, where=where).credit_notes or []
            self._match(chunk, items, links, short_code, found)
        if found:
            fingerprints = self._sent_fingerprints(
                company, [r for r in records if r.pk in found], links
            )
            found = {
                pk: replace(doc, fingerprint=fingerprints.get(pk)) for pk, doc in found.items()
            }
        return found

    def _sent_fingerprints(
        self, company: Company, records: Sequence[SyncRecord], links: dict[int, str]
    ) -> dict[int, DocumentFingerprint]:
        """What Xero should hold of documents found after an unknown outcome: the
        payload the lost request carried, built again (the documents are final)."""
        documents = {r.pk: r.document for r in records}
        _load_lines(documents.values())
        tax_types = tax_types_for_company(company)
        categories = {
            d.pk: tracking_category_for(d) for d in company.dimensions.filter(active=True)
        }
        fingerprints = {}
        for pk, document in documents.items():
            contact_id = links.get(document.partner_id)
            if not contact_id:
                continue
            try:
                model = payloads.xero_document(
                    document,
                    contact_id=contact_id,
                    status="AUTHORISED",
                    tax_types=tax_types,
                    categories=categories,
                )
            except KeyError:
                # A tax code no longer mapped: better no fingerprint than a wrong one.
                continue
            fingerprints[pk] = payloads.sent_fingerprint(model, contact_name=document.partner.name)
        return fingerprints

    def _match(
        self,
        records: Sequence[SyncRecord],
        items: Sequence[Any],
        links: dict[int, str],
        short_code: str,
        found: dict[int, ExternalDocument],
    ) -> None:
        for record in records:
            document = record.document
            for item in items:
                if enum_value(item.type) != XERO_TYPES[document.type]:
                    continue
                if _item_number(item) != xero_number(document):
                    continue
                # A supplier's number is not unique in Xero: the contact and total must match too.
                if not document.is_sales and (
                    str(item.contact.contact_id) != links.get(document.partner_id)
                    or money(item.total) != document.gross_total
                ):
                    continue
                found[record.pk] = _external(item, short_code)
                break

    # -- follow-up steps ---------------------------------------------------------------
    def attach(
        self, company: Company, record: SyncRecord, *, filename: str, content: bytes
    ) -> None:
        client = self._client(company)
        document = record.document
        key = f"lb-attach-{record.pk}-{record.external_id}"[:128]
        try:
            if document.is_credit_note:
                self._call(
                    client,
                    client.api.create_credit_note_attachment_by_file_name,
                    record.external_id,
                    filename,
                    content,
                    include_online=document.is_sales,
                    idempotency_key=key,
                    write=True,
                )
            else:
                self._call(
                    client,
                    client.api.create_invoice_attachment_by_file_name,
                    record.external_id,
                    filename,
                    content,
                    include_online=document.is_sales,
                    idempotency_key=key,
                    write=True,
                )
        except (XeroValidation, XeroNotFound) as error:
            raise Rejected(f"Xero refused the PDF: {error.message}") from error

    def allocate(
        self, company: Company, credit_note: SyncRecord, invoice: SyncRecord, *, now: dt.datetime
    ) -> AllocationOutcome:
        client = self._client(company)
        try:
            xero_invoice = self._call(client, client.api.get_invoice, invoice.external_id).invoices[
                0
            ]
        except XeroNotFound as error:
            raise Rejected(
                "The invoice is no longer in Xero; the credit note stays unallocated."
            ) from error
        # A retry after a lost answer: Xero already lists this credit note against
        # the invoice, and the amount due it left must not read as "already paid".
        applied = sum(
            (
                money(cn.applied_amount, missing=Decimal("0"))
                for cn in xero_invoice.credit_notes or []
                if str(cn.credit_note_id) == credit_note.external_id
            ),
            Decimal("0"),
        )
        if applied > 0:
            return AllocationOutcome(
                allocated=applied, note=_partial_note(applied, credit_note, invoice)
            )
        amount_due = money(xero_invoice.amount_due, missing=Decimal("0"))
        if amount_due <= 0:
            return AllocationOutcome(
                allocated=Decimal("0"),
                note=f"{invoice.external_number} is already paid in Xero; the credit note stays "
                "unallocated (refund or allocate it to another invoice in Xero).",
            )
        amount = min(credit_note.document.gross_total, amount_due)
        try:
            self._call(
                client,
                client.api.create_credit_note_allocation,
                credit_note.external_id,
                request_body(
                    payloads.allocation(
                        invoice_id=invoice.external_id, amount=amount, on=timezone.localdate(now)
                    )
                ),
                idempotency_key=f"lb-allocate-{credit_note.pk}-{invoice.pk}",
                write=True,
            )
        except XeroValidation as error:
            raise Rejected(f"Xero refused the allocation: {error.message}") from error
        return AllocationOutcome(allocated=amount, note=_partial_note(amount, credit_note, invoice))


def _number_taken(message: str) -> bool:
    """Xero's refusal of a sales document whose number it already holds
    ('Invoice # must be unique.', 'Credit Note # must be unique.')."""
    return "# must be unique" in message


def _posted_by_us(item: Any, document: Document) -> bool:
    """A purchase document in Xero is one we posted when its reference starts with
    our own number (``payloads.reference``): nobody entering a bill by hand types it."""
    return (item.reference or "").split(" / ")[0] == document.number


def _item_id(item: Any) -> Any:
    return getattr(item, "invoice_id", None) or getattr(item, "credit_note_id", None)


def _item_number(item: Any) -> str:
    return getattr(item, "invoice_number", None) or getattr(item, "credit_note_number", None) or ""


def _external(item: Any, short_code: str) -> ExternalDocument:
    """A Xero invoice or credit note as the port knows it, with its deep link."""
    xero_id = str(_item_id(item))
    return ExternalDocument(
        external_id=xero_id,
        number=_item_number(item),
        url=deep_link(short_code, enum_value(item.type), xero_id),
        total=money(item.total),
        tax=money(item.total_tax),
    )


def _duplicate_message(document: Document, item: Any, found: ExternalDocument) -> str:
    what = "credit note" if document.is_credit_note else "bill"
    when = f" of {format_date(item.date)}" if isinstance(item.date, dt.date) else ""
    amount = (
        f", {format_money(found.total, enum_value(item.currency_code) or document.currency)}"
        if found.total is not None
        else ""
    )
    return (
        f"Not posted: a {what} with this supplier number already exists in Xero "
        f"({found.number}{when}{amount}, {found.url}). If this is really another "
        f"{what}, post it anyway and say why."
    )


def _partial_note(amount: Decimal, credit_note: SyncRecord, invoice: SyncRecord) -> str:
    if amount == credit_note.document.gross_total:
        return ""
    return (
        f"Allocated {format_money(amount, credit_note.document.currency)} (what was left to "
        f"pay on {invoice.external_number}); the rest "
        "stays as credit."
    )


@dataclass(frozen=True)
class _Request:
    """One create request: its documents, its body, and the answer's fields
    (the list of items, an item's Xero ID)."""

    records: Sequence[SyncRecord]
    body: Any
    operation: Callable[..., Any]
    key: str
    fields: tuple[str, str]


@dataclass(frozen=True)
class _Refused:
    """A whole-request refusal: every item of the request gets these messages."""

    messages: list[str]


def _tenant_of(company: Company) -> str:
    return (
        XeroConnection.objects.filter(company=company).values_list("tenant_id", flat=True).first()
        or ""
    )


def register() -> None:
    connector_register(AccountingPackage.XERO_API, XeroConnector)
    organisation_register(AccountingPackage.XERO_API, _tenant_of)
    # Xero keeps sales invoice and credit note numbers unique, voided and deleted ones
    # included ("Invoice # must be unique."); a bill's number is the supplier's.
    numbers_kept_register(AccountingPackage.XERO_API, SALES_TYPES)
    package_name_register(AccountingPackage.XERO_API, "Xero")
