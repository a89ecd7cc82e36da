"""The invoice PDF loads nothing from outside, whatever users typed into it.

Every text field that reaches the PDF holds CSS and URL payloads; a catcher on
loopback and Python's audit hooks (every socket connect, name lookup and file
open in the process) show that rendering reached no server and read no file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socketserver
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from ledgerbridge.companies.models import Company, Role
from ledgerbridge.invoicing.models import Document, DocumentLine, Partner, TaxRate
from ledgerbridge.invoicing.pdf import (
    render_document_html,
    render_document_pdf_bytes,
    weasyprint_html,
)
from tests.ledgerbridge.factories import line, make_actor, make_company, make_document

pytestmark = pytest.mark.django_db

# -- what the process does while a PDF renders -------------------------------------

_seen: list[tuple[str, str]] | None = None


def _audit(event: str, args: tuple) -> None:
    if _seen is None:
        return
    if event == "open" and args and isinstance(args[0], str | bytes):
        _seen.append((event, str(args[0])))
    elif event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        _seen.append((event, repr(args[:2])))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only inside watching()


class Watch:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def opened(self, path: Path) -> list[str]:
        return [p for event, p in self.events if event == "open" and str(path) in p]

    def network(self) -> list[tuple[str, str]]:
        return [
            (event, args)
            for event, args in self.events
            if event != "open" and not args.startswith("('data:")
        ]


@contextlib.contextmanager
def watching() -> Iterator[Watch]:
    """What the process does inside the block."""
    global _seen
    watch = Watch()
    _seen = watch.events
    try:
        yield watch
    finally:
        _seen = None


class _Catcher(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CatcherHandler)
        self.connections = 0

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True


class _CatcherHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.rfile.readline()
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/css\r\n\r\nhtml{background:red}")


@pytest.fixture
def catcher() -> Iterator[_Catcher]:
    server = _Catcher()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A local file a payload names: an image, so a renderer that read it would use it."""
    path = tmp_path / "secret.png"
    Image.new("RGB", (4, 4), "red").save(path)
    return path


def _payloads(port: int, secret: Path) -> list[str]:
    http = f"http://127.0.0.1:{port}"
    return [
        f"Pennine & Co\n}}}} html{{background:url({http}/css-ssrf)}} x{{",
        f'x\n}} body{{background:url(file://{secret})}} x{{ "',
        f"x\n}} @import url({http}/import.css); x{{",
        f"x\";}} *{{background-image:url('{http}/quote')}} x{{\"",
        f"x\\A }} *{{content:url({http}/escape)}} x{{",
        f'<img src="{http}/img"><link rel="stylesheet" href="{http}/link.css">',
        f"<style>@import '{http}/style.css';</style>",
        f'<svg><image href="file://{secret}"/></svg>',
    ]


def _short(port: int) -> str:
    # For fields of 20-30 characters.
    return f"\n}}@import'//127.1:{port}';"


def _poison_everything(port: int, secret: Path) -> Document:
    long = _payloads(port, secret)
    short = _short(port)
    company = make_company("Pennine Freight Ltd")
    actor = make_actor(company, Role.FINANCE)
    lines = [line("freight", description=payload) for payload in long]
    document = make_document(actor, lines=lines, finalise=True, notes="\n".join(long))
    Company.objects.filter(pk=company.pk).update(
        legal_name=long[0],
        vat_number=short,
        address_line1=long[1],
        address_line2=long[2],
        city=long[3],
        postcode=short[:20],
        bank_account_name=long[4][:100],
        bank_name=long[5][:100],
        bank_sort_code=short[:8],
        bank_account_number=short[:8],
        bank_iban=short,
        bank_bic=short[:11],
        payment_terms=long[6][:300],
    )
    Partner.objects.filter(pk=document.partner_id).update(
        name=long[0],
        number=short,
        vat_number=short,
        address_line1=long[4],
        address_line2=long[5],
        city=long[6],
        postcode=short[:20],
    )
    Document.objects.filter(pk=document.pk).update(
        number=short,
        reference=long[0][:100],
        order_reference=short,
        trip_reference=short,
        currency="EUR",
        exchange_rate=Decimal("1.165"),
        exchange_rate_source=long[7][:100],
    )
    TaxRate.objects.filter(company=company).update(name=long[1][:100])
    return Document.objects.select_related("company", "partner").get(pk=document.pk)


def test_a_pdf_whose_every_field_holds_css_and_url_payloads_fetches_nothing(catcher, secret_file):
    document = _poison_everything(catcher.server_address[1], secret_file)
    assert DocumentLine.objects.filter(document=document).count() == 8

    with watching() as watch:
        pdf = render_document_pdf_bytes(document)

    assert pdf.startswith(b"%PDF-")
    assert catcher.connections == 0
    assert watch.network() == []
    assert watch.opened(secret_file) == []
    # The payloads are printed as text, in the HTML, where they are harmless.
    html = render_document_html(document)
    assert "css-ssrf" in html.split("</style>", 1)[1]
    assert "css-ssrf" not in html.split("</style>", 1)[0]


