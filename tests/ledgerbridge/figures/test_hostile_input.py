"""No input, however hostile, takes a company's pages down.

Hypothesis writes documents and partners through the REST API and the web forms
with hostile values: huge, tiny and negative figures, ``NaN`` and infinities,
exponents, 1,000 lines, unicode and HTML in every text field. A write may be
refused (4xx, or the form shown again with errors) but never answer 5xx; after
each accepted write a crawler opens every GET page, PDF and API read the
company's users can reach that shows what was written (routes from the URL
conf and the OpenAPI schema, filled with the company's real ids), and once more
at the end every GET route with every id, and asserts none answers 5xx.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerbridge.companies.models import Role
from ledgerbridge.invoicing.models import ChargeType, Document, DocumentType
from ledgerbridge.invoicing.starter import DEFAULT_CODING
from tests.ledgerbridge.factories import PASSWORD, make_document, make_user, system_actor
from tests.ledgerbridge.security.routes import (
    Route,
    Tenant,
    api_routes,
    api_token_for,
    fill,
    review_task_type_register,
    review_task_type_unregister,
    tenant,
    web_routes,
)

pytestmark = pytest.mark.django_db

# Per kind of write: six kinds, so 60 writes in all.
MAX_EXAMPLES = 10

# -- hostile values ----------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "99999999999999999999",
    "-99999999999999999999",
    "1e400",
    "-1e400",
    "1E-30",
    "1e20",
    "9999999999.99995",
    "99999999.99999",
    "0.00001",
    "-0",
    "0",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1,5",
    "1,000.50",
    "£100",
    "1_000",
    "0x10",
    " 12 ",
    "",
    "١٢",
    "1e",
    "--1",
]
HOSTILE_TEXTS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<b>bold</b> &amp; &lt;",
    "{{ request }} {% debug %}",
    "Ünïcødé 🚚 דוגמה 中文 \u202eRTL",
    "line\nbreak\r\n\ttab",
    "'; DROP TABLE invoicing_document; --",
    "x" * 700,
    " ",
    "",
]


def figures() -> st.SearchStrategy[Any]:
    wide = st.decimals(allow_nan=False, allow_infinity=False).map(str)
    return st.one_of(
        st.sampled_from(HOSTILE_NUMBERS),
        wide,
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=True, allow_infinity=True),
    )


def texts() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXTS), st.text(max_size=40))


def plausible(low: str, high: str) -> st.SearchStrategy[str]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2).map(str)


SALES_TAX = ["S20", "Z0S", "EXS", "NOVAT"]
PURCHASE_TAX = ["S20P", "R5P", "Z0P", "EXP", "NOVAT"]
NUMBER_FIELDS = ("quantity", "unit_price", "discount_percent")
LINE_FIELDS = (*NUMBER_FIELDS, "description", "charge_type", "nominal_code", "tax_rate")


@st.composite
def lines(draw: st.DrawFn, sales: bool, hostile_numbers: bool) -> dict[str, Any]:
    """A plausible line with up to two of its fields hostile (only its text unless
    ``hostile_numbers``), so that many writes are accepted, and crawled, while every
    field meets hostile values."""
    charge = draw(st.sampled_from(ChargeType.values))
    line: dict[str, Any] = {
        "description": "Freight Leeds - Hull",
        "charge_type": charge,
        "quantity": draw(plausible("0.01", "500")),
        "unit_price": draw(plausible("0", "10000")),
        "discount_percent": "0",
        "nominal_code": DEFAULT_CODING[charge][0 if sales else 1],
        "tax_rate": draw(st.sampled_from(SALES_TAX if sales else PURCHASE_TAX)),
    }
    fields = LINE_FIELDS if hostile_numbers else ("description",)
    for name in draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)):
        if name in NUMBER_FIELDS:
            line[name] = draw(figures())
        elif name == "nominal_code":
            line[name] = draw(st.sampled_from(["999", "<b>", "", "200 "]))
        elif name == "tax_rate":
            line[name] = draw(st.sampled_from(["S20", "S20P", "", "<i>x</i>"]))
        else:
            line[name] = draw(texts())
    return line


@st.composite
def document_bodies(draw: st.DrawFn) -> dict[str, Any]:
    doc_type = draw(st.sampled_from(DocumentType.values))
    sales = doc_type.startswith("sales")
    count = draw(st.sampled_from([1, 1, 1, 2, 3, 3, 1000]))
    line = lines(sales, hostile_numbers=draw(st.booleans()))
    # A thousand lines: one hostile line repeated (drawing each would be slow).
    rows = [draw(line)] * count if count == 1000 else [draw(line) for _ in range(count)]
    body: dict[str, Any] = {
        "type": doc_type,
        "partner": "customer" if sales else "supplier",
        "issue_date": "2026-11-02",
        "currency": None,
        "exchange_rate": None,
        "exchange_rate_source": "",
        "reference": "Hostile test",
        "order_reference": "ORD-1",
        "trip_reference": "DOM-2611-1",
        "supplier_reference": "SUP-1",
        "notes": "",
        "lines": rows,
    }
    # Text fields take hostile text half the time; the others one to three at a time.
    for name in (
        "reference",
        "order_reference",
        "trip_reference",
        "supplier_reference",
        "notes",
        "exchange_rate_source",
    ):
        if draw(st.booleans()):
            body[name] = draw(texts())
    for name in draw(
        st.lists(
            st.sampled_from(["partner", "issue_date", "currency", "exchange_rate"]),
            max_size=2,
            unique=True,
        )
    ):
        body[name] = draw(
            {
                "partner": st.sampled_from(["customer", "supplier", "missing"]),
                "issue_date": st.one_of(
                    st.dates().map(str), st.sampled_from(["", "2026-13-45", "9999-12-31"])
                ),
                "currency": st.sampled_from(["EUR", "<b>", "€€€", "gbp", ""]),
                "exchange_rate": figures(),
            }[name]
        )
    return body


@st.composite
def partner_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible partner with hostile text, and now and then a hostile code or number."""
    body: dict[str, Any] = {
        "kind": draw(st.sampled_from(["customer", "supplier"])),
        "number": f"H{draw(st.integers(min_value=0, max_value=10**9))}",
        "name": "Hostile Customer Ltd",
        "country": "GB",
        "currency": "GBP",
        "payment_terms_days": 30,
    }
    for name in ("name", "vat_number", "address_line1", "address_line2", "city", "postcode"):
        if draw(st.booleans()):
            body[name] = draw(texts())
    for name in draw(
        st.lists(
            st.sampled_from(
                ["kind", "number", "email", "country", "currency", "payment_terms_days"]
            ),
            max_size=2,
            unique=True,
        )
    ):
        body[name] = draw(
            {
                "kind": st.sampled_from(["<b>", "", "CUSTOMER"]),
                "number": st.one_of(
                    st.text(min_size=1, max_size=12), st.sampled_from(HOSTILE_TEXTS)
                ),
                "email": st.one_of(st.just("ap@example.com"), texts()),
                "country": st.sampled_from(["FR", "<b>", "", "gb", "ÜÜ"]),
                "currency": st.sampled_from(["EUR", "<b>", "", "€€€"]),
                "payment_terms_days": st.one_of(
                    st.integers(min_value=-(10**20), max_value=10**20),
                    st.sampled_from(HOSTILE_NUMBERS),
                ),
            }[name]
        )
    return body


