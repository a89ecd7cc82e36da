"""Business actions of the invoicing domain.

Each action takes an ``Actor`` (who, in which company, with which role), checks
permission and input, and either does everything or nothing. Errors are
``ApplicationError`` with a message for the user and the field at fault.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ledgerbridge.companies.permissions import Actor, Permission, require
from ledgerbridge.companies.services import audit_record
from ledgerbridge.errors import (
    ApplicationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    errors_of,
)
from ledgerbridge.validation import country_code, currency_code, stored_text

from . import bounds
from . import dimensions as dims
from .figures import document_figure_problems, figures_need_correction_message
from .models import (
    CREDIT_NOTE_FOR,
    CREDIT_NOTE_TYPES,
    PURCHASE_TYPES,
    SALES_TYPES,
    ChargeType,
    Document,
    DocumentLine,
    DocumentStatus,
    DocumentType,
    LineDimension,
    NominalCode,
    Partner,
    PartnerKind,
    TaxRate,
    supplier_reference_key,
)
from .money import format_date, format_money, line_net, line_tax, totals_of
from .numbering import number_allocate
from .selectors import lines_left_to_credit, supplier_document_duplicate
from .workflow import tasks_create_for_final_document

MAX_LINES = 500


# ---------------------------------------------------------------- partners


PARTNER_FIELDS = (
    "name",
    "vat_number",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "country",
    "currency",
    "payment_terms_days",
    "active",
)


def _model_text(model: type[models.Model], name: str, value: str, *, field: str = "") -> str:
    """``value`` checked against the column ``name`` of ``model`` (length, NUL)."""
    model_field = model._meta.get_field(name)
    return stored_text(
        value,
        field=field or name,
        label=str(getattr(model_field, "verbose_name", name)).capitalize(),
        max_length=getattr(model_field, "max_length", None),
    )


def _partner_text(name: str, value: str) -> str:
    return _model_text(Partner, name, value)


def _partner_clean(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k in PARTNER_FIELDS}
    for name, value in clean.items():
        if isinstance(value, str):
            clean[name] = _partner_text(name, value)
    if "name" in clean and not str(clean["name"]).strip():
        raise ApplicationError("Enter the partner's name.", field="name")
    if "currency" in clean:
        clean["currency"] = currency_code(clean["currency"])
    if "country" in clean:
        clean["country"] = country_code(clean["country"])
    if "payment_terms_days" in clean:
        clean["payment_terms_days"] = bounds.clean_int_field(
            bounds.PAYMENT_TERMS_DAYS,
            clean["payment_terms_days"],
            field="payment_terms_days",
        )
    return clean


def partner_create(*, actor: Actor, kind: str, number: str, name: str, **data: Any) -> Partner:
    require(actor, Permission.WORK_DOCUMENTS)
    if kind not in PartnerKind.values:
        raise ApplicationError("Kind must be customer or supplier.", field="kind")
    number = _partner_text("number", number.strip())
    if not number:
        raise ApplicationError("Enter the partner number.", field="number")
    clean = _partner_clean({"name": name, **data})
    clean.setdefault("currency", actor.company.base_currency)
    if Partner.objects.filter(company=actor.company, number=number).exists():
        raise ApplicationError(f"Partner number {number} is already used.", field="number")
    return Partner.objects.create(company=actor.company, kind=kind, number=number, **clean)


def partner_update(*, actor: Actor, partner_id: int, **data: Any) -> Partner:
    require(actor, Permission.WORK_DOCUMENTS)
    partner = Partner.objects.filter(company=actor.company, pk=partner_id).first()
    if partner is None:
        raise NotFoundError("No such partner.")
    for name, value in _partner_clean(data).items():
        setattr(partner, name, value)
    partner.save()
    return partner


# ---------------------------------------------------------------- documents


@dataclass
class LineInput:
    description: str
    charge_type: str
    quantity: Any
    unit_price: Any
    nominal_code: str
    tax_rate: str
    discount_percent: Any = Decimal("0")
    credited_line_id: int | None = None


@dataclass
class DocumentInput:
    type: str
    partner_id: int
    issue_date: dt.date
    lines: Sequence[LineInput]
    due_date: dt.date | None = None
    currency: str | None = None
    exchange_rate: Any = None
    exchange_rate_source: str = ""
    reference: str = ""
    order_reference: str = ""
    trip_reference: str = ""
    supplier_reference: str = ""
    notes: str = ""
    original_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _build_lines(
    *, actor: Actor, document: Document | None, doc_type: str, lines: Sequence[LineInput]
) -> tuple[list[tuple[DocumentLine, dict[Any, Any]]], list[ApplicationError]]:
    """Check every line and, for a ``document`` whose header is valid, build them.

    Every error of every line is collected, so one refusal lists them all.
    """
    if not lines:
        return [], [ApplicationError("Add at least one line.", field="lines")]
    if len(lines) > MAX_LINES:
        return [], [
            ApplicationError(f"A document can have at most {MAX_LINES} lines.", field="lines")
        ]
    nominal = {n.code: n for n in NominalCode.objects.filter(company=actor.company)}
    taxes = {t.code: t for t in TaxRate.objects.filter(company=actor.company)}
    compiled = dims.compile_dimensions(actor.company.pk) if document is not None else None
    sales = doc_type in SALES_TYPES
    errors: list[ApplicationError] = []
    creditable = (
        _creditable_line_ids(actor=actor, document=document, lines=lines)
        if document is not None
        else set()
    )
    built = []
    for index, item in enumerate(lines):
        prefix = f"lines[{index}]"
        label = f"Line {index + 1}"
        found: list[ApplicationError] = []

        def figure(
            bound: bounds.Bound,
            value: Any,
            name: str,
            what: str,
            prefix: str = prefix,
            label: str = label,
            found: list[ApplicationError] = found,
        ) -> Decimal | None:
            try:
                return bounds.clean_field(
                    bound, value, field=f"{prefix}.{name}", label=f"{label}: {what}"
                )
            except ApplicationError as error:
                found.append(error)
                return None

        description = (item.description or "").strip()
        if not description:
            found.append(
                ApplicationError(f"{label}: enter a description.", field=f"{prefix}.description")
            )
        else:
            try:
                _model_text(DocumentLine, "description", description, field=f"{prefix}.description")
            except ApplicationError as error:
                found.append(ApplicationError(f"{label}: {error.message}", field=error.field))
        if item.charge_type not in ChargeType.values:
            found.append(
                ApplicationError(
                    f"{label}: unknown charge type {item.charge_type!r}; "
                    f"use one of {', '.join(ChargeType.values)}.",
                    field=f"{prefix}.charge_type",
                )
            )
        quantity = figure(bounds.QUANTITY, item.quantity, "quantity", "quantity")
        unit_price = figure(bounds.UNIT_PRICE, item.unit_price, "unit_price", "unit price")
        discount = figure(
            bounds.DISCOUNT_PERCENT,
            item.discount_percent if item.discount_percent not in (None, "") else 0,
            "discount_percent",
            "discount",
        )
        code_text = (item.nominal_code or "").strip()
        code = nominal.get(code_text)
        if not code_text:
            found.append(
                ApplicationError(f"{label}: choose a nominal code.", field=f"{prefix}.nominal_code")
            )
        elif code is None or not code.active:
            found.append(
                ApplicationError(
                    f"{label}: nominal code {item.nominal_code!r} does not exist or is inactive.",
                    field=f"{prefix}.nominal_code",
                )
            )
        tax_text = (item.tax_rate or "").strip()
        tax = taxes.get(tax_text)
        if not tax_text:
            found.append(
                ApplicationError(f"{label}: choose a tax rate.", field=f"{prefix}.tax_rate")
            )
        elif tax is None or not tax.active:
            found.append(
                ApplicationError(
                    f"{label}: tax rate code {item.tax_rate!r} does not exist or is inactive.",
                    field=f"{prefix}.tax_rate",
                )
            )
        elif sales and not tax.applies_to_sales:
            found.append(
                ApplicationError(
                    f"{label}: tax rate {tax.code} is not for sales.", field=f"{prefix}.tax_rate"
                )
            )
        elif not sales and not tax.applies_to_purchases:
            found.append(
                ApplicationError(
                    f"{label}: tax rate {tax.code} is not for purchases.",
                    field=f"{prefix}.tax_rate",
                )
            )
        if (
            document is not None
            and item.credited_line_id is not None
            and item.credited_line_id not in creditable
        ):
            if document.original is None:
                message = "only a line of a credit note for an invoice can credit a line"
            else:
                message = f"the credited line is not a line of {document.original.number}"
            found.append(
                ApplicationError(f"{label}: {message}.", field=f"{prefix}.credited_line_id")
            )
        net = None
        if quantity is not None and unit_price is not None and discount is not None:
            net = line_net(quantity, unit_price, discount)
            if bounds.MONEY.problem(net):
                found.append(
                    ApplicationError(
                        f"{label}: the line amount (quantity × unit price) would be "
                        f"{bounds.money_text(net)}; a line amount can be "
                        + (
                            f"at most {bounds.money_text(bounds.MONEY.maximum)}."
                            if net > 0
                            else f"at least {bounds.money_text(bounds.MONEY.minimum)}."
                        ),
                        field=f"{prefix}.amount",
                    )
                )
        if found or document is None:
            errors.extend(found)
            continue
        assert quantity is not None and unit_price is not None and discount is not None
        assert net is not None and code is not None and tax is not None
        line = DocumentLine(
            document=document,
            position=index + 1,
            description=description,
            charge_type=item.charge_type,
            quantity=quantity,
            unit_price=unit_price,
            discount_percent=discount,
            nominal_code=code,
            tax_rate=tax,
            net_amount=net,
            tax_amount=line_tax(net, tax.rate),
            credited_line_id=item.credited_line_id,
        )
        partner = document.partner
        facts = {
            "partner.number": partner.number,
            "partner.name": partner.name,
            "partner.country": partner.country,
            "partner.kind": partner.kind,
            "document.type": document.type,
            "document.currency": document.currency,
            "document.reference": document.reference,
            "document.order_reference": document.order_reference,
            "document.trip_reference": document.trip_reference,
            "line.charge_type": line.charge_type,
            "line.nominal_code": code.code,
            "line.tax_rate": tax.code,
            "line.description": description,
        }
        assert compiled is not None
        try:
            built.append((line, dims.evaluate(compiled, facts, line_label=label)))
        except ApplicationError as error:
            errors.append(error)
    return built, errors


def document_lines_check(
    *, actor: Actor, type: str, lines: Sequence[LineInput]
) -> list[ApplicationError]:
    """The errors of ``lines`` alone, for a form whose header could not be read."""
    require(actor, Permission.WORK_DOCUMENTS)
    return _build_lines(actor=actor, document=None, doc_type=type, lines=lines)[1]


def _document_fill(
    *, actor: Actor, document: Document, data: DocumentInput
) -> list[tuple[DocumentLine, dict[Any, Any]]]:
    """Header and lines checked together, so one refusal lists every error."""
    errors: list[ApplicationError] = []
    try:
        _apply_header(actor=actor, document=document, data=data)
    except (NotFoundError, PermissionDeniedError):
        raise
    except ApplicationError as error:
        errors.extend(errors_of(error))
    built, line_errors = _build_lines(
        actor=actor, document=None if errors else document, doc_type=data.type, lines=data.lines
    )
    errors.extend(line_errors)
    if errors:
        raise InvalidInputError(errors)
    return built


def _creditable_line_ids(
    *, actor: Actor, document: Document, lines: Sequence[LineInput]
) -> set[int]:
    """The credited line ids given in ``lines`` that are lines of the invoice
    ``document`` corrects: a credit note credits its own invoice's lines only, never
    another invoice's or another company's (the id arrives from a form or the API)."""
    wanted = {
        item.credited_line_id
        for item in lines
        if item.credited_line_id is not None
        and bounds.RECORD_ID.minimum <= item.credited_line_id <= bounds.RECORD_ID.maximum
    }
    if not wanted or document.original is None:
        return set()
    return set(
        DocumentLine.objects.filter(
            document=document.original, document__company=actor.company, pk__in=wanted
        ).values_list("pk", flat=True)
    )


def _apply_exchange_rate(*, actor: Actor, document: Document, data: DocumentInput) -> None:
    base = actor.company.base_currency
    source = _model_text(
        Document, "exchange_rate_source", (data.exchange_rate_source or "").strip()
    )
    if data.exchange_rate is None or data.exchange_rate == "":
        if source:
            raise ApplicationError(
                "A rate source goes with an exchange rate: enter the rate too.",
                field="exchange_rate",
            )
        document.exchange_rate, document.exchange_rate_source = None, ""
        return
    if document.currency == base:
        raise ApplicationError(
            f"A document in {base}, the company's currency, has no exchange rate.",
            field="exchange_rate",
        )
    document.exchange_rate = bounds.clean_field(
        bounds.EXCHANGE_RATE,
        data.exchange_rate,
        field="exchange_rate",
        label=f"Exchange rate ({document.currency} per 1 {base})",
    )
    document.exchange_rate_source = source


def _apply_header(*, actor: Actor, document: Document, data: DocumentInput) -> None:
    if data.type not in DocumentType.values:
        raise ApplicationError("Unknown document type.", field="type")
    partner = Partner.objects.filter(company=actor.company, pk=data.partner_id).first()
    if partner is None:
        raise ApplicationError("Choose a partner of this company.", field="partner_id")
    wants = PartnerKind.CUSTOMER if data.type in SALES_TYPES else PartnerKind.SUPPLIER
    if partner.kind != wants:
        raise ApplicationError(
            f"{partner.name} is a {partner.get_kind_display().lower()}; "
            f"a {DocumentType(data.type).label.lower()} needs a {wants.label.lower()}.",
            field="partner_id",
        )
    if not partner.active:
        raise ApplicationError(f"{partner.name} is inactive.", field="partner_id")
    if not isinstance(data.issue_date, dt.date):
        raise ApplicationError("Enter the issue date.", field="issue_date")
    try:
        due = data.due_date or data.issue_date + dt.timedelta(days=partner.payment_terms_days)
    except OverflowError:
        raise ApplicationError(
            "With the partner's payment terms the due date falls after 31 Dec 9999; "
            "check the issue date.",
            field="issue_date",
        ) from None
    if due < data.issue_date:
        raise ApplicationError("The due date cannot be before the issue date.", field="due_date")
    document.type = data.type
    document.partner = partner
    document.issue_date = data.issue_date
    document.due_date = due
    document.currency = currency_code(data.currency or partner.currency)
    _apply_exchange_rate(actor=actor, document=document, data=data)
    document.reference = _model_text(Document, "reference", data.reference.strip())
    document.order_reference = _model_text(
        Document, "order_reference", data.order_reference.strip()
    )
    document.trip_reference = _model_text(Document, "trip_reference", data.trip_reference.strip())
    document.supplier_reference = _model_text(
        Document, "supplier_reference", data.supplier_reference.strip()
    )
    document.supplier_reference_key = supplier_reference_key(document.supplier_reference)
    document.notes = _model_text(Document, "notes", data.notes.strip())
    if data.original_id is not None:
        if data.type not in CREDIT_NOTE_TYPES:
            raise ApplicationError(
                "Only a credit note can reference an invoice.", field="original_id"
            )
        original = Document.objects.filter(company=actor.company, pk=data.original_id).first()
        if original is None or CREDIT_NOTE_FOR.get(original.type) != data.type:  # type: ignore[call-overload]
            raise ApplicationError(
                "The referenced invoice does not exist or is of another kind.", field="original_id"
            )
        if original.status != DocumentStatus.FINAL:
            raise ApplicationError("Only a final invoice can be credited.", field="original_id")
        if original.partner_id != partner.pk:
            raise ApplicationError(
                "A credit note must be for the partner of its invoice.", field="partner_id"
            )
        if document.currency != original.currency:
            # What is left to credit is the invoice's amount less its credit notes':
            # only meaningful in one currency.
            raise ApplicationError(
                f"A credit note is in the currency of its invoice ({original.currency}), "
                f"not {document.currency}.",
                field="currency",
            )
        document.original = original
    else:
        document.original = None


def _save_lines(document: Document, built: list[tuple[DocumentLine, dict[Any, Any]]]) -> None:
    totals = totals_of((line.net_amount, line.tax_amount) for line, _ in built)
    for name, total in (("total", totals.gross), ("net", totals.net), ("tax", totals.tax)):
        if bounds.MONEY.problem(total):
            raise ApplicationError(
                f"The document's {name} would be {bounds.money_text(total)}; it can be at "
                f"most {bounds.money_text(bounds.MONEY.maximum)}. "
                "Split the charges over several documents.",
                field="lines",
            )
    document.lines.all().delete()
    DocumentLine.objects.bulk_create([line for line, _ in built])
    # bulk_create sets primary keys on PostgreSQL and SQLite alike (RETURNING).
    LineDimension.objects.bulk_create(
        [
            LineDimension(line=line, dimension=dimension, value=value)
            for line, values in built
            for dimension, value in values.items()
        ]
    )
    if totals.gross < 0:
        raise ApplicationError(
            "The document's total cannot be negative; record the correction as a credit note.",
            field="lines",
        )
    document.net_total = totals.net
    document.tax_total = totals.tax
    document.gross_total = totals.gross


def document_create(*, actor: Actor, data: DocumentInput) -> Document:
    """Create a draft with its lines, coded and totalled."""
    require(actor, Permission.WORK_DOCUMENTS)
    with transaction.atomic():
        document = Document(company=actor.company, created_by=actor.user)
        built = _document_fill(actor=actor, document=document, data=data)
        document.save()
        _save_lines(document, built)
        document.save(update_fields=["net_total", "tax_total", "gross_total"])
        if document.original is not None:
            _check_credit_within_invoice(document)
    return document


def _get_for_update(actor: Actor, document_id: int) -> Document:
    document = (
        Document.objects.select_for_update()
        .select_related("partner")
        .filter(company=actor.company, pk=document_id)
        .first()
    )
    if document is None:
        raise NotFoundError("No such document.")
    return document


def document_update(*, actor: Actor, document_id: int, data: DocumentInput) -> Document:
    """Replace a draft's header and lines. Final documents are frozen."""
    require(actor, Permission.WORK_DOCUMENTS)
    with transaction.atomic():
        document = _get_for_update(actor, document_id)
        if not document.is_draft:
            raise ApplicationError(
                f"{document} is final and cannot be changed; correct it with a credit note."
            )
        built = _document_fill(actor=actor, document=document, data=data)
        _save_lines(document, built)
        document.save()
        if document.original is not None:
            _check_credit_within_invoice(document)
    return document


