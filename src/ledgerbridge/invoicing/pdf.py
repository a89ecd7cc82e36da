"""The invoice and credit-note PDF: HTML template rendered by WeasyPrint.

A final document is rendered once and stored with its SHA-256, so every copy
sent anywhere (download, accounting attachment) is byte-identical.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import OrderedDict

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


def render_document_pdf_bytes(document: Document) -> bytes:
    from weasyprint import HTML  # imported late: heavy, and only workers need it

    return HTML(string=render_document_html(document)).write_pdf()


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
