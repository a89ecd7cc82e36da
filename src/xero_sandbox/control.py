"""The control API under ``/sandbox``: what tests, the demo and benchmarks use to
arrange the world — organisations, apps, users, tokens, a Xero user's own
actions (typing, editing, voiding and deleting invoices and credit notes, adding
and editing contacts, payments, lock dates, archiving), faults, the clock, the
call log and webhooks. Not part of Xero; documented in the package README.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import documents as d
from .dates import date_string, ms_date, parse_date, parse_timestamp
from .identity import connect_tenants, invalid_scopes, issue_tokens, sb_of
from .importer import import_endpoint
from .responses import json_response, not_found
from .seed import OrgSpec, create_org, create_user, register_app
from .state import Sandbox
from .store import Json

FAULT_KINDS = {"latency", "error", "rate_limit", "timeout", "drop", "revoke"}


def _bad(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status=status)


class BadBody(Exception):
    """A control request whose body is not a JSON object: answered 400, never a 500
    (and never taken as an empty edit that fires an UPDATE for nothing)."""


async def _body(request: Request) -> Json:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise BadBody(f"The body is not JSON: {error}.") from error
    if not isinstance(data, dict):
        raise BadBody("The body must be a JSON object of the fields to set.")
    if "LineItems" in data and not isinstance(data["LineItems"], list):
        raise BadBody("LineItems must be a list of lines.")
    return data


async def bad_body(request: Request, error: Exception) -> Response:
    return _refused([str(error)])


def _org_summary(sb: Sandbox, org: Json) -> Json:
    return {
        "tenant_id": org["OrganisationID"],
        "name": org["Name"],
        "short_code": org["ShortCode"],
        "period_lock_date": org.get("PeriodLockDate"),
        "connections": [
            {"id": c["id"], "client_id": c["client_id"], "user_id": c["user_id"]}
            for c in sb.store.connections(tenant_id=org["OrganisationID"])
        ],
    }


def _app_summary(app: Json) -> Json:
    return {k: v for k, v in app.items() if k != "created"}


async def info(request: Request) -> Response:
    sb = sb_of(request)
    return json_response(
        {
            "base_url": sb.api_root,
            "clock": {"now": sb.clock.now(), "scale": sb.clock.scale},
            "apps": [_app_summary(a) for a in sb.store.list_apps()],
            "users": [
                {
                    "email": u["email"],
                    "password": u["password"],
                    "user_id": u["user_id"],
                    "tenant_ids": sb.store.user_tenants(u["user_id"]),
                }
                for u in sb.store.list_users()
            ],
            "orgs": [_org_summary(sb, o) for o in sb.store.list_orgs()],
        }
    )


async def reset(request: Request) -> Response:
    sb = sb_of(request)
    # Not while a webhook batch is out: its answer would mark the new state's events.
    async with sb.webhooks.delivering:
        sb.reset()
    return json_response({"reset": True})


async def create_app_(request: Request) -> Response:
    sb = sb_of(request)
    body = await _body(request)
    if not body.get("client_id"):
        return _bad("client_id is required")
    app = register_app(
        sb.store,
        sb.clock,
        client_id=str(body["client_id"]),
        client_secret=body.get("client_secret"),
        name=str(body.get("name") or body["client_id"]),
        redirect_uris=list(body.get("redirect_uris") or []),
        webhook_url=body.get("webhook_url"),
        webhook_key=body.get("webhook_key"),
        legacy_scopes=bool(body.get("legacy_scopes", False)),
    )
    return json_response(_app_summary(app), status=201)


async def update_app(request: Request) -> Response:
    sb = sb_of(request)
    app = sb.store.get_app(request.path_params["client_id"])
    if app is None:
        return not_found()
    body = await _body(request)
    changed_webhook = False
    for key in (
        "client_secret",
        "name",
        "redirect_uris",
        "webhook_url",
        "webhook_key",
        "legacy_scopes",
    ):
        if key in body:
            changed_webhook |= key in {"webhook_url", "webhook_key"} and app.get(key) != body[key]
            app[key] = body[key]
    if changed_webhook:
        # A new URL or key must pass intent-to-receive again, as at Xero.
        app["webhook_status"] = "UNVERIFIED"
    if "webhook_status" in body:
        app["webhook_status"] = body["webhook_status"]
    sb.store.put_app(app)
    return json_response(_app_summary(app))


async def intent_to_receive(request: Request) -> Response:
    sb = sb_of(request)
    if sb.store.get_app(request.path_params["client_id"]) is None:
        return not_found()
    result = await sb.webhooks.intent_to_receive(request.path_params["client_id"])
    return json_response(result)


async def create_user_(request: Request) -> Response:
    sb = sb_of(request)
    body = await _body(request)
    if not body.get("email") or not body.get("password"):
        return _bad("email and password are required")
    user = create_user(
        sb.store,
        email=str(body["email"]),
        password=str(body["password"]),
        first_name=str(body.get("first_name") or "Test"),
        last_name=str(body.get("last_name") or "User"),
        tenant_ids=list(body.get("tenant_ids") or []),
    )
    return json_response({"user_id": user["user_id"], "email": user["email"]}, status=201)


async def create_org_(request: Request) -> Response:
    sb = sb_of(request)
    body = await _body(request)
    if not body.get("name"):
        return _bad("name is required")
    org = create_org(
        sb.store,
        sb.clock,
        OrgSpec(
            name=str(body["name"]),
            tenant_id=body.get("tenant_id"),
            short_code=body.get("short_code"),
            legal_name=body.get("legal_name"),
            chart=str(body.get("chart") or "uk"),
            accounts=list(body.get("accounts") or []),
            tax_rates=list(body.get("tax_rates") or []),
            tracking_categories=list(body.get("tracking_categories") or []),
            currencies=tuple(body.get("currencies") or ("GBP", "EUR", "USD")),
        ),
    )
    emails = body.get("users")
    if emails is None:
        emails = [sb.config.demo.user_email]
    for email in emails:
        user = sb.store.get_user_by_email(str(email))
        if user is not None:
            sb.store.add_membership(user["user_id"], org["OrganisationID"])
    return json_response(_org_summary(sb, org), status=201)


async def list_orgs(request: Request) -> Response:
    sb = sb_of(request)
    return json_response([_org_summary(sb, o) for o in sb.store.list_orgs()])


def _org(request: Request) -> Json | None:
    return sb_of(request).store.get_org(request.path_params["tenant_id"].lower())


async def set_lock_date(request: Request) -> Response:
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    body = await _body(request)
    for field, key in (
        ("period_lock_date", "PeriodLockDate"),
        ("end_of_year_lock_date", "EndOfYearLockDate"),
    ):
        if field in body:
            if body[field] is None:
                org.pop(key, None)
                continue
            value = parse_date(body[field])
            if value is None:
                return _bad(f"{field} must be a date")
            org[key] = ms_date(value)
    sb.store.put_org(org)
    return json_response(_org_summary(sb, org))


async def archive_account(request: Request) -> Response:
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    account = d.accounts_by_code(sb, org["OrganisationID"]).get(request.path_params["code"].upper())
    if account is None:
        return not_found()
    account["Status"] = "ARCHIVED"
    now = sb.clock.now()
    account["UpdatedDateUTC"] = ms_date(now)
    sb.store.put_doc(
        org["OrganisationID"],
        "account",
        account["AccountID"],
        account,
        number=account["Code"],
        updated=now,
    )
    return json_response(account)


def _find_invoice(
    sb: Sandbox, tenant_id: str, body: Json, path_id: str | None = None
) -> Json | None:
    ref = path_id or body.get("invoice_id") or body.get("invoice_number")
    return d.find_document(sb, tenant_id, d.INVOICE, str(ref)) if ref else None


async def record_payment(request: Request) -> Response:
    """A Xero user records a payment (fires an INVOICE UPDATE webhook)."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    body = await _body(request)
    invoice = _find_invoice(sb, org["OrganisationID"], body)
    if invoice is None:
        return _bad("invoice not found", 404)
    amount = body.get("amount", invoice["AmountDue"])
    item = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": str(body.get("account_code") or "090")},
        "Amount": amount,
        "Date": body.get("date") or date_string(sb.clock.now_dt().date()),
        "Reference": body.get("reference") or "",
    }
    payment, errors, found = d.prepare_payment(sb, org["OrganisationID"], org, item)
    if errors or found is None:
        return json_response({"errors": errors}, status=400)
    d.commit_payment(sb, org["OrganisationID"], payment, found)
    return json_response(payment, status=201)


