"""Every web route and API operation, found from Django's URL resolver and the OpenAPI schema.

The security suites walk these lists, so a route added later is covered without
anyone remembering to: a route whose path parameter this module cannot fill
with an id makes ``fill`` raise, which fails the suites until the parameter's
kind is added to ``SEGMENT_KINDS``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from ledgerbridge.accounting.exports import ExportFilters, export_batch_create
from ledgerbridge.accounting.models import (
    ContactMatchMethod,
    GoLive,
    GoLiveContact,
    GoLiveState,
    ReconcileOutcome,
    ReconcileRunStatus,
    ReconciliationRow,
    ReconciliationRun,
)
from ledgerbridge.api.api import api
from ledgerbridge.companies.models import Company, Role
from ledgerbridge.companies.services import api_token_create
from ledgerbridge.invoicing.models import (
    Dimension,
    Document,
    DocumentType,
    NominalCode,
    NumberSeries,
    Task,
    TaxRate,
)
from ledgerbridge.invoicing.workflow import TaskType, task_type_register, task_type_unregister
from tests.ledgerbridge.factories import (
    make_actor,
    make_company,
    make_document,
    make_final_document,
    make_partner,
)

# The path segment before an id names what the id is.
SEGMENT_KINDS = {
    "invoices": "document",
    "documents": "document",
    "partners": "partner",
    "tasks": "task",
    "exports": "export_batch",
    "nominal-codes": "nominal_code",
    "tax-rates": "tax_rate",
    "number-series": "number_series",
    "dimensions": "dimension",
    "values": "dimension_value",
    "rules": "dimension_rule",
    "api-tokens": "api_token",
    "runs": "reconciliation_run",
    "rows": "reconciliation_row",
}
# Routes that are not a company's: the signed Xero webhook (no session, no token).
NOT_A_COMPANY_ROUTE = {"xero_webhook"}
MISSING_ID = 987654321
PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


class UnfillableRoute(AssertionError):
    pass


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # with <int:pk> (web) or {document_id} (API) placeholders
    methods: tuple[str, ...]
    api_operation: dict[str, Any] | None = None

    @property
    def params(self) -> list[str]:
        return [a or b for a, b in PARAM.findall(self.path)]

    def kinds(self) -> dict[str, str]:
        """Each path parameter's kind, from the segment before it."""
        kinds = {}
        segments = self.path.strip("/").split("/")
        for i, segment in enumerate(segments):
            match = PARAM.fullmatch(segment)
            if not match:
                continue
            before = segments[i - 1] if i else ""
            kind = SEGMENT_KINDS.get(before)
            if kind is None:
                raise UnfillableRoute(
                    f"{self.path}: no way to fill {segment} with an id; add the segment "
                    f"{before!r} to SEGMENT_KINDS in {__name__}"
                )
            kinds[match.group(1) or match.group(2)] = kind
        return kinds


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "api":
                continue  # the API is enumerated from its OpenAPI schema
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def web_routes() -> list[Route]:
    return [
        Route(name=pattern.name or path, path="/" + path, methods=("get", "post"))
        for path, pattern in _walk(get_resolver().url_patterns)
        if pattern.name not in NOT_A_COMPANY_ROUTE
    ]


def openapi() -> dict[str, Any]:
    return api.get_openapi_schema(path_prefix="/api/")


def api_routes() -> list[Route]:
    routes = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            routes.append(
                Route(
                    name=operation["operationId"],
                    path=path,
                    methods=(method,),
                    api_operation=operation,
                )
            )
    return routes


def fill(route: Route, ids: dict[str, list[int]]) -> list[str]:
    """The route's URL for every combination of the given ids of its parameters' kinds."""
    kinds = route.kinds()
    names = route.params
    urls = []
    for combination in itertools.product(*(ids[kinds[name]] for name in names)):
        values = dict(zip(names, combination, strict=True))
        urls.append(PARAM.sub(lambda m, v=values: str(v[m.group(1) or m.group(2)]), route.path))
    return urls


