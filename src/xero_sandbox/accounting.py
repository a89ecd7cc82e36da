"""The Accounting API under ``/api.xro/2.0``: routes and their request handling."""

from __future__ import annotations

import json
import mimetypes
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote

from starlette.responses import Response
from starlette.routing import Route

from . import documents as d
from .api import Ctx, api, read_items
from .dates import ms_date, parse_timestamp
from .query import BadQuery, apply_order, paginate, parse_where
from .responses import (
    CORRELATION_SCOPE_KEY,
    envelope,
    json_response,
    not_found,
    single_validation_error,
    validation_exception,
)
from .seed import ACCOUNT_TYPES, account_doc, tax_rate_doc, tracking_category_doc
from .store import Json

PREFIX = "/api.xro/2.0"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_ACTIVE_TRACKING = 2


# -- helpers -------------------------------------------------------------------------
async def _json_body(ctx: Ctx) -> tuple[Any, Response | None]:
    raw = await ctx.request.body()
    if not raw.strip():
        return None, single_validation_error("The request body is empty.")
    try:
        return json.loads(raw), None
    except ValueError:
        return None, single_validation_error("The request body is not valid JSON.")


def _list(
    ctx: Ctx,
    kind: str,
    *,
    extra_filter: Callable[[Json], bool] | None = None,
    default_order: str | None = None,
) -> tuple[list[Json], Json | None, Response | None]:
    """Apply If-Modified-Since, where, order and page to a kind's documents."""
    since_header = ctx.request.headers.get("if-modified-since")
    since = parse_timestamp(since_header) if since_header else None
    docs = ctx.sb.store.list_docs(ctx.tenant_id, kind, modified_after=since)
    try:
        predicate = parse_where(ctx.query("where"))
    except BadQuery as exc:
        return [], None, single_validation_error(f"The where clause could not be read: {exc}")
    if extra_filter is not None:
        docs = [doc for doc in docs if extra_filter(doc)]
    if predicate is not None:
        docs = [doc for doc in docs if predicate(doc)]
    docs = apply_order(docs, ctx.query("order") or default_order)
    pagination = None
    page_raw = ctx.query("page")
    if page_raw is not None:
        try:
            page = max(1, int(page_raw))
            size = min(MAX_PAGE_SIZE, max(1, int(ctx.query("pageSize") or DEFAULT_PAGE_SIZE)))
        except ValueError:
            return [], None, single_validation_error("page and pageSize must be whole numbers.")
        docs, pagination = paginate(docs, page, size)
    return docs, pagination, None


def _csv(ctx: Ctx, name: str) -> list[str]:
    value = ctx.query(name)
    if not value:
        return []
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _ok(ctx: Ctx, key: str, items: list[Json], pagination: Json | None = None) -> Response:
    extra = {"pagination": pagination} if pagination else None
    return json_response(
        envelope(
            key,
            items,
            now=ctx.now,
            provider=ctx.provider,
            extra=extra,
            id_=ctx.request.scope.get(CORRELATION_SCOPE_KEY),
        )
    )


def _summarize(ctx: Ctx) -> bool:
    return ctx.query_flag("summarizeErrors", default=True)


# -- Organisation ----------------------------------------------------------------------
@api("settings")
async def get_organisation(ctx: Ctx) -> Response:
    return _ok(ctx, "Organisations", [d.public(ctx.org)])


CURRENCY_NAMES = {
    "GBP": "British Pound",
    "EUR": "Euro",
    "USD": "United States Dollar",
    "NZD": "New Zealand Dollar",
    "AUD": "Australian Dollar",
}


@api("settings")
async def get_currencies(ctx: Ctx) -> Response:
    codes = ctx.org.get("_currencies") or [ctx.org.get("BaseCurrency", "GBP")]
    return _ok(
        ctx,
        "Currencies",
        [{"Code": code, "Description": CURRENCY_NAMES.get(code, code)} for code in codes],
    )


# -- Accounts ----------------------------------------------------------------------------
@api("settings")
async def get_accounts(ctx: Ctx) -> Response:
    docs, _, error = _list(ctx, "account")
    if error:
        return error
    return _ok(ctx, "Accounts", docs)


@api("settings")
async def get_account(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "account", ctx.request.path_params["id"])
    return _ok(ctx, "Accounts", [doc]) if doc else not_found()