async def delete_payment(request: Request) -> Response:
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    payment = sb.store.get_doc(org["OrganisationID"], "payment", request.path_params["payment_id"])
    if payment is None:
        return not_found()
    return json_response(d.delete_payment(sb, org["OrganisationID"], payment))


# -- a Xero user typing, editing, voiding and deleting --------------------------------
# Bodies are Xero-shaped (the fields the accounting API takes); every change goes
# through the same validation, arithmetic and webhooks as the accounting API's, with no
# app as its author (``createdByMyApp`` never lists it).
XERO_USER = ""
_KINDS = {"invoices": d.INVOICE, "credit-notes": d.CREDIT_NOTE}
_COMPUTED_LINE_FIELDS = {"LineAmount", "TaxAmount", "AccountID"}


def _refused(errors: list[str]) -> Response:
    return json_response({"errors": errors}, status=400)


def _edited_lines(existing: list[Json], given: Any) -> Any:
    """A user's line changes: a line naming an existing ``LineItemID`` is that line with
    the given fields changed (its amounts and tax recomputed unless given); a line
    without one is added; lines left out are removed, as in Xero's editor."""
    if not isinstance(given, list):
        return given
    by_id = {line.get("LineItemID"): line for line in existing}
    lines = []
    for line in given:
        old = by_id.get(line.get("LineItemID")) if isinstance(line, dict) else None
        if old is None:
            lines.append(line)
            continue
        merged = {k: v for k, v in old.items() if k not in _COMPUTED_LINE_FIELDS}
        if "AccountCode" in line:
            merged.pop("AccountID", None)
        merged.update(line)
        lines.append(merged)
    return lines


