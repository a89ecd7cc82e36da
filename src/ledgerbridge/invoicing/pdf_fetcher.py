"""What the PDF renderer may load: the product's static files and ``data:`` URLs.

WeasyPrint's own fetcher follows any URL a document names, ``http(s)`` and
``file`` included, and the PDF is rendered from data users type (company,
partner, lines). This one answers from memory or from the product's own files on
disk, never opens a connection, and refuses (and logs) everything else.

The HTML is rendered against ``PDF_BASE_URL``, an origin that cannot resolve
(``.invalid`` is reserved): a relative URL joins onto it and is refused unless it
names one of our static files, which are read from the package, not fetched.
Imported only where PDFs are rendered (WeasyPrint is heavy).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = structlog.get_logger(__name__)

PDF_HOST = "ledgerbridge.invalid"
PDF_BASE_URL = f"https://{PDF_HOST}/"


class PdfFetchRefused(ValueError):
    """The PDF named a resource it may not load."""


def static_file_for(url: str) -> Path | None:
    """The product's static file that ``url`` names under ``PDF_BASE_URL``, if any."""
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if parts.scheme != "https" or parts.netloc != PDF_HOST or not parts.path.startswith(prefix):
        return None
    try:
        found = finders.find(unquote(parts.path[len(prefix) :]))
    except SuspiciousFileOperation:  # ../ out of the static directories
        return None
    if not isinstance(found, str):
        return None
    return Path(found)


class PdfUrlFetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher that never leaves the process (see the module)."""

    def __init__(self, *, document_id: int | None = None) -> None:
        # urllib underneath may open data: only; everything else is decided below.
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        self.document_id = document_id

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = static_file_for(url)
        if path is not None:
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )
        scheme = url.partition(":")[0].strip().lower()
        if scheme == "data":
            return super().fetch(url, headers)
        # Scheme and host only: a path or query may carry whatever a user typed.
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            host = ""
        log.warning(
            "pdf.fetch_refused", scheme=scheme[:20], host=host[:100], document_id=self.document_id
        )
        raise PdfFetchRefused(f"The PDF may not load {scheme}: resources.")