def _account_errors(ctx: Ctx, item: Json, existing: Json | None) -> list[str]:
    errors = []
    accounts = ctx.sb.store.list_docs(ctx.tenant_id, "account")
    others = [a for a in accounts if existing is None or a["AccountID"] != existing["AccountID"]]
    code = item.get("Code", existing.get("Code") if existing else None)
    name = item.get("Name", existing.get("Name") if existing else None)
    if not code:
        errors.append("Please enter a Code.")
    elif any(str(a.get("Code")).upper() == str(code).upper() for a in others):
        errors.append("Please enter a unique Code.")
    if not name:
        errors.append("Please enter a Name.")
    elif any(str(a.get("Name")).lower() == str(name).lower() for a in others):
        errors.append("Please enter a unique Name.")
    type_ = item.get("Type", existing.get("Type") if existing else None)
    if type_ not in ACCOUNT_TYPES:
        errors.append(f"Account Type '{type_}' is not valid.")
    tax_type = item.get("TaxType")
    if tax_type and str(tax_type).upper() not in d.tax_rates(ctx.sb, ctx.tenant_id):
        errors.append(f"The TaxType code '{tax_type}' does not exist.")
    status = item.get("Status")
    if status is not None and status not in {"ACTIVE", "ARCHIVED"}:
        errors.append(f"Account status '{status}' is not valid.")
    return errors


@api("settings", write=True)
async def create_account(ctx: Ctx) -> Response:
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Accounts") or []
    item = items[0] if items else {}
    errors = _account_errors(ctx, item, None)
    if errors:
        return validation_exception(
            [{**item, "ValidationErrors": [{"Message": m} for m in errors]}]
        )
    extra = {k: v for k, v in item.items() if k not in {"Code", "Name", "Type", "TaxType"}}
    doc = account_doc(
        code=str(item["Code"]),
        name=str(item["Name"]),
        type_=str(item["Type"]),
        tax_type=str(item.get("TaxType") or "NONE"),
        now=ctx.now,
        extra=extra,
    )
    ctx.sb.store.put_doc(
        ctx.tenant_id, "account", doc["AccountID"], doc, number=doc["Code"], updated=ctx.now
    )
    return _ok(ctx, "Accounts", [doc])


@api("settings", write=True)
async def update_account(ctx: Ctx) -> Response:
    existing = ctx.sb.store.get_doc(ctx.tenant_id, "account", ctx.request.path_params["id"])
    if existing is None:
        return not_found()
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Accounts") or []
    item = items[0] if items else {}
    errors = _account_errors(ctx, item, existing)
    if errors:
        return validation_exception(
            [{**item, "ValidationErrors": [{"Message": m} for m in errors]}]
        )
    existing.update({k: v for k, v in item.items() if k != "AccountID"})
    existing["UpdatedDateUTC"] = ms_date(ctx.now)
    ctx.sb.store.put_doc(
        ctx.tenant_id,
        "account",
        existing["AccountID"],
        existing,
        number=existing["Code"],
        updated=ctx.now,
    )
    return _ok(ctx, "Accounts", [existing])


# -- TaxRates ------------------------------------------------------------------------------
@api("settings")
async def get_tax_rates(ctx: Ctx) -> Response:
    wanted = (ctx.query("TaxType") or "").upper()
    docs, _, error = _list(
        ctx, "taxrate", extra_filter=(lambda t: t["TaxType"] == wanted) if wanted else None
    )
    if error:
        return error
    return _ok(ctx, "TaxRates", docs)


@api("settings", write=True)
async def create_tax_rates(ctx: Ctx) -> Response:
    payload, error = await _json_body(ctx)
    if error:
        return error
    out: list[Json] = []
    existing = d.tax_rates(ctx.sb, ctx.tenant_id)
    for item in read_items(payload, "TaxRates") or []:
        name = str(item.get("Name") or "").strip()
        if not name:
            return single_validation_error("The tax rate name must be specified.")
        if any(t["Name"].lower() == name.lower() for t in existing.values()):
            return single_validation_error("The tax rate name must be unique.")
        components = item.get("TaxComponents") or []
        rate = sum(float(c.get("Rate") or 0) for c in components if isinstance(c, dict))
        tax_type = f"TAX{len(existing) + len(out) + 1:03d}"
        doc = tax_rate_doc(
            tax_type=tax_type,
            name=name,
            rate=str(rate),
            report=str(item.get("ReportTaxType") or "OUTPUT"),
            revenue=True,
            expenses=True,
        )
        ctx.sb.store.put_doc(
            ctx.tenant_id, "taxrate", tax_type, doc, number=tax_type, updated=ctx.now
        )
        out.append(doc)
    return _ok(ctx, "TaxRates", out)


# -- TrackingCategories ----------------------------------------------------------------------
def _tracking_view(doc: Json, include_archived: bool) -> Json:
    view = dict(doc)
    if not include_archived:
        view["Options"] = [o for o in doc["Options"] if o["Status"] == "ACTIVE"]
    return view