async def user_create_document(request: Request, kind: d.Kind) -> Response:
    """A Xero user types an invoice or credit note (CREATE webhook); sales documents
    get the organisation's next number when none is given."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    body = await _body(request)
    body.setdefault("Type", "ACCREC" if kind is d.INVOICE else "ACCRECCREDIT")
    for key in (kind.id_field, "Total"):
        body.pop(key, None)
    prepared = d.prepare_document(
        sb,
        org["OrganisationID"],
        org,
        kind,
        body,
        allow_update_by_number=False,
        batch_numbers=set(),
    )
    if prepared.errors:
        return _refused(prepared.errors)
    doc = d.commit_document(sb, org["OrganisationID"], kind, prepared, XERO_USER)
    return json_response(d.public(doc), status=201)


async def user_edit_document(request: Request, kind: d.Kind) -> Response:
    """A Xero user edits an invoice or credit note (UPDATE webhook), refused as Xero
    refuses: paid, voided or deleted documents, an approved one with payments or
    credit allocated, an approved one in a locked period."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    tenant_id = org["OrganisationID"]
    doc = d.find_document(sb, tenant_id, kind, request.path_params["ref"])
    if doc is None:
        return not_found()
    body = await _body(request)
    body.pop("Total", None)
    if "LineItems" in body:
        body["LineItems"] = _edited_lines(doc.get("LineItems") or [], body["LineItems"])
    item = {**body, kind.id_field: doc[kind.id_field]}
    prepared = d.prepare_document(
        sb, tenant_id, org, kind, item, allow_update_by_number=False, batch_numbers=set()
    )
    if prepared.errors:
        return _refused(prepared.errors)
    saved = d.commit_document(sb, tenant_id, kind, prepared, XERO_USER)
    return json_response(d.public(saved))


