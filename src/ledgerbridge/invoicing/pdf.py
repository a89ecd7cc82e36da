"""The invoice and credit-note PDF: HTML template rendered by WeasyPrint.

A final document is rendered once and stored with its SHA-256, so every copy
sent anywhere (download, accounting attachment) is byte-identical.

What users typed only ever reaches the HTML, where Django escapes it: never the
stylesheet (HTML escaping means nothing inside CSS, where a newline ends a string
and the rest is read as rules). The page footer takes the company's name and VAT
number from the HTML with ``string-set``. The renderer loads nothing from outside
(``pdf_fetcher``); the logo is inlined as a ``data:`` URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import OrderedDict
from typing import Any

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Document, DocumentPdf
from .money import TaxSummaryRow


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