@api("settings")
async def get_tracking_categories(ctx: Ctx) -> Response:
    include_archived = ctx.query_flag("includeArchived")
    docs, _, error = _list(
        ctx,
        "tracking",
        extra_filter=None if include_archived else (lambda c: c["Status"] == "ACTIVE"),
    )
    if error:
        return error
    return _ok(ctx, "TrackingCategories", [_tracking_view(c, include_archived) for c in docs])


@api("settings")
async def get_tracking_category(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "tracking", ctx.request.path_params["id"])
    return _ok(ctx, "TrackingCategories", [_tracking_view(doc, True)]) if doc else not_found()


def _active_categories(ctx: Ctx, excluding: str | None = None) -> list[Json]:
    return [
        c
        for c in ctx.sb.store.list_docs(ctx.tenant_id, "tracking")
        if c["Status"] == "ACTIVE" and c["TrackingCategoryID"] != excluding
    ]


def _save_tracking(ctx: Ctx, doc: Json) -> None:
    ctx.sb.store.put_doc(
        ctx.tenant_id,
        "tracking",
        doc["TrackingCategoryID"],
        doc,
        number=doc["Name"],
        updated=ctx.now,
    )


@api("settings", write=True)
async def create_tracking_category(ctx: Ctx) -> Response:
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "TrackingCategories") or []
    item = items[0] if items else {}
    name = str(item.get("Name") or "").strip()
    if not name:
        return single_validation_error("The tracking category name must be specified.")
    all_categories = ctx.sb.store.list_docs(ctx.tenant_id, "tracking")
    if any(c["Name"].lower() == name.lower() and c["Status"] != "DELETED" for c in all_categories):
        return single_validation_error("The tracking category name must be unique.")
    if len(_active_categories(ctx)) >= MAX_ACTIVE_TRACKING:
        return single_validation_error("You can only have 2 active tracking categories.")
    doc = tracking_category_doc(name, [])
    _save_tracking(ctx, doc)
    return _ok(ctx, "TrackingCategories", [doc])


@api("settings", write=True)
async def update_tracking_category(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "tracking", ctx.request.path_params["id"])
    if doc is None:
        return not_found()
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "TrackingCategories") or []
    item = items[0] if items else {}
    status = item.get("Status")
    reactivating = status == "ACTIVE" and doc["Status"] != "ACTIVE"
    others = _active_categories(ctx, excluding=doc["TrackingCategoryID"])
    if reactivating and len(others) >= MAX_ACTIVE_TRACKING:
        return single_validation_error("You can only have 2 active tracking categories.")
    if status in {"ACTIVE", "ARCHIVED"}:
        doc["Status"] = status
    if item.get("Name"):
        doc["Name"] = str(item["Name"])
    _save_tracking(ctx, doc)
    return _ok(ctx, "TrackingCategories", [doc])


@api("settings", write=True)
async def delete_tracking_category(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "tracking", ctx.request.path_params["id"])
    if doc is None:
        return not_found()
    doc["Status"] = "DELETED"
    _save_tracking(ctx, doc)
    return _ok(ctx, "TrackingCategories", [doc])


@api("settings", write=True)
async def create_tracking_options(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "tracking", ctx.request.path_params["id"])
    if doc is None:
        return not_found()
    payload, error = await _json_body(ctx)
    if error:
        return error
    created = []
    for item in read_items(payload, "Options") or []:
        name = str(item.get("Name") or "").strip()
        if not name:
            return single_validation_error("The tracking option name must be specified.")
        if any(
            o["Name"].lower() == name.lower() and o["Status"] != "DELETED" for o in doc["Options"]
        ):
            return single_validation_error(f"The tracking option '{name}' already exists.")
        option = {
            "TrackingOptionID": str(uuid.uuid4()),
            "Name": name,
            "Status": "ACTIVE",
            "TrackingCategoryID": doc["TrackingCategoryID"],
        }
        doc["Options"].append(option)
        created.append(option)
    _save_tracking(ctx, doc)
    return _ok(ctx, "Options", created)


@api("settings", write=True)
async def update_tracking_option(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "tracking", ctx.request.path_params["id"])
    option_id = ctx.request.path_params["option_id"]
    option = next(
        (o for o in (doc or {}).get("Options", []) if o["TrackingOptionID"] == option_id), None
    )
    if doc is None or option is None:
        return not_found()
    if ctx.request.method == "DELETE":
        option["Status"] = "DELETED"
    else:
        payload, error = await _json_body(ctx)
        if error:
            return error
        items = read_items(payload, "Options") or []
        item = items[0] if items else {}
        if item.get("Name"):
            option["Name"] = str(item["Name"])
        if item.get("Status") in {"ACTIVE", "ARCHIVED"}:
            option["Status"] = item["Status"]
    _save_tracking(ctx, doc)
    return _ok(ctx, "Options", [option])