def html_pages(user: Any, ids: dict[str, list[int]]) -> list[tuple[str, str]]:
    """Every GET of a web route that answers ``user`` with an HTML page, with its markup.

    One id of each kind, but every document (a draft, a final invoice and a bill have
    different pages)."""
    client = Client()
    client.force_login(user)
    one_each = {kind: values[:1] for kind, values in ids.items()}
    one_each["document"] = ids["document"]
    pages = []
    for route in web_routes():
        for url in fill(route, one_each):
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                pages.append((url, response.content.decode()))
    return pages


# -- request bodies and queries from the schema -------------------------------------------


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


ID_FIELD_KINDS = {
    "document": "document",
    "partner": "partner",
    "task": "task",
    "batch": "export_batch",
    "company": "company",
}


def id_kind(field: str) -> str | None:
    stem = field.removesuffix("_ids").removesuffix("_id")
    if stem == field:
        return None
    return ID_FIELD_KINDS.get(stem)


def example(
    schema: dict[str, Any], spec: dict[str, Any], ids: dict[str, list[int]], name: str = ""
) -> Any:
    """A value valid by ``schema``, with any ``*_id(s)`` field set to the given ids."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if _resolve(s, spec).get("type") != "null"]
        return example(options[0], spec, ids, name) if options else None
    kind = id_kind(name)
    if kind and kind in ids:
        return ids[kind] if schema.get("type") == "array" else ids[kind][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind_of = schema.get("type")
    if kind_of == "object" or "properties" in schema:
        return {
            prop: example(sub, spec, ids, prop)
            for prop, sub in schema.get("properties", {}).items()
            if prop in schema.get("required", []) or id_kind(prop)
        }
    if kind_of == "array":
        return [example(schema.get("items", {}), spec, ids, name)]
    if kind_of == "integer":
        return 1
    if kind_of == "number":
        return 1
    if kind_of == "boolean":
        return True
    if schema.get("format") == "date":
        return "2026-11-02"
    if schema.get("format") == "date-time":
        return "2026-11-02T10:00:00Z"
    return "x"


def api_request(
    route: Route, ids: dict[str, list[int]], spec: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """Query parameters and JSON body for an operation, ids of ``ids`` where they fit."""
    operation = route.api_operation or {}
    query = {
        p["name"]: example(p.get("schema", {}), spec, ids, p["name"])
        for p in operation.get("parameters", [])
        if p["in"] == "query" and (p.get("required") or id_kind(p["name"]))
    }
    content = operation.get("requestBody", {}).get("content", {})
    body = None
    if "application/json" in content:
        body = example(content["application/json"]["schema"], spec, ids)
    return query, body


# -- another company's world, and how to tell it did not change ----------------------------

MARKERS = ("Zebra Secret Logistics", "ZSL-ORDER-7731", "ZSX-", "zebra script")


@dataclass
class Tenant:
    company: Company
    ids: dict[str, list[int]]
    markers: tuple[str, ...] = ()


def review_task_type_register() -> None:
    """A manual task on every finalised document, so tasks have ids to try."""
    task_type_register(
        TaskType(
            key="security-review",
            label="Review",
            applies=lambda document: True,
            mode_for=lambda document: "manual",
            on_complete=lambda task, actor, now: None,
        )
    )


def review_task_type_unregister() -> None:
    task_type_unregister("security-review")


def tenant(legal_name: str, *, secret: bool = False) -> Tenant:
    """A company with one of everything that has an id in a URL."""
    company = make_company(legal_name)
    actor = make_actor(company, Role.SUPER_ADMIN)
    if secret:
        NumberSeries.objects.filter(company=company).update(prefix="ZSX-")
    partner = make_partner(company, **({"name": "Zebra Secret Logistics"} if secret else {}))
    reference = "ZSL-ORDER-7731" if secret else "ORD-1"
    draft = make_document(actor, partner=partner, order_reference=reference)
    # Stand-in PDFs: no test of these pages is about the PDF's content (rendering is
    # tested with the documents and in test_pdf_fetching), and rendering two per tenant
    # was most of each transactional test's setup (every fuzzed API operation's).
    final = make_final_document(actor, partner=partner, order_reference=reference)
    bill = make_final_document(actor, DocumentType.PURCHASE_INVOICE)
    batch = export_batch_create(actor=actor, filters=ExportFilters()).batch
    token, _ = api_token_create(actor=actor, name="zebra script" if secret else "script")
    dimension = Dimension.objects.filter(company=company).first()
    assert dimension is not None
    run, row = _reconciliation(company, final)
    _going_live(company, partner.pk, partner.name)
    ids = {
        "company": [company.pk],
        "document": [draft.pk, final.pk, bill.pk],
        "partner": [partner.pk, bill.partner_id],
        "task": list(Task.objects.filter(document__company=company).values_list("pk", flat=True)),
        "export_batch": [batch.pk],
        "nominal_code": [NominalCode.objects.filter(company=company).first().pk],  # type: ignore[union-attr]
        "tax_rate": [TaxRate.objects.filter(company=company).first().pk],  # type: ignore[union-attr]
        "number_series": [NumberSeries.objects.filter(company=company).first().pk],  # type: ignore[union-attr]
        "dimension": [dimension.pk],
        "dimension_value": [dimension.values.first().pk],  # type: ignore[union-attr]
        "dimension_rule": [dimension.rules.first().pk],  # type: ignore[union-attr]
        "api_token": [token.pk],
        "reconciliation_run": [run.pk],
        "reconciliation_row": [row.pk],
    }
    assert all(ids.values()), ids
    return Tenant(company=company, ids=ids, markers=MARKERS if secret else ())


def _reconciliation(
    company: Company, document: Document
) -> tuple[ReconciliationRun, ReconciliationRow]:
    """A done reconciliation with one row that differs (nothing read from a package)."""
    now = timezone.now()
    run = ReconciliationRun.objects.create(
        company=company,
        period_from=document.issue_date,
        period_to=document.issue_date,
        status=ReconcileRunStatus.DONE,
        started_at=now,
        finished_at=now,
        counts={"differs": 1},
    )
    row = ReconciliationRow.objects.create(
        run=run,
        company=company,
        outcome=ReconcileOutcome.DIFFERS,
        document=document,
        type=document.type,
        number=document.number,
        contact_name=document.partner.name,
        currency=document.currency,
        ours={"reference": document.order_reference},
        theirs={"reference": "changed"},
        differences=["reference changed"],
    )
    return run, row


def _going_live(company: Company, partner_id: int, name: str) -> None:
    """Going live, waiting for a contact to be chosen for a partner (nothing read from a
    package): the go-live API's partner ids are tried across companies."""
    GoLive.objects.create(
        company=company, state=GoLiveState.AWAITING, started_at=timezone.now(), counts={}
    )
    GoLiveContact.objects.create(
        company=company,
        partner_id=partner_id,
        method=ContactMatchMethod.AMBIGUOUS,
        candidates=[
            {"external_id": f"c-{partner_id}-{i}", "name": name, "why": "same name"}
            for i in range(2)
        ],
    )


