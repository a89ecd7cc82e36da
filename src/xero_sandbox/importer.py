"""Xero's manual import of invoice and bill files (Sales > Import, Bills > Import).

Control API, not part of Xero's API: ``POST /sandbox/orgs/{tenant_id}/import/{sales|bills}``
with the CSV file as the body and, as query parameters, ``date_format`` (the
organisation's regional format as a ``strftime`` pattern, default ``%d/%m/%Y``, or
``DD/MM/YYYY`` / ``MM/DD/YYYY`` / ``YYYY-MM-DD``) and ``amounts`` (``exclusive``,
the default, or ``inclusive`` — the choice Xero asks for when importing).

The importer's rules, as Xero applies them:

- CSV in UTF-8 (a byte-order mark is fine); the template's starred columns must be
  present (headers match with or without the ``*``); other columns are ignored.
- One row per line item; rows with the same ``*InvoiceNumber`` form one document
  (for bills, the same number *and* contact, since a bill's number is the
  supplier's). Their contact, dates, currency and total must agree.
- Required values on every row; dates in the given format; numbers as numbers.
- ``*TaxType`` is the tax rate's *name* as shown in Xero (e.g. ``20% (VAT on
  Income)``), looked up among the organisation's tax rates.
- ``*AccountCode``, tracking names and options, currency and the ``Total`` are
  checked as the API checks them (shared code in ``documents``).
- A document whose lines add up to less than zero is imported as a credit note.
- Sales invoice and credit note numbers must not exist already; a bill must not
  repeat a supplier's number.
- At most 500 documents per file.
- Nothing is imported unless the whole file is valid: errors come back per row
  with HTTP 400; success is 200 with the documents created (as drafts).

Imports nothing from ledgerbridge.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from . import documents as d
from .identity import sb_of
from .responses import json_response, not_found
from .state import Sandbox
from .store import Json

MAX_DOCUMENTS = 500

_COMMON = (
    "ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "InvoiceNumber",
    "InvoiceDate",
    "DueDate",
    "Total",
    "InventoryItemCode",
    "Description",
    "Quantity",
    "UnitAmount",
    "AccountCode",
    "TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
)


@dataclass(frozen=True)
class Template:
    columns: tuple[str, ...]
    required: tuple[str, ...]
    invoice_type: str
    credit_type: str


TEMPLATES = {
    "sales": Template(
        columns=(*_COMMON, "Reference", "Discount", "BrandingTheme"),
        required=(
            "ContactName",
            "InvoiceNumber",
            "InvoiceDate",
            "DueDate",
            "Description",
            "Quantity",
            "UnitAmount",
            "AccountCode",
            "TaxType",
        ),
        invoice_type="ACCREC",
        credit_type="ACCRECCREDIT",
    ),
    "bills": Template(
        columns=_COMMON,
        required=(
            "ContactName",
            "InvoiceNumber",
            "InvoiceDate",
            "DueDate",
            "Quantity",
            "UnitAmount",
            "AccountCode",
            "TaxType",
        ),
        invoice_type="ACCPAY",
        credit_type="ACCPAYCREDIT",
    ),
}

_FRIENDLY_FORMATS = {"DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYY-MM-DD": "%Y-%m-%d"}
# Header cells that must agree on every row of one document.
_HEADER_FIELDS = ("ContactName", "InvoiceDate", "DueDate", "Currency", "Total")


@dataclass
class _Group:
    key: tuple[str, ...]
    first_row: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class ImportOutcome:
    errors: list[Json]
    created: list[Json]


def _error(row: int, number: str, message: str) -> Json:
    return {"Row": row, "InvoiceNumber": number, "Message": message}


def _decimal(text: str) -> Decimal | None:
    value = d.dec(text.replace(",", "") if text else text)
    return None if value.is_nan() else value


def _parse_date(text: str, pattern: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), pattern).date()
    except ValueError:
        return None


def _read(body: bytes, template: Template) -> tuple[list[tuple[int, dict[str, str]]], list[Json]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_error(0, "", "The file is not UTF-8 encoded CSV.")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return [], [_error(1, "", "The file is empty.")]
    names = [cell.strip().lstrip("*").strip() for cell in header]
    missing = [c for c in template.required if c not in names]
    if missing:
        return [], [
            _error(1, "", f"The required column '*{c}' is missing from the file.") for c in missing
        ]
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # Xero skips blank rows
        row = {
            name: (cells[i].strip() if i < len(cells) else "")
            for i, name in enumerate(names)
            if name in template.columns
        }
        rows.append((number, row))
    if not rows:
        return [], [_error(2, "", "The file has no rows to import.")]
    return rows, []


def import_file(
    sb: Sandbox,
    tenant_id: str,
    org: Json,
    kind: str,
    body: bytes,
    *,
    date_format: str = "%d/%m/%Y",
    amounts: str = "exclusive",
) -> ImportOutcome:
    """Validate a whole import file, then create its documents (all or nothing)."""
    template = TEMPLATES[kind]
    pattern = _FRIENDLY_FORMATS.get(date_format.upper(), date_format)
    rows, errors = _read(body, template)
    if errors:
        return ImportOutcome(errors, [])
    rates_by_name = {
        str(t["Name"]).strip().lower(): t
        for t in sb.store.list_docs(tenant_id, "taxrate")
        if t.get("Status") == "ACTIVE"
    }

    groups: dict[tuple[str, ...], _Group] = {}
    for row_number, row in rows:
        number = row.get("InvoiceNumber", "")
        for column in template.required:
            if not row.get(column):
                errors.append(_error(row_number, number, f"*{column} is required."))
        for column in ("InvoiceDate", "DueDate"):
            if row.get(column) and _parse_date(row[column], pattern) is None:
                errors.append(
                    _error(
                        row_number,
                        number,
                        f"{column} '{row[column]}' is not a valid date in the format "
                        f"{_shown(pattern)}.",
                    )
                )
        for column in ("Quantity", "UnitAmount", "Discount", "TaxAmount", "Total"):
            if row.get(column) and _decimal(row[column]) is None:
                errors.append(
                    _error(row_number, number, f"{column} '{row[column]}' is not a number.")
                )
        tax_name = row.get("TaxType", "")
        if tax_name and tax_name.lower() not in rates_by_name:
            errors.append(
                _error(
                    row_number,
                    number,
                    f"The tax rate '{tax_name}' does not exist in this organisation. Use the "
                    "tax rate's name as shown in Xero, e.g. '20% (VAT on Income)'.",
                )
            )
        for i in (1, 2):
            if bool(row.get(f"TrackingName{i}")) != bool(row.get(f"TrackingOption{i}")):
                errors.append(
                    _error(
                        row_number, number, f"TrackingName{i} and TrackingOption{i} go together."
                    )
                )
        key = (number,) if kind == "sales" else (number, row.get("ContactName", "").lower())
        group = groups.setdefault(key, _Group(key=key, first_row=row_number))
        group.rows.append((row_number, row))

    if len(groups) > MAX_DOCUMENTS:
        errors.append(
            _error(0, "", f"The file has {len(groups)} documents; import at most {MAX_DOCUMENTS}.")
        )
    if errors:
        return ImportOutcome(errors, [])

    prepared: list[tuple[d.Kind, d.Prepared]] = []
    numbers: dict[str, set[str]] = {"invoice": set(), "creditnote": set()}
    for group in groups.values():
        first_row, first = group.rows[0]
        number = first["InvoiceNumber"]
        for row_number, row in group.rows[1:]:
            for column in _HEADER_FIELDS:
                if row.get(column, "") != first.get(column, ""):
                    errors.append(
                        _error(
                            row_number,
                            number,
                            f"{column} differs between the rows of {number}.",
                        )
                    )
        item, kind_ = _document_item(template, group, rates_by_name, pattern, amounts)
        if kind == "bills" and _bill_exists(sb, tenant_id, kind_, item):
            errors.append(
                _error(
                    first_row,
                    number,
                    f"A bill numbered {number} from {first['ContactName']} already exists.",
                )
            )
        result = d.prepare_document(
            sb,
            tenant_id,
            org,
            kind_,
            item,
            allow_update_by_number=False,
            batch_numbers=numbers[kind_.store_kind],
            unitdp=4,
        )
        errors.extend(_error(first_row, number, message) for message in result.errors)
        prepared.append((kind_, result))
    if errors:
        return ImportOutcome(errors, [])

    created = []
    with sb.store.transaction():
        for kind_, result in prepared:
            doc = d.commit_document(sb, tenant_id, kind_, result, "xero-import")
            created.append(
                {
                    "Type": doc["Type"],
                    "ID": doc[kind_.id_field],
                    "Number": doc.get(kind_.number_field, ""),
                    "ContactName": doc["Contact"]["Name"],
                    "Status": doc["Status"],
                    "SubTotal": doc["SubTotal"],
                    "TotalTax": doc["TotalTax"],
                    "Total": doc["Total"],
                    "LineCount": len(doc.get("LineItems", [])),
                }
            )
    return ImportOutcome([], created)


def _shown(pattern: str) -> str:
    return {v: k for k, v in _FRIENDLY_FORMATS.items()}.get(pattern, pattern)


def _document_item(
    template: Template,
    group: _Group,
    rates_by_name: dict[str, Json],
    pattern: str,
    amounts: str,
) -> tuple[Json, d.Kind]:
    """The group as an API-shaped document, a credit note when its lines sum below zero."""
    _, first = group.rows[0]
    lines = []
    direction = Decimal(0)
    for _, row in group.rows:
        quantity = _decimal(row.get("Quantity") or "1") or Decimal(0)
        unit = _decimal(row.get("UnitAmount") or "0") or Decimal(0)
        discount = _decimal(row.get("Discount") or "0") or Decimal(0)
        tax = _decimal(row["TaxAmount"]) if row.get("TaxAmount") else None
        direction += quantity * unit * (Decimal(100) - discount) / Decimal(100) + (tax or 0)
        lines.append((row, quantity, unit, discount, tax))
    credit = direction < 0
    sign = Decimal(-1) if credit else Decimal(1)
    line_items = []
    for row, quantity, unit, discount, tax in lines:
        line: Json = {
            "Description": row.get("Description", ""),
            "Quantity": str(quantity),
            "UnitAmount": str(sign * unit),
            "AccountCode": row.get("AccountCode", ""),
            "TaxType": rates_by_name[row["TaxType"].lower()]["TaxType"],
        }
        if discount:
            line["DiscountRate"] = str(discount)
        if tax is not None:
            line["TaxAmount"] = str(sign * tax)
        tracking = [
            {"Name": row[f"TrackingName{i}"], "Option": row[f"TrackingOption{i}"]}
            for i in (1, 2)
            if row.get(f"TrackingName{i}")
        ]
        if tracking:
            line["Tracking"] = tracking
        line_items.append(line)
    kind = d.CREDIT_NOTE if credit else d.INVOICE
    address = {
        "AddressType": "POBOX",
        **{f"AddressLine{i}": first.get(f"POAddressLine{i}", "") for i in (1, 2, 3, 4)},
        "City": first.get("POCity", ""),
        "Region": first.get("PORegion", ""),
        "PostalCode": first.get("POPostalCode", ""),
        "Country": first.get("POCountry", ""),
    }
    contact: Json = {"Name": first["ContactName"], "Addresses": [address]}
    if first.get("EmailAddress"):
        contact["EmailAddress"] = first["EmailAddress"]
    issue = _parse_date(first["InvoiceDate"], pattern)
    due = _parse_date(first["DueDate"], pattern)
    item: Json = {
        "Type": template.credit_type if credit else template.invoice_type,
        "Contact": contact,
        kind.number_field: first["InvoiceNumber"],
        "Date": issue.isoformat() if issue else None,
        "DueDate": due.isoformat() if due else None,
        "Status": "DRAFT",
        "LineAmountTypes": "Inclusive" if amounts == "inclusive" else "Exclusive",
        "LineItems": line_items,
    }
    if first.get("Reference"):
        item["Reference"] = first["Reference"]
    if first.get("Currency"):
        item["CurrencyCode"] = first["Currency"]
    if first.get("Total"):
        total = _decimal(first["Total"])
        if total is not None:
            item["Total"] = str(sign * total)
    return item, kind


def _bill_exists(sb: Sandbox, tenant_id: str, kind: d.Kind, item: Json) -> bool:
    number = str(item[kind.number_field])
    name = str(item["Contact"]["Name"]).strip().lower()
    return any(
        str(doc.get("Contact", {}).get("Name", "")).strip().lower() == name
        and doc.get("Status") not in {"DELETED", "VOIDED"}
        for doc in sb.store.get_doc_by_number(tenant_id, kind.store_kind, number)
    )


async def import_endpoint(request: Request) -> Response:
    sb = sb_of(request)
    org = sb.store.get_org(request.path_params["tenant_id"].lower())
    kind = request.path_params["kind"]
    if org is None or kind not in TEMPLATES:
        return not_found()
    amounts = request.query_params.get("amounts", "exclusive").lower()
    if amounts not in {"exclusive", "inclusive"}:
        return json_response({"error": "amounts must be exclusive or inclusive"}, status=400)
    outcome = import_file(
        sb,
        org["OrganisationID"],
        org,
        kind,
        await request.body(),
        date_format=request.query_params.get("date_format", "%d/%m/%Y"),
        amounts=amounts,
    )
    if outcome.errors:
        return json_response(
            {
                "Message": "The file was not imported. Fix these rows and import it again.",
                "Errors": outcome.errors,
            },
            status=400,
        )
    return json_response(_summary(outcome.created))


def _summary(created: Iterable[Json]) -> Json:
    items = list(created)
    return {
        "Imported": len(items),
        "Invoices": [c for c in items if c["Type"] in d.INVOICE_TYPES],
        "CreditNotes": [c for c in items if c["Type"] in d.CREDIT_TYPES],
    }