# -- Contacts -----------------------------------------------------------------------------
@api("contacts")
async def get_contacts(ctx: Ctx) -> Response:
    ids = {i.lower() for i in _csv(ctx, "IDs")}
    include_archived = ctx.query_flag("includeArchived")
    term = (ctx.query("searchTerm") or "").lower()

    def keep(c: Json) -> bool:
        if ids and c["ContactID"].lower() not in ids:
            return False
        if not include_archived and not ids and c.get("ContactStatus") == "ARCHIVED":
            return False
        if term:
            haystack = " ".join(
                str(c.get(k) or "")
                for k in ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber")
            ).lower()
            return term in haystack
        return True

    docs, pagination, error = _list(ctx, "contact", extra_filter=keep)
    if error:
        return error
    return _ok(ctx, "Contacts", [d.public(c) for c in docs], pagination)


@api("contacts")
async def get_contact(ctx: Ctx) -> Response:
    ref = ctx.request.path_params["id"]
    try:
        uuid.UUID(ref)
        doc = ctx.sb.store.get_doc(ctx.tenant_id, "contact", ref)
    except ValueError:
        doc = d.find_contact(ctx.sb, ctx.tenant_id, {"ContactNumber": ref})
    return _ok(ctx, "Contacts", [d.public(doc)]) if doc else not_found()


def _rejected_contact(item: Json, errors: list[str]) -> Json:
    """A refused contact in a ValidationException as Xero's documentation shows it: the
    item as sent (not as it would have been stored), its id (the nil id if it sent none),
    an empty ``ValidationErrors`` on each nested address, phone and payment term."""
    echo: Json = {"ContactID": item.get("ContactID") or NIL_ID}
    echo.update({k: v for k, v in item.items() if k not in {"ContactID", "ValidationErrors"}})
    for key in ("Addresses", "Phones"):
        if isinstance(echo.get(key), list):
            echo[key] = [
                {**entry, "ValidationErrors": []} if isinstance(entry, dict) else entry
                for entry in echo[key]
            ]
    terms = echo.get("PaymentTerms")
    if isinstance(terms, dict):
        echo["PaymentTerms"] = {
            side: {**term, "ValidationErrors": []} if isinstance(term, dict) else term
            for side, term in terms.items()
        }
    echo.setdefault("ContactGroups", [])
    echo.setdefault("ContactPersons", [])
    echo["HasValidationErrors"] = True
    echo["ValidationErrors"] = [{"Message": m} for m in errors]
    return echo


async def _write_contacts(
    ctx: Ctx, *, update_by_keys: bool, path_id: str | None = None
) -> Response:
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Contacts")
    if items is None:
        return single_validation_error("The request body could not be read as Contacts.")
    if path_id:
        items = [{**items[0], "ContactID": path_id}] if items else []
    summarize = _summarize(ctx)
    batch_names: set[str] = set()
    prepared = [
        d.prepare_contact(
            ctx.sb, ctx.tenant_id, item, update_by_keys=update_by_keys, batch_names=batch_names
        )
        for item in items
    ]
    if summarize and any(errors for _, errors, _ in prepared):
        return validation_exception(
            [
                _rejected_contact(item, errors)
                for item, (_, errors, _) in zip(items, prepared, strict=True)
                if errors
            ]
        )
    out = []
    for doc, errors, created in prepared:
        if errors:
            out.append(
                {
                    **d.public(doc),
                    "StatusAttributeString": "ERROR",
                    "HasValidationErrors": True,
                    "ValidationErrors": [{"Message": m} for m in errors],
                }
            )
            continue
        d.save_contact(ctx.sb, ctx.tenant_id, doc, created=created)
        view = d.public(doc)
        if not summarize:
            view["StatusAttributeString"] = "OK"
        out.append(view)
    return _ok(ctx, "Contacts", out)


@api("contacts", write=True)
async def put_contacts(ctx: Ctx) -> Response:
    return await _write_contacts(ctx, update_by_keys=False)


@api("contacts", write=True)
async def post_contacts(ctx: Ctx) -> Response:
    return await _write_contacts(ctx, update_by_keys=True)