def test_the_footer_prints_the_company_name_and_vat_number_as_typed():
    company = make_company("Pennine & Co <Haulage>", vat_number="GB 123 & 456")
    document = make_document(make_actor(company), finalise=True)

    footer = _margin_text(render_document_html(document), "@bottom-center")

    assert footer == "Pennine & Co <Haulage> · VAT GB 123 & 456 · Page 1 of 1"


def _margin_text(html: str, at_keyword: str) -> str:
    from weasyprint.formatting_structure import boxes

    page = weasyprint_html(html).render().pages[0]._page_box

    def texts(box) -> Iterator[str]:
        if isinstance(box, boxes.TextBox):
            yield box.text
        for child in getattr(box, "children", ()):
            yield from texts(child)

    return "".join(
        text
        for margin in page.children
        if isinstance(margin, boxes.MarginBox) and margin.at_keyword == at_keyword
        for text in texts(margin)
    )


# -- the fetcher itself --------------------------------------------------------------


def _refusals(caplog) -> list[dict]:
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "pdf.fetch_refused"
    ]


def test_the_fetcher_refuses_http_file_and_other_schemes_and_logs_scheme_and_host_only(
    catcher, secret_file, caplog
):
    caplog.set_level(logging.WARNING)
    port = catcher.server_address[1]
    html = f"""<html><head>
      <link rel="stylesheet" href="http://127.0.0.1:{port}/link.css?token=s3cret">
      <style>
        @import url(https://127.0.0.1:{port}/import.css);
        @font-face {{ font-family: x; src: url(ftp://127.0.0.1:{port}/font.ttf); }}
        body {{ background: url(file://{secret_file}); }}
        h1 {{ background: url(//127.0.0.1:{port}/relative-scheme); }}
        p {{ background: url(relative/path.png); }}
      </style></head><body>
      <h1>x</h1><p>y</p>
      <img src="http://127.0.0.1:{port}/img.png">
      <img src="file://{secret_file}">
      <object data="http://127.0.0.1:{port}/object"></object>
    </body></html>"""

    with watching() as watch:
        pdf = weasyprint_html(html, document_id=42).write_pdf()

    assert pdf.startswith(b"%PDF-")
    assert catcher.connections == 0
    assert watch.network() == []
    assert watch.opened(secret_file) == []
    refused = _refusals(caplog)
    assert {(r["scheme"], r["host"]) for r in refused} >= {
        ("http", "127.0.0.1"),
        ("https", "127.0.0.1"),
        ("ftp", "127.0.0.1"),
        ("file", ""),
        ("https", "ledgerbridge.invalid"),
    }
    assert all(r["document_id"] == 42 for r in refused)
    logged = repr(refused)
    assert "s3cret" not in logged and "secret.png" not in logged and "img.png" not in logged


def test_the_fetcher_serves_the_products_static_files_from_disk_and_data_urls():
    from django.contrib.staticfiles import finders

    from ledgerbridge.invoicing.pdf_fetcher import PDF_BASE_URL, PdfUrlFetcher

    fetcher = PdfUrlFetcher()
    with watching() as watch:
        css = fetcher.fetch(f"{PDF_BASE_URL}static/web/app.css")
        data = fetcher.fetch("data:text/plain;base64,aGk=")
    assert css.read() == Path(finders.find("web/app.css")).read_bytes()
    assert css.content_type == "text/css"
    assert data.read() == b"hi"
    assert watch.network() == []
    for outside in (
        f"{PDF_BASE_URL}static/../../../../etc/passwd",
        f"{PDF_BASE_URL}static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{PDF_BASE_URL}media/logo.png",
        "https://example.com/static/web/app.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(outside)


def test_the_company_logo_stored_in_the_database_is_drawn_on_the_pdf():
    picture = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 80, 160)).save(picture, format="PNG")
    company = make_company(logo=picture.getvalue(), logo_content_type="image/png")
    document = make_document(make_actor(company), finalise=True)

    page = weasyprint_html(render_document_html(document)).render().pages[0]._page_box

    def images(box) -> Iterator:
        from weasyprint.formatting_structure import boxes

        if isinstance(box, boxes.InlineReplacedBox):
            yield box.replacement
        for child in getattr(box, "children", ()):
            yield from images(child)

    drawn = list(images(page))
    assert len(drawn) == 1
    assert (drawn[0].width, drawn[0].height) == (40, 20)
    assert b"/Subtype /Image" in render_document_pdf_bytes(document)
