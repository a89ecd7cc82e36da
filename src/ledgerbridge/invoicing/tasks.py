"""Background jobs of the invoicing domain (Huey)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from .models import Document, DocumentStatus
from .pdf import document_pdf_ensure


@db_task(retries=3, retry_delay=10)
def render_document_pdf(document_id: int) -> None:
    document = Document.objects.filter(pk=document_id, status=DocumentStatus.FINAL).first()
    if document is not None:
        document_pdf_ensure(document=document)