async def user_change_status(request: Request, kind: d.Kind, action: str) -> Response:
    """A Xero user voids (approved) or deletes (draft / awaiting approval) a document."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    doc = d.find_document(sb, org["OrganisationID"], kind, request.path_params["ref"])
    if doc is None:
        return not_found()
    if kind is d.INVOICE and action == "void":
        errors = d.void_invoice(sb, org["OrganisationID"], org, doc)
    else:
        status = "VOIDED" if action == "void" else "DELETED"
        errors = d.change_status(sb, org["OrganisationID"], org, kind, doc, status)
    if errors:
        return _refused(errors)
    return json_response(d.public(doc))


def _document_routes(segment: str) -> list[Route]:
    kind = _KINDS[segment]
    base = f"/sandbox/orgs/{{tenant_id}}/{segment}"

    async def create(request: Request) -> Response:
        return await user_create_document(request, kind)

    async def edit(request: Request) -> Response:
        return await user_edit_document(request, kind)

    async def void(request: Request) -> Response:
        return await user_change_status(request, kind, "void")

    async def delete(request: Request) -> Response:
        return await user_change_status(request, kind, "delete")

    return [
        Route(base, create, methods=["POST"]),
        Route(base + "/{ref}", edit, methods=["POST"]),
        Route(base + "/{ref}/void", void, methods=["POST"]),
        Route(base + "/{ref}/delete", delete, methods=["POST"]),
    ]


async def user_write_contact(request: Request) -> Response:
    """A Xero user adds a contact (CREATE webhook) or edits one (UPDATE)."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    tenant_id = org["OrganisationID"]
    body = await _body(request)
    contact_id = request.path_params.get("contact_id")
    body.pop("ContactID", None)
    if contact_id is not None:
        if sb.store.get_doc(tenant_id, "contact", contact_id) is None:
            return not_found()
        body["ContactID"] = contact_id
    doc, errors, created = d.prepare_contact(
        sb, tenant_id, body, update_by_keys=False, batch_names=set()
    )
    if errors:
        return _refused(errors)
    d.save_contact(sb, tenant_id, doc, created=created)
    return json_response(d.public(doc), status=201 if created else 200)


async def revoke(request: Request) -> Response:
    """The organisation disconnects the app (or every app): its tokens get 403s."""
    sb = sb_of(request)
    org = _org(request)
    if org is None:
        return not_found()
    body = await _body(request)
    removed = []
    for conn in sb.store.connections(tenant_id=org["OrganisationID"]):
        if body.get("client_id") in (None, conn["client_id"]):
            sb.store.delete_connection(conn["id"])
            removed.append(conn["id"])
    return json_response({"removed": removed})


async def mint_token(request: Request) -> Response:
    """Skip the consent page: connect a user to organisations and return a token set."""
    sb = sb_of(request)
    body = await _body(request)
    client_id = str(body.get("client_id") or sb.config.demo.client_id)
    app = sb.store.get_app(client_id)
    if app is None:
        return _bad(f"unknown client_id {client_id}", 404)
    email = str(body.get("user_email") or sb.config.demo.user_email)
    user = sb.store.get_user_by_email(email)
    if user is None:
        user = create_user(sb.store, email=email, password=str(uuid.uuid4()))
    tenant_ids = [str(t).lower() for t in body.get("tenant_ids") or [sb.config.demo.tenant_id]]
    for tenant_id in tenant_ids:
        if sb.store.get_org(tenant_id) is None:
            return _bad(f"unknown tenant {tenant_id}", 404)
        sb.store.add_membership(user["user_id"], tenant_id)
    default_scopes = "openid profile email offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings accounting.attachments"
    scopes = body.get("scopes") or default_scopes.split()
    if isinstance(scopes, str):
        scopes = scopes.split()
    bad = invalid_scopes(app, scopes)
    if bad:
        return _bad(f"scopes not allowed for this app: {' '.join(bad)}")
    auth_event_id = str(uuid.uuid4())
    connections = connect_tenants(
        sb,
        client_id=client_id,
        user_id=user["user_id"],
        tenant_ids=tenant_ids,
        auth_event_id=auth_event_id,
    )
    tokens = issue_tokens(sb, app=app, user=user, scopes=list(scopes), auth_event_id=auth_event_id)
    tokens["tenant_ids"] = tenant_ids
    tokens["connection_ids"] = [c["id"] for c in connections]
    tokens["auth_event_id"] = auth_event_id
    return json_response(tokens, status=201)