@api("contacts", write=True)
async def post_contact(ctx: Ctx) -> Response:
    ref = ctx.request.path_params["id"]
    if ctx.sb.store.get_doc(ctx.tenant_id, "contact", ref) is None:
        return not_found()
    return await _write_contacts(ctx, update_by_keys=False, path_id=ref)


# -- Invoices and credit notes --------------------------------------------------------------
NIL_ID = "00000000-0000-0000-0000-000000000000"


def _with_whole_contact(ctx: Ctx, view: Json) -> Json:
    contact_id = (view.get("Contact") or {}).get("ContactID")
    contact = ctx.sb.store.get_doc(ctx.tenant_id, "contact", contact_id) if contact_id else None
    if contact is not None:
        view["Contact"] = d.document_contact(contact)
    return view


def _failed_view(kind: d.Kind, prepared: d.Prepared) -> Json:
    """A rejected document as Xero echoes it: a new one gets the nil id."""
    view = d.document_view(prepared.doc)
    if prepared.created:
        view[kind.id_field] = NIL_ID
    view["HasErrors"] = True
    view["ValidationErrors"] = [{"Message": m} for m in prepared.errors]
    return view


def _document_routes(kind: d.Kind) -> dict[str, Any]:
    number_filter = "InvoiceNumbers" if kind is d.INVOICE else "CreditNoteNumbers"

    @api("invoices")
    async def get_many(ctx: Ctx) -> Response:
        ids = {i.lower() for i in _csv(ctx, "IDs")}
        numbers = set(_csv(ctx, number_filter))
        contact_ids = {i.lower() for i in _csv(ctx, "ContactIDs")}
        statuses = {s.upper() for s in _csv(ctx, "Statuses")}
        mine = ctx.query_flag("createdByMyApp")

        def keep(doc: Json) -> bool:
            if ids and doc[kind.id_field].lower() not in ids:
                return False
            if numbers and doc.get(kind.number_field) not in numbers:
                return False
            if contact_ids and doc["Contact"]["ContactID"].lower() not in contact_ids:
                return False
            if statuses and doc["Status"] not in statuses:
                return False
            return not (mine and doc.get("_created_by") != ctx.client_id)

        docs, pagination, error = _list(ctx, kind.store_kind, extra_filter=keep)
        if error:
            return error
        # Xero returns line items in lists only when paging or asking for specific documents,
        # and never in a summary; summaryOnly is a parameter of Invoices (and Contacts)
        # only: credit notes have no summary.
        summary = kind is d.INVOICE and ctx.query_flag("summaryOnly")
        with_lines = (pagination is not None or bool(ids) or bool(numbers)) and not summary
        return _ok(
            ctx,
            kind.collection,
            [d.document_view(doc, with_lines=with_lines) for doc in docs],
            pagination,
        )

    @api("invoices")
    async def get_one(ctx: Ctx) -> Response:
        doc = d.find_document(ctx.sb, ctx.tenant_id, kind, ctx.request.path_params["id"])
        if doc is None:
            return not_found()
        view = _with_whole_contact(ctx, d.document_view(doc))
        atts = ctx.sb.store.attachments(ctx.tenant_id, kind.store_kind, doc[kind.id_field])
        if atts:
            view["Attachments"] = [_attachment_json(ctx, kind, doc[kind.id_field], a) for a in atts]
        return _ok(ctx, kind.collection, [view])

    async def write(ctx: Ctx, *, update_by_number: bool, path_id: str | None = None) -> Response:
        payload, error = await _json_body(ctx)
        if error:
            return error
        items = read_items(payload, kind.collection)
        if items is None:
            return single_validation_error(
                f"The request body could not be read as {kind.collection}."
            )
        if path_id:
            items = [{**items[0], kind.id_field: path_id}] if items else []
        unitdp = 4 if ctx.query("unitdp") == "4" else 2
        batch_numbers: set[str] = set()
        prepared = [
            d.prepare_document(
                ctx.sb,
                ctx.tenant_id,
                ctx.org,
                kind,
                item,
                allow_update_by_number=update_by_number,
                batch_numbers=batch_numbers,
                unitdp=unitdp,
            )
            for item in items
        ]
        summarize = _summarize(ctx)
        if summarize and any(p.errors for p in prepared):
            return validation_exception([_failed_view(kind, p) for p in prepared if p.errors])
        out = []
        for p in prepared:
            if p.errors:
                out.append({**_failed_view(kind, p), "StatusAttributeString": "ERROR"})
                continue
            doc = d.commit_document(ctx.sb, ctx.tenant_id, kind, p, ctx.client_id)
            view = _with_whole_contact(ctx, d.document_view(doc))
            if not summarize:
                view["StatusAttributeString"] = "OK"
            out.append(view)
        return _ok(ctx, kind.collection, out)

    @api("invoices", write=True)
    async def put_many(ctx: Ctx) -> Response:
        return await write(ctx, update_by_number=False)

    @api("invoices", write=True)
    async def post_many(ctx: Ctx) -> Response:
        return await write(ctx, update_by_number=True)

    @api("invoices", write=True)
    async def post_one(ctx: Ctx) -> Response:
        doc = d.find_document(ctx.sb, ctx.tenant_id, kind, ctx.request.path_params["id"])
        if doc is None:
            return not_found()
        return await write(ctx, update_by_number=False, path_id=doc[kind.id_field])

    return {
        "get_many": get_many,
        "get_one": get_one,
        "put_many": put_many,
        "post_many": post_many,
        "post_one": post_one,
    }