def _company_path(model: type[models.Model], depth: int = 0) -> str | None:
    if model is Company:
        return "pk"
    if depth > 2:
        return None
    for field in model._meta.get_fields():
        if isinstance(field, models.ForeignKey) and field.name == "company":
            return "company"
    for field in model._meta.get_fields():
        if isinstance(field, models.ForeignKey) and not field.null:
            inner = _company_path(field.related_model, depth + 1)  # type: ignore[arg-type]
            if inner is not None:
                return f"{field.name}__{inner}".removesuffix("__pk")
    return None


# Touched by reading, not by changing anything: a token's last use, and the PDF
# rendered on first download (a cache of the final document).
VOLATILE_FIELDS = {"last_used_at"}
CACHES = {"invoicing.DocumentPdf"}


def snapshot(company: Company) -> dict[str, list[dict[str, Any]]]:
    """Every row of every LedgerBridge model that belongs to ``company``."""
    rows = {}
    for model in apps.get_models():
        if not model.__module__.startswith("ledgerbridge."):
            continue
        path = _company_path(model)
        if path is None or model._meta.label in CACHES:
            continue
        fields = [
            f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS
        ]
        rows[model._meta.label] = [
            {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
            for row in model.objects.filter(**{path: company.pk}).order_by("pk").values(*fields)
        ]
    return rows


def api_token_for(company: Company, role: str) -> str:
    admin = make_actor(company, Role.SUPER_ADMIN)
    _, raw = api_token_create(actor=admin, name=f"security {role}", role=role)
    return raw