SHOWS_DOCUMENTS = ("/invoices/", "/partners/", "/api/documents", "/api/partners", "/api/exports")
WRITES = ["api_create", "api_update", "form_create", "form_edit", "api_partner", "form_partner"]


@st.composite
def writes(draw: st.DrawFn, kind: str) -> tuple[dict[str, Any], bool]:
    body = draw(partner_bodies() if kind.endswith("partner") else document_bodies())
    return body, draw(st.booleans())


# -- the company, its users, and the crawl -----------------------------------------------


@dataclass
class Crawl:
    world: Tenant
    web: Client
    api: Client
    examples: int = 0
    accepted: int = 0
    pages: int = 0
    answered_200: int = 0
    seen: set[str] = field(default_factory=set)
    outcomes: dict[str, int] = field(default_factory=dict)

    def get(self, url: str) -> None:
        client = self.api if url.startswith("/api/") else self.web
        try:
            response = client.get(url)
        except Exception as error:  # the test client re-raises a view's exception
            raise AssertionError(f"GET {url} raised {error!r}") from error
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        self.pages += 1
        self.answered_200 += response.status_code == 200
        self.seen.add(url)

    def routes(self, only: set[str] | None = None) -> list[Route]:
        """GET routes; with ``only``, those that show documents and partners: with ids
        of these kinds, or without ids in the invoices and partners sections."""
        found = []
        for route in web_routes() + api_routes():
            if route.name in ("login", "logout") or "get" not in route.methods:
                continue
            if only is not None:
                kinds = set(route.kinds().values())
                if not (kinds & only and kinds <= only) and not (
                    not kinds and route.path.startswith(SHOWS_DOCUMENTS)
                ):
                    continue
            found.append(route)
        return found

    def crawl(self, ids: dict[str, list[int]], only: set[str] | None = None) -> None:
        for route in self.routes(only):
            for url in fill(route, ids):
                self.get(url)


def _partner_id(world: Tenant, which: str) -> int:
    if which == "missing":
        return 987654321
    kind = "customer" if which == "customer" else "supplier"
    return world.company.partners.filter(kind=kind).order_by("pk").first().pk  # type: ignore[union-attr]


def _api_body(world: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in body.items() if k != "partner"}
    data["partner_id"] = _partner_id(world, body["partner"])
    return data