def document_delete_draft(*, actor: Actor, document_id: int) -> None:
    require(actor, Permission.WORK_DOCUMENTS)
    with transaction.atomic():
        document = _get_for_update(actor, document_id)
        if not document.is_draft:
            raise ApplicationError("Only drafts can be deleted.")
        document.delete()


def _check_credit_within_invoice(credit_note: Document) -> None:
    original = credit_note.original
    assert original is not None
    credited = sum(
        (
            cn.gross_total
            for cn in original.credit_notes.exclude(pk=credit_note.pk).filter(
                status=DocumentStatus.FINAL
            )
        ),
        Decimal("0.00"),
    )
    remaining = original.gross_total - credited
    if credit_note.gross_total > remaining:
        raise ApplicationError(
            f"This credit note ({format_money(credit_note.gross_total, credit_note.currency)}) "
            f"is more than what is left to credit on {original.number} "
            f"({format_money(remaining, original.currency)}).",
            field="lines",
        )


# A reason to finalise a duplicate must say something ("ok" does not).
MIN_OVERRIDE_REASON = 10


class DuplicateDocumentError(ApplicationError):
    """Finalising would record a supplier's document a second time."""

    def __init__(self, message: str, *, duplicate: Document) -> None:
        super().__init__(message, field="supplier_reference")
        self.duplicate = duplicate


