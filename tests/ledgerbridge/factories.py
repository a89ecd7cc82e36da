"""Factories for tests: companies with a starter configuration, users, documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from django.db import transaction
from django.utils import timezone

from ledgerbridge.companies.models import Company, Membership, Role, User
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import (
    Document,
    DocumentPdf,
    DocumentType,
    Partner,
    PartnerKind,
)
from ledgerbridge.invoicing.services import (
    DocumentInput,
    LineInput,
    document_create,
    document_finalise,
    partner_create,
)
from ledgerbridge.invoicing.starter import DEFAULT_CODING, starter_configuration_load

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def system_actor(company: Company) -> Actor:
    return Actor(company=company, role=Role.SUPER_ADMIN, is_platform_staff=True, label="tests")


def make_company(legal_name: str | None = None, *, starter: bool = True, **fields) -> Company:
    company = Company.objects.create(
        legal_name=legal_name or f"Haulier {next(_seq)} Ltd",
        vat_number=fields.pop("vat_number", "GB123456789"),
        address_line1=fields.pop("address_line1", "1 Depot Road"),
        city=fields.pop("city", "Leeds"),
        postcode=fields.pop("postcode", "LS1 1AA"),
        **fields,
    )
    if starter:
        starter_configuration_load(actor=system_actor(company))
    return company


def make_user(
    company: Company | None = None,
    role: str = Role.FINANCE,
    *,
    username: str | None = None,
    password: str = PASSWORD,
    platform_staff: bool = False,
) -> User:
    user = User.objects.create_user(
        username=username or f"user{next(_seq)}",
        password=password,
        is_platform_staff=platform_staff,
    )
    if company is not None:
        Membership.objects.create(user=user, company=company, role=role)
    return user


def make_actor(company: Company, role: str = Role.FINANCE) -> Actor:
    user = make_user(company, role)
    return Actor(company=company, role=role, user=user)


def make_partner(company: Company, kind: str = PartnerKind.CUSTOMER, **fields) -> Partner:
    n = next(_seq)
    prefix = "C" if kind == PartnerKind.CUSTOMER else "S"
    number = fields.pop("number", None)
    if number is None:
        # Generated numbers skip the ones a test gave by hand ("C0042").
        while Partner.objects.filter(company=company, number=f"{prefix}{n:04d}").exists():
            n = next(_seq)
        number = f"{prefix}{n:04d}"
    return partner_create(
        actor=system_actor(company),
        kind=kind,
        number=number,
        name=fields.pop("name", f"{'Customer' if kind == 'customer' else 'Supplier'} {n} Ltd"),
        **fields,
    )


def line(
    charge_type: str = "freight",
    *,
    sales: bool = True,
    quantity: str = "1",
    unit_price: str = "100.00",
    discount: str = "0",
    tax_rate: str | None = None,
    description: str | None = None,
) -> LineInput:
    sales_code, purchase_code = DEFAULT_CODING[charge_type]
    return LineInput(
        description=description or f"{charge_type.replace('_', ' ').title()} Leeds - Hull",
        charge_type=charge_type,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        nominal_code=sales_code if sales else purchase_code,
        tax_rate=tax_rate or ("S20" if sales else "S20P"),
    )


def make_document(
    actor: Actor,
    type: str = DocumentType.SALES_INVOICE,
    *,
    lines: int | list[LineInput] = 2,
    finalise: bool = False,
    partner: Partner | None = None,
    issue_date: dt.date | None = None,
    **header,
) -> Document:
    sales = type in (DocumentType.SALES_INVOICE, DocumentType.SALES_CREDIT_NOTE)
    if partner is None:
        partner = make_partner(
            actor.company, PartnerKind.CUSTOMER if sales else PartnerKind.SUPPLIER
        )
    if isinstance(lines, int):
        kinds = ["freight", "fuel_surcharge", "waiting_time", "tolls"]
        lines = [line(kinds[i % 4], sales=sales, unit_price=f"{100 + i}.50") for i in range(lines)]
    if not sales:
        header.setdefault("supplier_reference", f"SUP-{next(_seq)}")
    document = document_create(
        actor=actor,
        data=DocumentInput(
            type=type,
            partner_id=partner.pk,
            issue_date=issue_date or dt.date(2026, 11, 2),
            lines=lines,
            **header,
        ),
    )
    if finalise:
        document = document_finalise(actor=actor, document_id=document.pk)
    return document


# A document's stored PDF, in place of rendering one (about a second each, most of the
# time of a test that posts many documents). For tests that are not about the PDF's
# content: rendering, and the real PDF reaching Xero, are tested on their own.
STAND_IN_PDF = b"%PDF-1.4\n% a stand-in for the document's PDF\n%%EOF\n"


def store_stand_in_pdf(document: Document, content: bytes = STAND_IN_PDF) -> DocumentPdf:
    """Store a stand-in (``STAND_IN_PDF`` unless told) as a final document's PDF, so
    nothing renders one."""
    return DocumentPdf.objects.create(
        document=document,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        rendered_at=timezone.now(),
    )


def make_final_document(actor: Actor, type: str = DocumentType.SALES_INVOICE, **kwargs) -> Document:
    """A final document with a stand-in PDF stored in the same transaction: nothing
    renders its PDF, not even where finalising commits (a transactional test, whose
    rendering after the commit then finds the PDF stored) or a page asks for the PDF."""
    with transaction.atomic():
        document = make_document(actor, type, finalise=True, **kwargs)
        # Its number and references in plain text, as a rendered PDF's would show them,
        # so a test looking for them in an answer sees a leaked PDF.
        named = (
            f"%PDF-1.4\n% stand-in PDF of {document.number} for {document.partner.name}"
            f" ({document.order_reference})\n"
        )
        store_stand_in_pdf(document, named.encode() + b"%%EOF\n")
    return document