_invoice_routes = _document_routes(d.INVOICE)
_credit_routes = _document_routes(d.CREDIT_NOTE)


@api("invoices", write=True)
async def put_allocations(ctx: Ctx) -> Response:
    credit_note = d.find_document(
        ctx.sb, ctx.tenant_id, d.CREDIT_NOTE, ctx.request.path_params["id"]
    )
    if credit_note is None:
        return not_found()
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Allocations") or []
    summarize = _summarize(ctx)

    def one(item: Json) -> tuple[Json, list[str]]:
        # Each allocation sees the balances the previous ones left, as in Xero.
        note = d.find_document(ctx.sb, ctx.tenant_id, d.CREDIT_NOTE, credit_note["CreditNoteID"])
        allocation, errors, invoice = d.prepare_allocation(
            ctx.sb, ctx.tenant_id, ctx.org, note or credit_note, item
        )
        if not errors and invoice is not None:
            d.commit_allocation(ctx.sb, ctx.tenant_id, note or credit_note, allocation, invoice)
        return allocation, errors

    return _sequential_batch(ctx, items, one, "Allocations", summarize)


def _sequential_batch(
    ctx: Ctx,
    items: list[Json],
    one: Callable[[Json], tuple[Json, list[str]]],
    key: str,
    summarize: bool,
) -> Response:
    """Items that depend on each other's effects, all or nothing unless summarizeErrors=false."""
    out: list[Json] = []
    failed: list[Json] = []
    try:
        with ctx.sb.store.transaction():
            for item in items:
                result, errors = one(item)
                if errors:
                    failed.append({**result, "ValidationErrors": [{"Message": m} for m in errors]})
                    out.append({**failed[-1], "StatusAttributeString": "ERROR"})
                    continue
                if not summarize:
                    result["StatusAttributeString"] = "OK"
                out.append(result)
            if summarize and failed:
                raise _RollBack
    except _RollBack:
        return validation_exception(failed)
    return _ok(ctx, key, out)


class _RollBack(Exception):
    """Undo a batch that summarizeErrors=true must reject as a whole."""


# -- Payments ----------------------------------------------------------------------------
@api("payments")
async def get_payments(ctx: Ctx) -> Response:
    docs, pagination, error = _list(ctx, "payment")
    if error:
        return error
    return _ok(ctx, "Payments", [d.payment_list_view(p) for p in docs], pagination)


@api("payments")
async def get_payment(ctx: Ctx) -> Response:
    doc = ctx.sb.store.get_doc(ctx.tenant_id, "payment", ctx.request.path_params["id"])
    if doc is None:
        return not_found()
    # Read alone, a payment shows its invoice as it is now, with the invoice's payments.
    invoice_id = (doc.get("Invoice") or {}).get("InvoiceID")
    invoice = ctx.sb.store.get_doc(ctx.tenant_id, "invoice", invoice_id) if invoice_id else None
    if invoice is not None:
        doc["Invoice"] = d.payment_invoice(invoice, with_payments=True)
    return _ok(ctx, "Payments", [doc])


@api("payments", write=True)
async def put_payments(ctx: Ctx) -> Response:
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Payments") or []

    def one(item: Json) -> tuple[Json, list[str]]:
        payment, errors, invoice = d.prepare_payment(ctx.sb, ctx.tenant_id, ctx.org, item)
        if not errors and invoice is not None:
            d.commit_payment(ctx.sb, ctx.tenant_id, payment, invoice)
        return payment, errors

    return _sequential_batch(ctx, items, one, "Payments", _summarize(ctx))