async def faults(request: Request) -> Response:
    sb = sb_of(request)
    if request.method == "GET":
        return json_response([f.as_json() for f in sb.faults()])
    if request.method == "DELETE":
        sb.clear_faults()
        return json_response({"cleared": True})
    body = await _body(request)
    kind = body.get("kind")
    if kind not in FAULT_KINDS:
        return _bad(f"kind must be one of {sorted(FAULT_KINDS)}")
    fields: dict[str, Any] = {"kind": kind}
    for key in ("tenant_id", "method", "path", "problem"):
        if body.get(key) is not None:
            fields[key] = str(body[key]).lower() if key == "tenant_id" else str(body[key])
    for key, cast in (("status", int), ("seconds", float), ("retry_after", int), ("times", int)):
        if body.get(key) is not None:
            fields[key] = cast(body[key])
    if kind == "error" and "status" not in fields:
        fields["status"] = 500
    fault = sb.add_fault(**fields)
    return json_response(fault.as_json(), status=201)


async def delete_fault(request: Request) -> Response:
    sb_of(request).clear_faults(int(request.path_params["fault_id"]))
    return json_response({"cleared": True})


async def calls(request: Request) -> Response:
    sb = sb_of(request)
    if request.method == "DELETE":
        sb.store.clear_calls()
        return json_response({"cleared": True})
    since = int(request.query_params.get("since") or 0)
    return json_response(
        sb.store.calls(since=since, tenant_id=request.query_params.get("tenant_id"))
    )


async def clock(request: Request) -> Response:
    sb = sb_of(request)
    if request.method == "POST":
        body = await _body(request)
        now = None
        if body.get("now") is not None:
            now = (
                parse_timestamp(str(body["now"]))
                if isinstance(body["now"], str)
                else float(body["now"])
            )
            if now is None:
                return _bad("now must be an ISO date-time or epoch seconds")
        sb.clock.set(
            now=now,
            scale=float(body["scale"]) if body.get("scale") is not None else None,
            frozen=body.get("frozen"),
        )
        if body.get("advance_seconds"):
            sb.clock.advance(float(body["advance_seconds"]))
    return json_response(
        {"now": sb.clock.now(), "iso": sb.clock.now_dt().isoformat(), "scale": sb.clock.scale}
    )


async def rate_limits_reset(request: Request) -> Response:
    sb_of(request).limiter.reset()
    return json_response({"reset": True})


async def webhook_events(request: Request) -> Response:
    return json_response(sb_of(request).store.webhook_events())


async def webhook_deliveries(request: Request) -> Response:
    return json_response(sb_of(request).store.deliveries())


async def webhook_flush(request: Request) -> Response:
    results = await sb_of(request).webhooks.flush(ignore_backoff=True)
    return json_response(results)


routes = [
    Route("/sandbox", info, methods=["GET"]),
    Route("/sandbox/reset", reset, methods=["POST"]),
    Route("/sandbox/apps", create_app_, methods=["POST"]),
    Route("/sandbox/apps/{client_id}", update_app, methods=["PATCH", "POST"]),
    Route("/sandbox/apps/{client_id}/intent-to-receive", intent_to_receive, methods=["POST"]),
    Route("/sandbox/users", create_user_, methods=["POST"]),
    Route("/sandbox/orgs", create_org_, methods=["POST"]),
    Route("/sandbox/orgs", list_orgs, methods=["GET"]),
    Route("/sandbox/orgs/{tenant_id}/lock-date", set_lock_date, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/accounts/{code}/archive", archive_account, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/payments", record_payment, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/payments/{payment_id}", delete_payment, methods=["DELETE"]),
    *_document_routes("invoices"),
    *_document_routes("credit-notes"),
    Route("/sandbox/orgs/{tenant_id}/contacts", user_write_contact, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/contacts/{contact_id}", user_write_contact, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/revoke", revoke, methods=["POST"]),
    Route("/sandbox/orgs/{tenant_id}/import/{kind}", import_endpoint, methods=["POST"]),
    Route("/sandbox/tokens", mint_token, methods=["POST"]),
    Route("/sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/sandbox/faults/{fault_id:int}", delete_fault, methods=["DELETE"]),
    Route("/sandbox/calls", calls, methods=["GET", "DELETE"]),
    Route("/sandbox/clock", clock, methods=["GET", "POST"]),
    Route("/sandbox/rate-limits/reset", rate_limits_reset, methods=["POST"]),
    Route("/sandbox/webhooks/events", webhook_events, methods=["GET"]),
    Route("/sandbox/webhooks/deliveries", webhook_deliveries, methods=["GET"]),
    Route("/sandbox/webhooks/flush", webhook_flush, methods=["POST"]),
]