def describe_document(document: Document) -> str:
    """``purchase invoice PINV-2026-00012 (supplier's number M62-INV-9981) of 02 Nov 2026,
    768.00 GBP``: enough for a person to recognise it."""
    theirs = (
        f" (supplier's number {document.supplier_reference})" if document.supplier_reference else ""
    )
    return (
        f"{document.get_type_display().lower()} {document.display_number}{theirs} of "
        f"{format_date(document.issue_date)}, {format_money(document.gross_total, document.currency)}"
    )


def _duplicate_message(document: Document, duplicate: Document) -> str:
    same_number = (
        document.supplier_reference_key
        and duplicate.supplier_reference_key == document.supplier_reference_key
    )
    why = "the same supplier's number" if same_number else "the same date and total"
    return (
        f"{document.partner.name} already has a document with {why}: "
        f"{describe_document(duplicate)}. If this is really a different document, "
        "finalise it anyway and say why."
    )


def duplicate_override_reason_clean(reason: str) -> str:
    """The reason given to record a possible duplicate anyway, checked and tidied."""
    reason = " ".join(reason.split())
    if len(reason) < MIN_OVERRIDE_REASON:
        raise ApplicationError(
            f"Say why this is not a duplicate (at least {MIN_OVERRIDE_REASON} characters).",
            field="duplicate_override_reason",
        )
    return reason