@api("payments", write=True)
async def post_payment(ctx: Ctx) -> Response:
    payment = ctx.sb.store.get_doc(ctx.tenant_id, "payment", ctx.request.path_params["id"])
    if payment is None:
        return not_found()
    payload, error = await _json_body(ctx)
    if error:
        return error
    items = read_items(payload, "Payments") or []
    if not items or items[0].get("Status") != "DELETED":
        return single_validation_error("A payment can only be updated to a Status of DELETED.")
    if payment["Status"] == "DELETED":
        return single_validation_error("Payment not of valid status for modification")
    return _ok(ctx, "Payments", [d.delete_payment(ctx.sb, ctx.tenant_id, payment)])


# -- Attachments --------------------------------------------------------------------------
_OWNERS = {"Invoices": d.INVOICE, "CreditNotes": d.CREDIT_NOTE}


def _attachment_json(ctx: Ctx, kind: d.Kind, owner_id: str, row: Any) -> Json:
    attachment: Json = {
        "AttachmentID": row["id"],
        "FileName": row["file_name"],
        "Url": f"{ctx.sb.api_root}{PREFIX}/{kind.collection}/{owner_id}/Attachments/{quote(row['file_name'])}",
        "MimeType": row["mime_type"],
        "ContentLength": len(row["content"]),
    }
    # Xero names IncludeOnline only when it is set: recorded as `true` on a file shown
    # online, absent from every documented attachment that is not.
    if row["include_online"]:
        attachment["IncludeOnline"] = True
    return attachment


def _owner(ctx: Ctx) -> tuple[d.Kind, Json | None]:
    kind = _OWNERS.get(ctx.request.path_params["owner"])
    if kind is None:
        return d.INVOICE, None
    return kind, d.find_document(ctx.sb, ctx.tenant_id, kind, ctx.request.path_params["id"])


@api("attachments")
async def get_attachments(ctx: Ctx) -> Response:
    kind, owner = _owner(ctx)
    if owner is None:
        return not_found()
    owner_id = owner[kind.id_field]
    rows = ctx.sb.store.attachments(ctx.tenant_id, kind.store_kind, owner_id)
    return _ok(ctx, "Attachments", [_attachment_json(ctx, kind, owner_id, r) for r in rows])


@api("attachments")
async def get_attachment_content(ctx: Ctx) -> Response:
    kind, owner = _owner(ctx)
    if owner is None:
        return not_found()
    ref = unquote(ctx.request.path_params["name"])
    rows = ctx.sb.store.attachments(ctx.tenant_id, kind.store_kind, owner[kind.id_field])
    row = next((r for r in rows if r["id"] == ref.lower() or r["file_name"] == ref), None)
    if row is None:
        return not_found()
    return Response(bytes(row["content"]), media_type=row["mime_type"])


@api("attachments", write=True)
async def put_attachment(ctx: Ctx) -> Response:
    kind, owner = _owner(ctx)
    if owner is None:
        return not_found()
    file_name = unquote(ctx.request.path_params["name"])
    content = await ctx.request.body()
    if len(content) > ctx.sb.config.attachment_max_bytes:
        return Response(
            "The attachment is larger than 25MB", status_code=413, media_type="text/plain"
        )
    if not content:
        return single_validation_error("The attachment is empty.")
    owner_id = owner[kind.id_field]
    existing = ctx.sb.store.attachments(ctx.tenant_id, kind.store_kind, owner_id)
    same_name = next((r for r in existing if r["file_name"] == file_name), None)
    if same_name is None and len(existing) >= 10:
        return single_validation_error("A document can have at most 10 attachments.")
    # Xero keeps the MIME type of the file name (application/pdf for INV-001.pdf), whatever
    # the upload said: the official SDK sends every attachment as application/octet-stream.
    mime = mimetypes.guess_type(file_name)[0] or ""
    if not mime:
        sent = ctx.request.headers.get("content-type") or ""
        form = sent.startswith("application/x-www-form-urlencoded")
        mime = sent if sent and not form else "application/octet-stream"
    attachment = {
        "AttachmentID": same_name["id"] if same_name else str(uuid.uuid4()),
        "tenant_id": ctx.tenant_id,
        "owner_kind": kind.store_kind,
        "owner_id": owner_id,
        "FileName": file_name,
        "MimeType": mime.split(";")[0].strip(),
        "IncludeOnline": ctx.query_flag("IncludeOnline"),
    }
    ctx.sb.store.put_attachment(attachment, content)
    if not owner.get("HasAttachments"):
        owner["HasAttachments"] = True
        ctx.sb.store.put_doc(
            ctx.tenant_id,
            kind.store_kind,
            owner_id,
            owner,
            number=owner.get(kind.number_field) or None,
            updated=ctx.sb.store.query(
                "SELECT updated FROM docs WHERE tenant_id=? AND kind=? AND id=?",
                (ctx.tenant_id, kind.store_kind, owner_id.lower()),
            )[0]["updated"],
        )
    row = next(
        r
        for r in ctx.sb.store.attachments(ctx.tenant_id, kind.store_kind, owner_id)
        if r["id"] == attachment["AttachmentID"]
    )
    return _ok(ctx, "Attachments", [_attachment_json(ctx, kind, owner_id, row)])


