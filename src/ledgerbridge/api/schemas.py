"""Request and response shapes of the REST API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from ledgerbridge.invoicing import bounds
from ledgerbridge.invoicing.models import Document

if TYPE_CHECKING:
    from ledgerbridge.accounting.models import SyncRecord
    from ledgerbridge.companies.permissions import Actor


class PartnerIn(Schema):
    kind: str = Field(description="customer or supplier")
    number: str
    name: str
    vat_number: str = ""
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    postcode: str = ""
    country: str = "GB"
    currency: str | None = None
    payment_terms_days: int = 30


class PartnerPatch(Schema):
    name: str | None = None
    vat_number: str | None = None
    email: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    currency: str | None = None
    payment_terms_days: int | None = None
    active: bool | None = None


class PartnerOut(Schema):
    id: int
    kind: str
    number: str
    name: str
    vat_number: str
    email: str
    address_line1: str
    address_line2: str
    city: str
    postcode: str
    country: str
    currency: str
    payment_terms_days: int
    active: bool


class PartnerRef(Schema):
    id: int
    number: str
    name: str


class LineIn(Schema):
    description: str
    charge_type: str = Field(
        description="freight, fuel_surcharge, waiting_time, tolls, subcontracting, fuel, other"
    )
    # The ranges are stated here for the OpenAPI document; the services enforce
    # them (422 naming the field, e.g. lines[0].unit_price, with the range).
    quantity: Decimal = Field(json_schema_extra=bounds.QUANTITY.json_schema())
    unit_price: Decimal = Field(json_schema_extra=bounds.UNIT_PRICE.json_schema())
    discount_percent: Decimal = Field(
        Decimal("0"), json_schema_extra=bounds.DISCOUNT_PERCENT.json_schema()
    )
    nominal_code: str = Field(description="Code of an active nominal code of the company")
    tax_rate: str = Field(description="Code of an active tax rate of the company")
    credited_line_id: int | None = Field(
        None, description="Credit notes: id of the line of the corrected invoice this line credits"
    )


class DocumentIn(Schema):
    type: str = Field(
        description="sales_invoice, sales_credit_note, purchase_invoice, purchase_credit_note"
    )
    partner_id: int
    issue_date: dt.date
    due_date: dt.date | None = Field(
        None, description="Default: issue date + the partner's payment terms"
    )
    currency: str | None = None
    exchange_rate: Decimal | None = Field(
        None,
        json_schema_extra={
            **bounds.EXCHANGE_RATE.json_schema(),
            "description": "Documents in another currency than the company's: units of that "
            "currency per 1 unit of the company's currency (as Xero's CurrencyRate); printed "
            "on the PDF with the VAT in the company's currency. "
            + bounds.EXCHANGE_RATE.json_schema()["description"],
        },
    )
    exchange_rate_source: str = Field(
        "", description="Where the rate comes from, e.g. 'HMRC period rate December 2026'"
    )
    reference: str = ""
    order_reference: str = ""
    trip_reference: str = ""
    supplier_reference: str = Field("", description="Purchase documents: the supplier's number")
    notes: str = ""
    original_id: int | None = Field(None, description="Credit notes: the invoice corrected")
    lines: list[LineIn] = Field(..., min_length=1)


class CreditIn(Schema):
    quantities: dict[int, Decimal] | None = Field(
        None,
        description="Line id → quantity to credit; omit to credit what is left of the invoice",
    )
    issue_date: dt.date | None = None
    reference: str = ""
    supplier_reference: str = ""


class LineOut(Schema):
    id: int
    position: int
    description: str
    charge_type: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    nominal_code: str
    tax_rate: str
    net_amount: Decimal
    tax_amount: Decimal
    dimensions: dict[str, str]
    credited_line_id: int | None = Field(
        None, description="Credit notes: the invoice line credited"
    )


class TaskOut(Schema):
    id: int
    type: str
    status: str = Field(
        description="open; in_progress (completed, its work goes on: e.g. on its way to Xero); "
        "done (for Post to Xero: the document is in Xero); failed (message says why)"
    )
    mode: str
    message: str
    completed_at: dt.datetime | None


class PaymentLineOut(Schema):
    xero_id: str
    date: dt.date | None
    amount: Decimal
    reference: str


class CreditAllocationOut(Schema):
    kind: str = Field(description="credit_note, overpayment, prepayment; invoice on a credit note")
    xero_id: str
    number: str
    date: dt.date | None
    amount: Decimal


class PaymentOut(Schema):
    status: str = Field(description="unpaid, partly_paid, paid, voided, deleted")
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    amount_due: Decimal
    fully_paid_on: dt.date | None
    last_checked_at: dt.datetime | None
    payments: list[PaymentLineOut]
    allocations: list[CreditAllocationOut]


class PostingStatusOut(Schema):
    """Where posting to Xero stands, as the invoice list and the document page say it."""

    state: str = Field(
        description="sending, waiting (Xero's rate limit), blocked, failed, idle; "
        "for one document also posted, not_sent"
    )
    headline: str
    blocked_reason: str = Field(
        description="not_connected, needs_reauthorisation, paused, go_live or ''"
    )
    who: str = Field(description="Who must act, said to the caller's role")
    action_url: str = Field(description="Where to act, if the caller's role can; else ''")
    resumes_at: dt.datetime | None = Field(description="When a wait or pause ends")
    on_the_way: int
    posted: int
    failed: int
    progress: int = Field(description="Percent of this round already in Xero, while sending")


class ProblemOut(Schema):
    """Why Xero refused the document: our code, what it became in Xero, who fixes it where."""

    kind: str = Field(
        description="account, account_archived, tax_rate, tracking_category, tracking_option, "
        "contact, currency, number, lock_date, other"
    )
    code: str = Field(description="Our code or value (nominal code, tax rate, dimension value…)")
    xero_code: str = Field(description="What it became in Xero (account code, TaxType…)")
    subject: str
    text: str = Field(description="What is wrong, in our words")
    fix: str = Field(description="What to do and where, if the caller's role can; else ''")
    fix_url: str
    ask: str = Field(description="Whom to ask and for what, if the caller's role cannot; else ''")
    xero_message: str = Field(description="Xero's own words")


class SyncOut(Schema):
    status: str = Field(description="pending, posting, posted, failed, needs_attention")
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)
    xero_id: str
    xero_number: str
    xero_url: str
    posted_at: dt.datetime | None
    attachment: str
    allocation: str
    duplicate_url: str = Field(
        "",
        description="Failed as a duplicate: the bill already in Xero (retry with a reason)",
    )
    payment: PaymentOut | None = Field(None, description="Payment status as Xero last told us")


class ExportMarkOut(Schema):
    batch_id: int
    batch_number: int
    exported_at: dt.datetime
    exported_by: str
    reexport: bool = Field(description="Exported again on purpose, with the batch's reason")
    in_xero: bool = Field(
        description="Was already in Xero through the API; put in the file on purpose"
    )
    batch_url: str
    description: str = Field(description="As the document page says it")

    @staticmethod
    def of_document(document: Document) -> list[ExportMarkOut]:
        from ledgerbridge.accounting.exports import export_history

        return [
            ExportMarkOut(
                batch_id=entry.batch_id,
                batch_number=entry.batch.number,
                exported_at=entry.batch.created_at,
                exported_by=entry.batch.created_by_label,
                reexport=entry.reexport,
                in_xero=entry.in_xero,
                batch_url=f"/api/exports/{entry.batch_id}",
                description=entry.description,
            )
            for entry in export_history(document)
        ]


class DocumentSummary(Schema):
    id: int
    type: str
    status: str
    number: str
    partner: PartnerRef
    issue_date: dt.date
    due_date: dt.date
    currency: str
    reference: str
    net_total: Decimal
    tax_total: Decimal
    gross_total: Decimal
    exports: list[ExportMarkOut] = Field(
        default_factory=list, description="Xero import files it went into, newest first"
    )

    @staticmethod
    def resolve_exports(obj: Document | dict[str, Any]) -> list[ExportMarkOut]:
        # Lists are built from documents; DocumentOut passes its values in.
        if isinstance(obj, Document):
            return ExportMarkOut.of_document(obj)
        return list(obj.get("exports", []))


class DocumentOut(DocumentSummary):
    supplier_reference: str
    order_reference: str
    trip_reference: str
    notes: str
    original_id: int | None
    exchange_rate: Decimal | None = None
    exchange_rate_source: str = ""
    finalised_at: dt.datetime | None
    lines: list[LineOut]
    tasks: list[TaskOut]
    pdf_url: str | None
    xero: SyncOut | None = Field(None, description="The document's journey to Xero, once asked for")
    posting: PostingStatusOut | None = Field(
        None, description="Where posting this document stands (companies on Xero (API))"
    )

    @staticmethod
    def from_document(document: Document, actor: Actor | None = None) -> DocumentOut:
        lines = [
            LineOut(
                id=line.pk,
                position=line.position,
                description=line.description,
                charge_type=line.charge_type,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                nominal_code=line.nominal_code.code,
                tax_rate=line.tax_rate.code,
                net_amount=line.net_amount,
                tax_amount=line.tax_amount,
                dimensions={d.dimension.name: d.value.code for d in line.dimensions.all()},
                credited_line_id=line.credited_line_id,
            )
            for line in document.lines.select_related("nominal_code", "tax_rate").prefetch_related(
                "dimensions__dimension", "dimensions__value"
            )
        ]
        return DocumentOut(
            id=document.pk,
            type=document.type,
            status=document.status,
            number=document.number,
            partner=PartnerRef(
                id=document.partner.pk, number=document.partner.number, name=document.partner.name
            ),
            issue_date=document.issue_date,
            due_date=document.due_date,
            currency=document.currency,
            reference=document.reference,
            net_total=document.net_total,
            tax_total=document.tax_total,
            gross_total=document.gross_total,
            exports=ExportMarkOut.of_document(document),
            supplier_reference=document.supplier_reference,
            order_reference=document.order_reference,
            trip_reference=document.trip_reference,
            notes=document.notes,
            original_id=document.original_id,
            exchange_rate=document.exchange_rate,
            exchange_rate_source=document.exchange_rate_source,
            finalised_at=document.finalised_at,
            lines=lines,
            tasks=[TaskOut.from_orm(t) for t in document.tasks.filter(hidden=False)],
            pdf_url=None if document.is_draft else f"/api/documents/{document.pk}/pdf",
            xero=_sync_out(document, actor),
            posting=(
                _posting_out(actor, document)
                if actor is not None and not document.is_draft
                else None
            ),
        )


def posting_status_out(status: Any) -> PostingStatusOut:
    return PostingStatusOut(
        state=status.state,
        headline=status.headline,
        blocked_reason=status.blocked_reason,
        who=status.who,
        action_url=status.action_url,
        resumes_at=status.resumes_at,
        on_the_way=status.on_the_way,
        posted=status.posted,
        failed=status.failed,
        progress=status.progress,
    )


def _posting_out(actor: Actor, document: Document) -> PostingStatusOut | None:
    from ledgerbridge.xero.status import posting_status

    status = posting_status(actor=actor, document_id=document.pk)
    return posting_status_out(status) if status is not None else None


def _problems_out(record: SyncRecord, actor: Actor | None) -> list[ProblemOut]:
    from ledgerbridge.xero.problems import problem_advice, problem_text, problems_of

    out = []
    for problem in problems_of(record.problems):
        advice = problem_advice(problem, actor=actor) if actor is not None else None
        out.append(
            ProblemOut(
                kind=problem.kind,
                code=problem.code,
                xero_code=problem.external_code,
                subject=problem.subject,
                text=problem_text(problem),
                fix=advice.fix if advice else "",
                fix_url=advice.url if advice else "",
                ask=advice.ask if advice else "",
                xero_message=problem.detail,
            )
        )
    return out


def _sync_out(document: Document, actor: Actor | None = None) -> SyncOut | None:
    from ledgerbridge.accounting.models import SyncRecord

    record = SyncRecord.objects.filter(document=document).first()
    if record is None:
        return None
    return SyncOut(
        status=record.status,
        message=record.message,
        duplicate_url=record.duplicate_url,
        problems=_problems_out(record, actor),
        xero_id=record.external_id,
        xero_number=record.external_number,
        xero_url=record.external_url,
        posted_at=record.posted_at,
        attachment=record.attachment_status,
        allocation=record.allocation_status,
        payment=_payment_out(record),
    )


def _payment_out(record: SyncRecord) -> PaymentOut | None:
    from ledgerbridge.accounting.models import PaymentState

    state = PaymentState.objects.filter(record=record).first()
    if state is None:
        return None
    return PaymentOut(
        status=state.status,
        total=state.total,
        amount_paid=state.amount_paid,
        amount_credited=state.amount_credited,
        amount_due=state.amount_due,
        fully_paid_on=state.fully_paid_on,
        last_checked_at=state.last_checked_at,
        payments=[
            PaymentLineOut(
                xero_id=p.external_id, date=p.date, amount=p.amount, reference=p.reference
            )
            for p in state.payments.all()
        ],
        allocations=[
            CreditAllocationOut(
                kind=a.kind, xero_id=a.external_id, number=a.number, date=a.date, amount=a.amount
            )
            for a in state.allocations.all()
        ],
    )


class ErrorOut(Schema):
    detail: str


class FinaliseIn(Schema):
    duplicate_override_reason: str = Field(
        "",
        description=(
            "Purchase documents refused as a possible duplicate (finalise: 409; Xero retry: "
            "already in Xero): why this is a different supplier document. At least 10 "
            "characters; kept in the audit log."
        ),
    )


class DuplicateOut(Schema):
    detail: str
    duplicate_id: int = Field(description="The document already recorded")
    duplicate_number: str


class XeroLinkOut(Schema):
    status: str
    status_label: str
    tenant_id: str
    tenant_name: str
    short_code: str
    connected_at: dt.datetime | None
    connected_by: str
    access_expires_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str


class AccountingOut(Schema):
    package: str
    package_label: str
    xero: XeroLinkOut | None


class PackageIn(Schema):
    package: str = Field(description="none, xero_api or xero_file")


class SetupCheckItemOut(Schema):
    area: str
    subject: str
    ok: bool
    message: str
    hint: str


class SetupCheckOut(Schema):
    ok: bool
    ran_at: dt.datetime
    ran_by: str
    items: list[SetupCheckItemOut]