def document_finalise(
    *,
    actor: Actor,
    document_id: int,
    now: dt.datetime | None = None,
    duplicate_override_reason: str = "",
) -> Document:
    """Number and freeze a draft, then add its workflow tasks. All or nothing.

    A purchase document that records a supplier's document already recorded
    (see ``supplier_document_duplicate``) is refused unless a reason is given;
    the reason goes to the audit log.
    """
    require(actor, Permission.WORK_DOCUMENTS)
    now = now or timezone.now()
    with transaction.atomic():
        document = _get_for_update(actor, document_id)
        if not document.is_draft:
            raise ApplicationError(f"{document} is already final.")
        if not document.lines.exists():
            raise ApplicationError("Add at least one line before finalising.", field="lines")
        if document.type in PURCHASE_TYPES and not document.supplier_reference:
            raise ApplicationError(
                "Enter the supplier's document number before finalising.",
                field="supplier_reference",
            )
        problems = document_figure_problems(document)
        if problems:
            raise ApplicationError(figures_need_correction_message(problems), field="lines")
        if document.original is not None:
            _check_credit_within_invoice(document)
        duplicate = supplier_document_duplicate(document=document)
        if duplicate is not None:
            if not duplicate_override_reason.strip():
                raise DuplicateDocumentError(
                    _duplicate_message(document, duplicate), duplicate=duplicate
                )
            reason = duplicate_override_reason_clean(duplicate_override_reason)
        document.number = number_allocate(
            company=actor.company,
            document_type=document.type,
            year=timezone.localdate(now).year,
        )
        document.status = DocumentStatus.FINAL
        document.finalised_at = now
        document.finalised_by = actor.user
        try:
            with transaction.atomic():
                document.save(
                    update_fields=["number", "status", "finalised_at", "finalised_by", "updated_at"]
                )
        except IntegrityError:
            raise ApplicationError(
                f"Number {document.number} is already used; check the number series "
                "in Configuration > Number series."
            ) from None
        if duplicate is not None:
            _audit(
                actor,
                "duplicate finalised anyway",
                str(document),
                {
                    "reason": reason,
                    "document_id": document.pk,
                    "supplier": document.partner.name,
                    "supplier_reference": document.supplier_reference,
                    "duplicate_of": describe_document(duplicate),
                    "duplicate_id": duplicate.pk,
                },
            )
        tasks_create_for_final_document(document=document, now=now)
        document_id_for_pdf = document.pk
        transaction.on_commit(lambda: _enqueue_pdf(document_id_for_pdf))
    return document