routes = [
    Route(f"{PREFIX}/Organisation", get_organisation, methods=["GET"]),
    Route(f"{PREFIX}/Currencies", get_currencies, methods=["GET"]),
    Route(f"{PREFIX}/Accounts", get_accounts, methods=["GET"]),
    Route(f"{PREFIX}/Accounts", create_account, methods=["PUT"]),
    Route(f"{PREFIX}/Accounts/{{id}}", get_account, methods=["GET"]),
    Route(f"{PREFIX}/Accounts/{{id}}", update_account, methods=["POST"]),
    Route(f"{PREFIX}/TaxRates", get_tax_rates, methods=["GET"]),
    Route(f"{PREFIX}/TaxRates", create_tax_rates, methods=["PUT"]),
    Route(f"{PREFIX}/TrackingCategories", get_tracking_categories, methods=["GET"]),
    Route(f"{PREFIX}/TrackingCategories", create_tracking_category, methods=["PUT"]),
    Route(f"{PREFIX}/TrackingCategories/{{id}}", get_tracking_category, methods=["GET"]),
    Route(f"{PREFIX}/TrackingCategories/{{id}}", update_tracking_category, methods=["POST"]),
    Route(f"{PREFIX}/TrackingCategories/{{id}}", delete_tracking_category, methods=["DELETE"]),
    Route(f"{PREFIX}/TrackingCategories/{{id}}/Options", create_tracking_options, methods=["PUT"]),
    Route(
        f"{PREFIX}/TrackingCategories/{{id}}/Options/{{option_id}}",
        update_tracking_option,
        methods=["POST", "DELETE"],
    ),
    Route(f"{PREFIX}/Contacts", get_contacts, methods=["GET"]),
    Route(f"{PREFIX}/Contacts", put_contacts, methods=["PUT"]),
    Route(f"{PREFIX}/Contacts", post_contacts, methods=["POST"]),
    Route(f"{PREFIX}/Contacts/{{id}}", get_contact, methods=["GET"]),
    Route(f"{PREFIX}/Contacts/{{id}}", post_contact, methods=["POST"]),
    Route(f"{PREFIX}/Invoices", _invoice_routes["get_many"], methods=["GET"]),
    Route(f"{PREFIX}/Invoices", _invoice_routes["put_many"], methods=["PUT"]),
    Route(f"{PREFIX}/Invoices", _invoice_routes["post_many"], methods=["POST"]),
    Route(f"{PREFIX}/Invoices/{{id}}", _invoice_routes["get_one"], methods=["GET"]),
    Route(f"{PREFIX}/Invoices/{{id}}", _invoice_routes["post_one"], methods=["POST"]),
    Route(f"{PREFIX}/CreditNotes", _credit_routes["get_many"], methods=["GET"]),
    Route(f"{PREFIX}/CreditNotes", _credit_routes["put_many"], methods=["PUT"]),
    Route(f"{PREFIX}/CreditNotes", _credit_routes["post_many"], methods=["POST"]),
    Route(f"{PREFIX}/CreditNotes/{{id}}", _credit_routes["get_one"], methods=["GET"]),
    Route(f"{PREFIX}/CreditNotes/{{id}}", _credit_routes["post_one"], methods=["POST"]),
    Route(f"{PREFIX}/CreditNotes/{{id}}/Allocations", put_allocations, methods=["PUT"]),
    Route(f"{PREFIX}/{{owner:str}}/{{id}}/Attachments", get_attachments, methods=["GET"]),
    Route(
        f"{PREFIX}/{{owner:str}}/{{id}}/Attachments/{{name:path}}",
        get_attachment_content,
        methods=["GET"],
    ),
    Route(
        f"{PREFIX}/{{owner:str}}/{{id}}/Attachments/{{name:path}}",
        put_attachment,
        methods=["PUT", "POST"],
    ),
    Route(f"{PREFIX}/Payments", get_payments, methods=["GET"]),
    Route(f"{PREFIX}/Payments", put_payments, methods=["PUT", "POST"]),
    Route(f"{PREFIX}/Payments/{{id}}", get_payment, methods=["GET"]),
    Route(f"{PREFIX}/Payments/{{id}}", post_payment, methods=["POST"]),
]