def _form_data(world: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "partner_id": str(_partner_id(world, body["partner"])),
        "issue_date": body["issue_date"],
        "due_date": "",
        "currency": body["currency"] or "",
        "exchange_rate": "" if body["exchange_rate"] is None else str(body["exchange_rate"]),
        "exchange_rate_source": body["exchange_rate_source"],
        **{k: body[k] for k in ("reference", "order_reference", "trip_reference", "notes")},
        "supplier_reference": body["supplier_reference"],
    }
    for name in (
        "description",
        "charge_type",
        "quantity",
        "unit_price",
        "discount_percent",
        "nominal_code",
        "tax_rate",
    ):
        data[f"line_{name}"] = [str(line[name]) for line in body["lines"]]
    data["line_credited_line_id"] = ["" for _ in body["lines"]]
    return data


def _send(client: Client, method: str, url: str, body: Any = None, *, form: bool = False) -> Any:
    try:
        if form:
            return client.post(url, body)
        return client.generic(
            method, url, json.dumps(body, default=str), content_type="application/json"
        )
    except Exception as error:
        raise AssertionError(f"{method} {url} raised {error!r}") from error


def _write(crawl: Crawl, kind: str, body: dict[str, Any]) -> tuple[str, int] | None:
    """Send one write; the written object's kind and id when it was accepted."""
    world = crawl.world
    draft = Document.objects.filter(company=world.company, status="draft").order_by("-pk").first()
    if draft is None and kind in ("api_update", "form_edit"):
        draft = make_document(system_actor(world.company))  # the last one was finalised
    if kind == "api_create":
        response = _send(crawl.api, "POST", "/api/documents", _api_body(world, body))
    elif kind == "api_update":
        assert draft is not None
        response = _send(crawl.api, "PUT", f"/api/documents/{draft.pk}", _api_body(world, body))
    elif kind == "form_create":
        response = _send(
            crawl.web,
            "POST",
            f"/invoices/new?type={body['type']}",
            _form_data(world, body),
            form=True,
        )
    elif kind == "form_edit":
        assert draft is not None
        response = _send(
            crawl.web, "POST", f"/invoices/{draft.pk}/edit", _form_data(world, body), form=True
        )
    elif kind == "api_partner":
        response = _send(crawl.api, "POST", "/api/partners", body)
    elif kind == "form_partner":
        response = _send(crawl.web, "POST", "/partners/new", body, form=True)
    else:
        return None
    what = f"{kind} -> {response.status_code}"
    status = str(response.status_code)
    crawl.outcomes[status] = crawl.outcomes.get(status, 0) + 1
    assert response.status_code < 500, what
    if kind.endswith("partner"):
        if response.status_code == 201:
            return "partner", response.json()["id"]
        if response.status_code == 302:
            partner = world.company.partners.order_by("-pk").first()
            return "partner", partner.pk  # type: ignore[union-attr]
        return None
    if kind.startswith("api"):
        return ("document", response.json()["id"]) if response.status_code in (200, 201) else None
    if response.status_code == 302:
        match = re.match(r"^/invoices/(\d+)/$", response["Location"])
        assert match, f"{what}: redirected to {response['Location']}"
        return "document", int(match.group(1))
    return None


@pytest.fixture
def crawl(db) -> Any:
    review_task_type_register()
    world = tenant("Hostile Haulage Ltd")
    web = Client()
    user = make_user(world.company, Role.SUPER_ADMIN)
    assert web.login(username=user.username, password=PASSWORD)
    api = Client(
        headers={"authorization": f"Bearer {api_token_for(world.company, Role.SUPER_ADMIN)}"}
    )
    yield Crawl(world=world, web=web, api=api)
    review_task_type_unregister()


@pytest.mark.parametrize("kind", WRITES)
def test_hostile_writes_never_take_a_page_down(kind, crawl, record_property):
    world = crawl.world

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(write=writes(kind))
    def one_write(write: tuple[dict[str, Any], bool]) -> None:
        body, finalise = write
        crawl.examples += 1
        written = _write(crawl, kind, body)
        if written is None:
            return
        crawl.accepted += 1
        what, pk = written
        ids = dict(world.ids)
        ids[what] = [pk]
        if what == "document":
            if finalise:
                response = _send(crawl.api, "POST", f"/api/documents/{pk}/finalise", {})
                assert response.status_code < 500, f"finalise -> {response.status_code}"
            document = Document.objects.get(pk=pk)
            ids["partner"] = [document.partner_id]
        crawl.crawl(ids, only={"document", "partner"})

    try:
        one_write()
        # Everything written is in the company now: every GET route with every id.
        ids = dict(world.ids)
        ids["document"] = list(world.company.documents.values_list("pk", flat=True))
        ids["partner"] = list(world.company.partners.values_list("pk", flat=True))
        crawl.crawl(ids)
    finally:
        record_property(
            "summary",
            f"{crawl.examples} hostile writes ({crawl.accepted} accepted; answers "
            f"{', '.join(f'{k}: {v}' for k, v in sorted(crawl.outcomes.items()))}), "
            f"{crawl.pages} GETs of {len(crawl.seen)} distinct pages, PDFs and API reads "
            f"({crawl.answered_200} answered 200), none 5xx [{connection.vendor}]",
        )