def _enqueue_pdf(document_id: int) -> None:
    from .tasks import render_document_pdf

    render_document_pdf(document_id)


def credit_note_create_from_invoice(
    *,
    actor: Actor,
    invoice_id: int,
    quantities: dict[int, Any] | None = None,
    issue_date: dt.date | None = None,
    reference: str = "",
    supplier_reference: str = "",
) -> Document:
    """Draft a credit note for a final invoice: all of it, or given quantities per line id."""
    require(actor, Permission.WORK_DOCUMENTS)
    invoice = (
        Document.objects.filter(company=actor.company, pk=invoice_id)
        .select_related("partner")
        .first()
    )
    if invoice is None:
        raise NotFoundError("No such invoice.")
    credit_type = CREDIT_NOTE_FOR.get(invoice.type)  # type: ignore[call-overload]
    if credit_type is None:
        raise ApplicationError("Only invoices can be credited.")
    invoice_lines = list(invoice.lines.select_related("nominal_code", "tax_rate"))
    if quantities is not None:
        strangers = set(quantities) - {line.pk for line in invoice_lines}
        if strangers:
            raise ApplicationError(
                f"Line id {min(strangers)} is not a line of invoice {invoice.number}.",
                field="quantities",
            )
    left = lines_left_to_credit(invoice=invoice)
    lines = []
    for line in invoice_lines:
        quantity: Any = left[line.pk]
        if quantities is not None:
            if line.pk not in quantities:
                continue
            quantity = bounds.clean_field(
                bounds.CREDIT_QUANTITY,
                quantities[line.pk],
                field=f"quantities[{line.pk}]",
                label=f"Line {line.position}: quantity",
            )
            if quantity > left[line.pk]:
                raise ApplicationError(
                    f"Line {line.position}: only {left[line.pk].normalize():f} of the invoiced "
                    f"{line.quantity.normalize():f} is left to credit.",
                    field=f"quantities[{line.pk}]",
                )
        if quantity <= 0:
            continue
        lines.append(
            LineInput(
                description=line.description,
                charge_type=line.charge_type,
                quantity=quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                nominal_code=line.nominal_code.code,
                tax_rate=line.tax_rate.code,
                credited_line_id=line.pk,
            )
        )
    if not lines:
        if quantities is None:
            raise ApplicationError(f"Nothing is left to credit on {invoice.number}.")
        raise ApplicationError("Choose at least one line to credit.", field="quantities")
    issue = issue_date or timezone.localdate()
    return document_create(
        actor=actor,
        data=DocumentInput(
            type=credit_type,
            partner_id=invoice.partner_id,
            issue_date=issue,
            due_date=issue,
            currency=invoice.currency,
            # HMRC: a credit note converts at the rate of the invoice it corrects.
            exchange_rate=invoice.exchange_rate,
            exchange_rate_source=invoice.exchange_rate_source,
            reference=reference or f"Credit for {invoice.number}",
            order_reference=invoice.order_reference,
            trip_reference=invoice.trip_reference,
            supplier_reference=supplier_reference,
            original_id=invoice.pk,
            lines=lines,
        ),
    )


def document_input_from(document: Document) -> DocumentInput:
    """The input that would recreate ``document`` (for editing forms)."""
    return DocumentInput(
        type=document.type,
        partner_id=document.partner_id,
        issue_date=document.issue_date,
        due_date=document.due_date,
        currency=document.currency,
        exchange_rate=document.exchange_rate,
        exchange_rate_source=document.exchange_rate_source,
        reference=document.reference,
        order_reference=document.order_reference,
        trip_reference=document.trip_reference,
        supplier_reference=document.supplier_reference,
        notes=document.notes,
        original_id=document.original_id,
        lines=[
            LineInput(
                description=line.description,
                charge_type=line.charge_type,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                nominal_code=line.nominal_code.code,
                tax_rate=line.tax_rate.code,
                credited_line_id=line.credited_line_id,
            )
            for line in document.lines.select_related("nominal_code", "tax_rate")
        ],
    )


def _audit(actor: Actor, action: str, target: str, changes: dict[str, Any] | None = None) -> None:
    audit_record(actor=actor, company=actor.company, action=action, target=target, changes=changes)
