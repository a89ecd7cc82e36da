"""The invoice and credit-note PDF: HTML template rendered by WeasyPrint.

A final document is rendered once and stored with its SHA-256, so every copy
sent anywhere (download, accounting attachment) is byte-identical.

What users typed only ever reaches the HTML, where Django escapes it: never the
stylesheet (HTML escaping means nothing inside CSS, where a newline ends a string
and the rest is read as rules). The page footer takes the company's name and VAT
number from the HTML with ``string-set``. The renderer loads nothing from outside
(``pdf_fetcher``); the logo is inlined as a ``data:`` URL.

A sales invoice or credit note is a UK VAT invoice: each line's VAT rate as a
percentage, a VAT summary by rate, both VAT registration numbers, the tax point,
and for a document in another currency its amounts also in the company's
currency at the rate recorded on the document (HMRC, VAT Notice 700 §16.3 and
§16.6). A purchase document is the supplier's invoice, entered by us: its PDF
is our record of it, titled so, without our payment details.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from ledgerbridge.metrics import PDF_RENDER_SECONDS

from .models import Document, DocumentPdf
from .money import TaxSummaryRow, to_base_currency


def tax_summary(document: Document) -> list[TaxSummaryRow]:
    rows: OrderedDict[str, list] = OrderedDict()
    for line in document.lines.select_related("tax_rate"):
        rate = line.tax_rate
        row = rows.setdefault(rate.code, [rate, 0, 0])
        row[1] += line.net_amount
        row[2] += line.tax_amount
    return [
        TaxSummaryRow(code=code, name=rate.name, rate=rate.rate, net=net, tax=tax)
        for code, (rate, net, tax) in rows.items()
    ]


@dataclass(frozen=True)
class BaseCurrencyTotals:
    """A foreign-currency document's totals in the company's currency, and the rate used."""

    currency: str
    rate_text: str
    source: str
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def base_currency_totals(document: Document) -> BaseCurrencyTotals | None:
    """None for a document in the company's currency or without a recorded rate."""
    rate = document.exchange_rate
    if document.currency == document.company.base_currency or rate is None:
        return None
    return BaseCurrencyTotals(
        currency=document.company.base_currency,
        rate_text=document.exchange_rate_text,
        source=document.exchange_rate_source,
        net=to_base_currency(document.net_total, rate),
        tax=to_base_currency(document.tax_total, rate),
    )


def render_document_html(document: Document) -> str:
    company = document.company
    logo = None
    if company.logo:
        logo = f"data:{company.logo_content_type};base64,{base64.b64encode(bytes(company.logo)).decode()}"
    return render_to_string(
        "invoicing/pdf/document.html",
        {
            "document": document,
            "company": company,
            "partner": document.partner,
            "lines": document.lines.select_related("nominal_code", "tax_rate"),
            "tax_summary": tax_summary(document),
            "foreign": document.currency != company.base_currency,
            "in_base_currency": base_currency_totals(document),
            "logo": logo,
        },
    )


def weasyprint_html(html: str, *, document_id: int | None = None) -> Any:
    """WeasyPrint's document for ``html``, able to load nothing from outside."""
    # Imported late: heavy, and only workers need it.
    from weasyprint import HTML

    from .pdf_fetcher import PDF_BASE_URL, PdfUrlFetcher

    return HTML(
        string=html, base_url=PDF_BASE_URL, url_fetcher=PdfUrlFetcher(document_id=document_id)
    )


def render_document_pdf_bytes(document: Document) -> bytes:
    with PDF_RENDER_SECONDS.time():
        return bytes(
            weasyprint_html(render_document_html(document), document_id=document.pk).write_pdf()
        )


def document_pdf_ensure(*, document: Document, now: dt.datetime | None = None) -> DocumentPdf:
    """Return the stored PDF, rendering and storing it the first time."""
    existing = DocumentPdf.objects.filter(document=document).first()
    if existing is not None:
        return existing
    content = render_document_pdf_bytes(document)
    try:
        with transaction.atomic():
            return DocumentPdf.objects.create(
                document=document,
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                size=len(content),
                rendered_at=now or timezone.now(),
            )
    except IntegrityError:
        # Another process rendered it first; theirs is the one of record.
        return DocumentPdf.objects.get(document=document)
