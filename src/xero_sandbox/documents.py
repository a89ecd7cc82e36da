"""Invoices, credit notes, payments and allocations: Xero's rules and arithmetic.

These functions work on the store directly and are shared by the accounting API
and the control API's simulated Xero user. Each ``prepare_*`` validates one
submitted item without side effects and returns the document to save plus
Xero's validation messages; ``commit_*`` saves and queues webhooks, so a batch
can be checked in full before anything is written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .dates import (
    date_string,
    display_date,
    latest_ms_date,
    ms_date,
    parse_date,
)
from .state import Sandbox
from .store import Json

TWO = Decimal("0.01")
FOUR = Decimal("0.0001")

INVOICE_TYPES = {"ACCREC", "ACCPAY"}
CREDIT_TYPES = {"ACCRECCREDIT", "ACCPAYCREDIT"}
SALES_TYPES = {"ACCREC", "ACCRECCREDIT"}
EDITABLE = {"DRAFT", "SUBMITTED", "AUTHORISED"}
LINE_AMOUNT_TYPES = {"exclusive": "Exclusive", "inclusive": "Inclusive", "notax": "NoTax"}

MSG_NOT_MODIFIABLE = "Invoice not of valid status for modification"
MSG_NOT_CREATABLE = "Invoice not of valid status for creation"
MSG_HAS_PAYMENTS = (
    "This document cannot be edited as it has a payment or credit note allocated to it."
)
MSG_NO_CONTACT = "A Contact must be specified for this type of transaction"
MSG_DUPLICATE_NUMBER = "Invoice # must be unique."
MSG_TOTAL = "The document total does not equal the sum of the lines."
MSG_PAYMENT_TOO_BIG = "Payment amount exceeds the amount outstanding on this document"


def dec(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("NaN")


def money(value: Decimal) -> float:
    return float(value.quantize(TWO, rounding=ROUND_HALF_UP))


def round2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class Kind:
    """Invoice and credit note differ only in names."""

    store_kind: str
    id_field: str
    number_field: str
    collection: str
    types: set[str]
    number_prefix: dict[str, str]
    duplicate_message: str


INVOICE = Kind(
    "invoice",
    "InvoiceID",
    "InvoiceNumber",
    "Invoices",
    INVOICE_TYPES,
    {"ACCREC": "INV-"},
    MSG_DUPLICATE_NUMBER,
)
CREDIT_NOTE = Kind(
    "creditnote",
    "CreditNoteID",
    "CreditNoteNumber",
    "CreditNotes",
    CREDIT_TYPES,
    {"ACCRECCREDIT": "CN-"},
    "Credit Note # must be unique.",
)


@dataclass
class Prepared:
    doc: Json
    errors: list[str]
    created: bool
    new_contact: Json | None = None


def public(doc: Json) -> Json:
    """A stored document without the sandbox's private ``_`` fields."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


# -- lookups -------------------------------------------------------------------------
def accounts_by_code(sb: Sandbox, tenant_id: str) -> dict[str, Json]:
    return {a["Code"].upper(): a for a in sb.store.list_docs(tenant_id, "account") if a.get("Code")}


def tax_rates(sb: Sandbox, tenant_id: str) -> dict[str, Json]:
    return {t["TaxType"].upper(): t for t in sb.store.list_docs(tenant_id, "taxrate")}


def find_contact(sb: Sandbox, tenant_id: str, ref: Json) -> Json | None:
    if ref.get("ContactID"):
        return sb.store.get_doc(tenant_id, "contact", str(ref["ContactID"]))
    contacts = sb.store.list_docs(tenant_id, "contact")
    if ref.get("ContactNumber"):
        number = str(ref["ContactNumber"])
        return next((c for c in contacts if c.get("ContactNumber") == number), None)
    if ref.get("Name"):
        name = str(ref["Name"]).strip().lower()
        return next(
            (
                c
                for c in contacts
                if str(c.get("Name", "")).strip().lower() == name
                and c.get("ContactStatus") == "ACTIVE"
            ),
            None,
        )
    return None


def new_contact_doc(sb: Sandbox, fields: Json) -> Json:
    doc: Json = {
        "ContactID": str(uuid.uuid4()),
        "ContactStatus": "ACTIVE",
        "Name": str(fields.get("Name", "")).strip(),
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "BankAccountDetails": "",
        "SalesTrackingCategories": [],
        "PurchasesTrackingCategories": [],
        "IsSupplier": False,
        "IsCustomer": False,
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    for key, value in fields.items():
        if key not in {"ContactID", "UpdatedDateUTC", "ValidationErrors", "HasValidationErrors"}:
            doc[key] = value
    return doc


# What Xero fills in on every address and phone of a contact, empty when not given
# (documented contact answers; the recorded organisation's address likewise). Address
# lines appear only when set.
ADDRESS_BLANKS = ("City", "Region", "PostalCode", "Country", "AttentionTo")
PHONE_BLANKS = ("PhoneNumber", "PhoneAreaCode", "PhoneCountryCode")


def _with_blanks(items: Any, blanks: tuple[str, ...]) -> Any:
    if not isinstance(items, list):
        return items
    return [
        {**item, **{key: "" for key in blanks if key not in item}}
        if isinstance(item, dict)
        else item
        for item in items
    ]


def save_contact(sb: Sandbox, tenant_id: str, doc: Json, *, created: bool) -> Json:
    now = sb.clock.now()
    doc["Addresses"] = _with_blanks(doc.get("Addresses", []), ADDRESS_BLANKS)
    doc["Phones"] = _with_blanks(doc.get("Phones", []), PHONE_BLANKS)
    doc["UpdatedDateUTC"] = ms_date(now)
    sb.store.put_doc(
        tenant_id, "contact", doc["ContactID"], doc, number=doc.get("ContactNumber"), updated=now
    )
    sb.webhooks.record(
        tenant_id=tenant_id,
        category="CONTACT",
        event_type="CREATE" if created else "UPDATE",
        resource_id=doc["ContactID"],
        api_root=sb.api_root,
    )
    return doc


def prepare_contact(
    sb: Sandbox, tenant_id: str, item: Json, *, update_by_keys: bool, batch_names: set[str]
) -> tuple[Json, list[str], bool]:
    """Validate one submitted contact as Xero does: (contact to save, errors, created)."""
    errors: list[str] = []
    existing = None
    if item.get("ContactID"):
        existing = sb.store.get_doc(tenant_id, "contact", str(item["ContactID"]))
        if existing is None:
            return (
                dict(item),
                [f"The contact with ContactID {item['ContactID']} does not exist."],
                False,
            )
    elif update_by_keys and item.get("ContactNumber"):
        existing = find_contact(sb, tenant_id, {"ContactNumber": item["ContactNumber"]})
    if existing is None and update_by_keys and item.get("Name") and not item.get("ContactNumber"):
        existing = find_contact(sb, tenant_id, {"Name": item["Name"]})
    created = existing is None
    doc = dict(existing) if existing else new_contact_doc(sb, {"Name": item.get("Name", "")})
    for key, value in item.items():
        if key not in {"ContactID", "UpdatedDateUTC", "ValidationErrors", "HasValidationErrors"}:
            doc[key] = value
    name = str(doc.get("Name") or "").strip()
    doc["Name"] = name
    if not name:
        errors.append("The contact name must be specified.")
    else:
        others = [
            c
            for c in sb.store.list_docs(tenant_id, "contact")
            if c["ContactID"] != doc["ContactID"] and c.get("ContactStatus") == "ACTIVE"
        ]
        if any(c["Name"].strip().lower() == name.lower() for c in others) or (
            created and name.lower() in batch_names
        ):
            errors.append(
                f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )
        batch_names.add(name.lower())
        number = doc.get("ContactNumber")
        if number and any(c.get("ContactNumber") == number for c in others):
            errors.append(f"The contact number {number} is already assigned to another contact.")
    if doc.get("ContactStatus") not in {"ACTIVE", "ARCHIVED"}:
        errors.append(f"Contact status '{doc.get('ContactStatus')}' is not valid.")
    return doc, errors, created


def lock_date(org: Json) -> date | None:
    dates = [parse_date(org.get(k)) for k in ("PeriodLockDate", "EndOfYearLockDate")]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def lock_message(locked: date) -> str:
    return f"The document date cannot be before the period lock date, currently set to {display_date(locked)}."


# -- invoices and credit notes ---------------------------------------------------------
def find_document(sb: Sandbox, tenant_id: str, kind: Kind, ref: str) -> Json | None:
    """By id, or by number (Xero accepts either in the path)."""
    try:
        uuid.UUID(ref)
        return sb.store.get_doc(tenant_id, kind.store_kind, ref)
    except ValueError:
        found = sb.store.get_doc_by_number(tenant_id, kind.store_kind, ref)
        return found[-1] if found else None


def _next_number(sb: Sandbox, tenant_id: str, kind: Kind, prefix: str, taken: set[str]) -> str:
    existing = {
        d.get(kind.number_field)
        for d in sb.store.list_docs(tenant_id, kind.store_kind)
        if d.get(kind.number_field)
    }
    n = sum(1 for e in existing if str(e).startswith(prefix)) + 1
    while f"{prefix}{n:04d}" in existing or f"{prefix}{n:04d}" in taken:
        n += 1
    return f"{prefix}{n:04d}"


def prepare_document(
    sb: Sandbox,
    tenant_id: str,
    org: Json,
    kind: Kind,
    item: Json,
    *,
    allow_update_by_number: bool,
    batch_numbers: set[str],
    unitdp: int = 2,
) -> Prepared:
    """Validate one submitted invoice / credit note as Xero does."""
    errors: list[str] = []
    existing: Json | None = None
    doc_id = item.get(kind.id_field)
    number = item.get(kind.number_field)
    if doc_id:
        existing = sb.store.get_doc(tenant_id, kind.store_kind, str(doc_id))
        if existing is None:
            return Prepared(dict(item), [f"{kind.id_field} {doc_id} does not exist"], False)
    elif number and allow_update_by_number:
        doc_type = item.get("Type")
        matches = [
            d
            for d in sb.store.get_doc_by_number(tenant_id, kind.store_kind, str(number))
            if d["Type"] in kind.number_prefix and (doc_type is None or d["Type"] == doc_type)
        ]
        existing = matches[-1] if matches else None
    created = existing is None
    doc: Json = dict(existing) if existing else {}
    for key, value in item.items():
        if key not in {"ValidationErrors", "Warnings", "StatusAttributeString", "HasErrors"}:
            doc[key] = value

    doc_type = doc.get("Type")
    if doc_type not in kind.types:
        errors.append(f"{'Invoice' if kind is INVOICE else 'Credit Note'} Type must be specified")
    old_status = existing["Status"] if existing else None
    status = str(doc.get("Status") or old_status or "DRAFT").upper()
    doc["Status"] = status

    # Status rules
    if existing:
        has_money = dec(existing.get("AmountPaid")) > 0 or dec(existing.get("AmountCredited")) > 0
        if kind is CREDIT_NOTE:
            has_money = bool(existing.get("Allocations")) or bool(existing.get("Payments"))
        if old_status not in EDITABLE:
            errors.append(MSG_NOT_MODIFIABLE)
        elif old_status == "AUTHORISED" and has_money:
            errors.append(MSG_HAS_PAYMENTS)
        elif (old_status == "AUTHORISED" and status not in {"AUTHORISED", "VOIDED"}) or (
            old_status in {"DRAFT", "SUBMITTED"}
            and status
            not in {
                "DRAFT",
                "SUBMITTED",
                "AUTHORISED",
                "DELETED",
            }
        ):
            errors.append(MSG_NOT_MODIFIABLE)
    elif status not in {"DRAFT", "SUBMITTED", "AUTHORISED"}:
        errors.append(MSG_NOT_CREATABLE)

    # Contact
    new_contact: Json | None = None
    contact_ref = doc.get("Contact") if isinstance(doc.get("Contact"), dict) else None
    if not contact_ref or not any(
        contact_ref.get(k) for k in ("ContactID", "ContactNumber", "Name")
    ):
        errors.append(MSG_NO_CONTACT)
    else:
        contact = find_contact(sb, tenant_id, contact_ref)
        if contact is None and contact_ref.get("ContactID"):
            errors.append(f"The contact with ContactID {contact_ref['ContactID']} does not exist.")
        elif contact is None and contact_ref.get("Name"):
            # Xero creates a contact when a document names one it does not know.
            new_contact = new_contact_doc(sb, contact_ref)
            contact = new_contact
        elif contact is None:
            errors.append(MSG_NO_CONTACT)
        if contact is not None:
            doc["Contact"] = _contact_summary(contact)

    # Currency
    currency = str(doc.get("CurrencyCode") or org.get("BaseCurrency") or "GBP").upper()
    enabled = org.get("_currencies") or [org.get("BaseCurrency") or "GBP"]
    if currency not in enabled:
        errors.append(f"Organisation is not subscribed to currency {currency}")
    doc["CurrencyCode"] = currency
    doc.setdefault("CurrencyRate", 1.0)

    # Dates
    today = sb.clock.now_dt().date()
    doc_date = parse_date(doc.get("Date")) if doc.get("Date") else today
    if doc_date is None:
        errors.append("The date is not a valid date.")
        doc_date = today
    doc["Date"] = ms_date(doc_date)
    doc["DateString"] = date_string(doc_date)
    if doc.get("DueDate"):
        due = parse_date(doc.get("DueDate"))
        if due is None:
            errors.append("The due date is not a valid date.")
        else:
            doc["DueDate"] = ms_date(due)
            doc["DueDateString"] = date_string(due)
    locked = lock_date(org)
    if locked:
        # An approved document dated in a locked period stays there, whatever its new date.
        old_date = parse_date(existing.get("Date")) if existing else None
        was_locked = old_status == "AUTHORISED" and old_date is not None and old_date <= locked
        if was_locked or (doc_date <= locked and status in {"AUTHORISED", "VOIDED"}):
            errors.append(lock_message(locked))

    # Number
    prefix = kind.number_prefix.get(str(doc_type))
    if prefix is not None:  # sales documents: numbered by Xero, must be unique
        if not doc.get(kind.number_field):
            doc[kind.number_field] = _next_number(sb, tenant_id, kind, prefix, batch_numbers)
        number = str(doc[kind.number_field])
        clash = [
            d
            for d in sb.store.get_doc_by_number(tenant_id, kind.store_kind, number)
            if d["Type"] == doc_type and d[kind.id_field] != doc.get(kind.id_field)
        ]
        if clash or (created and number in batch_numbers):
            errors.append(kind.duplicate_message)
        batch_numbers.add(number)
    elif doc.get(kind.number_field) is None:
        doc[kind.number_field] = ""

    # Lines and totals
    errors.extend(_price_lines(sb, tenant_id, doc, unitdp=unitdp))
    if status != "DRAFT" and not doc.get("LineItems") and status != "DELETED":
        errors.append("One or more line items must be specified")
    if item.get("Total") is not None and dec(item["Total"]) != dec(doc["Total"]):
        errors.append(MSG_TOTAL)

    if created:
        doc[kind.id_field] = str(uuid.uuid4())
        doc.setdefault("Reference", "")
        doc["HasAttachments"] = False
        if kind is INVOICE:
            doc.update({"Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": []})
            doc.update({"AmountPaid": 0.0, "AmountCredited": 0.0})
            if doc_type == "ACCREC":
                # Xero gives every sales invoice a branding theme: the organisation's
                # default unless the request names one (recorded on all 38 of a page).
                doc.setdefault("BrandingThemeID", default_branding_theme_id(tenant_id))
        else:
            doc.update({"Allocations": [], "Payments": []})
            # Xero repeats a credit note's id as ``ID`` (documented answers; the recorded
            # invoices' ``CreditNotes[]`` carry it too).
            doc["ID"] = doc[kind.id_field]
    doc["HasErrors"] = bool(errors)
    _amounts(doc, kind)
    if status == "VOIDED" or status == "DELETED":
        if kind is INVOICE:
            doc["AmountDue"] = 0.0
        else:
            doc["RemainingCredit"] = 0.0
    doc.pop("ValidationErrors", None)
    return Prepared(doc, errors, created, new_contact)


def default_branding_theme_id(tenant_id: str) -> str:
    """The organisation's "Standard" branding theme (stable per organisation)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox/{tenant_id}/branding-theme/standard"))


def document_contact(contact: Json) -> Json:
    """The contact as Xero embeds it in a document read or written on its own: the whole
    contact but its attachments flag (Xero's documented GET /Invoices/{id}, PUT /Invoices,
    PUT and GET /CreditNotes answers). Lists carry the summary below (recorded)."""
    return {k: v for k, v in public(contact).items() if k != "HasAttachments"}


def _contact_summary(contact: Json) -> Json:
    summary = {
        "ContactID": contact["ContactID"],
        "Name": contact.get("Name", ""),
        "Addresses": contact.get("Addresses", []),
        "Phones": contact.get("Phones", []),
        "ContactGroups": contact.get("ContactGroups", []),
        "ContactPersons": contact.get("ContactPersons", []),
        "HasValidationErrors": False,
    }
    if contact.get("ContactNumber"):
        summary["ContactNumber"] = contact["ContactNumber"]
    if contact.get("EmailAddress"):
        summary["EmailAddress"] = contact["EmailAddress"]
    return summary


def _price_lines(sb: Sandbox, tenant_id: str, doc: Json, *, unitdp: int) -> list[str]:
    errors: list[str] = []
    lat_raw = str(doc.get("LineAmountTypes") or "Exclusive")
    lat = LINE_AMOUNT_TYPES.get(lat_raw.lower())
    if lat is None:
        errors.append(f"LineAmountTypes '{lat_raw}' is not valid.")
        lat = "Exclusive"
    doc["LineAmountTypes"] = lat
    lines = doc.get("LineItems") or []
    if not isinstance(lines, list):
        return ["LineItems must be a list."]
    sales = doc.get("Type") in SALES_TYPES
    accounts = accounts_by_code(sb, tenant_id)
    rates = tax_rates(sb, tenant_id)
    categories = [c for c in sb.store.list_docs(tenant_id, "tracking") if c["Status"] == "ACTIVE"]
    unit_quantum = FOUR if unitdp == 4 else TWO
    sub_total = Decimal(0)
    total_tax = Decimal(0)
    priced = []
    for raw in lines:
        line = dict(raw) if isinstance(raw, dict) else {}
        line.setdefault("LineItemID", str(uuid.uuid4()))
        line.pop("ValidationErrors", None)
        # Account
        account = None
        code = line.get("AccountCode")
        if code not in (None, ""):
            account = accounts.get(str(code).upper())
            if account is None or account["Type"] == "BANK" or account["Status"] == "DELETED":
                errors.append(f"Account code '{code}' is not a valid code for this document.")
                account = None
            elif account["Status"] == "ARCHIVED":
                errors.append(
                    f"Account code '{code}' has been archived, or has been deleted. "
                    "Each line item must reference a valid account."
                )
            else:
                line["AccountCode"] = account["Code"]
                line["AccountID"] = account["AccountID"]
        # Tax
        tax_type = line.get("TaxType")
        if lat == "NoTax":
            tax_type = "NONE"
        elif tax_type in (None, "") and account is not None:
            tax_type = account.get("TaxType")
        rate = Decimal(0)
        if tax_type not in (None, ""):
            tax = rates.get(str(tax_type).upper())
            usable = tax is not None and tax["Status"] == "ACTIVE"
            if usable and tax is not None:
                usable = bool(tax["CanApplyToRevenue"] if sales else tax["CanApplyToExpenses"])
            if not usable or tax is None:
                errors.append(
                    f"The TaxType code '{tax_type}' does not exist or cannot be used "
                    "for this type of transaction."
                )
            else:
                line["TaxType"] = tax["TaxType"]
                rate = dec(tax["EffectiveRate"])
        # Tracking
        tracking_out = []
        for t in line.get("Tracking") or []:
            if not isinstance(t, dict):
                continue
            category = next(
                (
                    c
                    for c in categories
                    if (
                        t.get("TrackingCategoryID")
                        and c["TrackingCategoryID"] == t["TrackingCategoryID"]
                    )
                    or (t.get("Name") and c["Name"].lower() == str(t["Name"]).lower())
                ),
                None,
            )
            if category is None:
                errors.append(
                    f"The tracking category '{t.get('Name') or t.get('TrackingCategoryID')}' does not exist."
                )
                continue
            option = next(
                (
                    o
                    for o in category["Options"]
                    if o["Status"] == "ACTIVE"
                    and (
                        (
                            t.get("TrackingOptionID")
                            and o["TrackingOptionID"] == t["TrackingOptionID"]
                        )
                        or (t.get("Option") and o["Name"].lower() == str(t["Option"]).lower())
                    )
                ),
                None,
            )
            if option is None:
                errors.append(
                    f"The tracking option '{t.get('Option') or t.get('TrackingOptionID')}' "
                    f"does not exist for the tracking category '{category['Name']}'."
                )
                continue
            tracking_out.append(
                {
                    "TrackingCategoryID": category["TrackingCategoryID"],
                    "TrackingOptionID": option["TrackingOptionID"],
                    "Name": category["Name"],
                    "Option": option["Name"],
                    "Options": [],  # as Xero writes a line's tracking (recorded)
                }
            )
        line["Tracking"] = tracking_out
        # Amounts
        quantity = dec(line.get("Quantity"), "1")
        given_line_amount = line.get("LineAmount")
        if line.get("UnitAmount") in (None, "") and given_line_amount not in (None, ""):
            unit = (dec(given_line_amount) / quantity) if quantity else Decimal(0)
        else:
            unit = dec(line.get("UnitAmount"))
        if quantity.is_nan() or unit.is_nan():
            errors.append("Quantity and UnitAmount must be numbers.")
            quantity, unit = Decimal(0), Decimal(0)
        unit = unit.quantize(unit_quantum, rounding=ROUND_HALF_UP)
        gross = quantity * unit
        discount_rate = dec(line.get("DiscountRate"))
        if line.get("DiscountRate") not in (None, ""):
            gross = gross * (Decimal(100) - discount_rate) / Decimal(100)
        line_amount = round2(gross)
        if (
            given_line_amount not in (None, "")
            and line.get("UnitAmount") not in (None, "")
            and round2(dec(given_line_amount)) != line_amount
        ):
            errors.append(
                f"The line amount {money(dec(given_line_amount)):.2f} does not equal "
                f"the quantity multiplied by the unit amount ({money(line_amount):.2f})."
            )
        if lat == "Inclusive":
            tax_amount = round2(line_amount * rate / (Decimal(100) + rate))
            net = line_amount - tax_amount
        else:
            tax_amount = (
                round2(line_amount * rate / Decimal(100)) if lat == "Exclusive" else Decimal(0)
            )
            net = line_amount
        if line.get("TaxAmount") not in (None, "") and lat != "NoTax":
            given_tax = round2(dec(line["TaxAmount"]))
            # Xero lets a client adjust tax for rounding, not rewrite it.
            if abs(given_tax - tax_amount) <= Decimal("0.05"):
                if lat == "Inclusive":
                    net = line_amount - given_tax
                tax_amount = given_tax
        line["Quantity"] = float(quantity)
        line["UnitAmount"] = float(unit)
        line["LineAmount"] = money(line_amount)
        line["TaxAmount"] = money(tax_amount)
        if line.get("DiscountRate") not in (None, ""):
            line["DiscountRate"] = float(discount_rate)
        sub_total += net
        total_tax += tax_amount
        priced.append(line)
    doc["LineItems"] = priced
    doc["SubTotal"] = money(sub_total)
    doc["TotalTax"] = money(total_tax)
    doc["Total"] = money(sub_total + total_tax)
    return errors


def _amounts(doc: Json, kind: Kind) -> None:
    total = dec(doc.get("Total"))
    if kind is INVOICE:
        paid = dec(doc.get("AmountPaid"))
        credited = dec(doc.get("AmountCredited"))
        doc["AmountPaid"] = money(paid)
        doc["AmountCredited"] = money(credited)
        doc["AmountDue"] = money(total - paid - credited)
        doc["IsDiscounted"] = any(line.get("DiscountRate") for line in doc.get("LineItems", []))
    else:
        allocated = sum((dec(a.get("Amount")) for a in doc.get("Allocations", [])), Decimal(0))
        paid = sum((dec(p.get("Amount")) for p in doc.get("Payments", [])), Decimal(0))
        # No AppliedAmount on the credit note itself: Xero shows it only on the credit
        # note as listed inside an invoice (recorded), none of its documented credit
        # notes carries one, even one with credit used.
        doc.pop("AppliedAmount", None)
        doc["RemainingCredit"] = money(total - allocated - paid)


def commit_document(
    sb: Sandbox, tenant_id: str, kind: Kind, prepared: Prepared, client_id: str
) -> Json:
    now = sb.clock.now()
    doc = prepared.doc
    with sb.store.transaction():
        contact: Json | None
        if prepared.new_contact is not None:
            # An earlier document in the same batch may have created this contact already.
            twin = find_contact(sb, tenant_id, {"Name": prepared.new_contact["Name"]})
            if twin is not None:
                doc["Contact"] = _contact_summary(twin)
                prepared.new_contact = None
        if prepared.new_contact is not None:
            contact = prepared.new_contact
            contact["IsCustomer" if doc["Type"] in SALES_TYPES else "IsSupplier"] = True
            save_contact(sb, tenant_id, contact, created=True)
        else:
            contact = sb.store.get_doc(tenant_id, "contact", doc["Contact"]["ContactID"])
            flag = "IsCustomer" if doc["Type"] in SALES_TYPES else "IsSupplier"
            if contact is not None and not contact.get(flag):
                contact[flag] = True
                save_contact(sb, tenant_id, contact, created=False)
        if prepared.created:
            doc["_created_by"] = client_id
        doc["UpdatedDateUTC"] = ms_date(now)
        if kind is INVOICE:
            doc["HasErrors"] = False
        else:  # Xero's credit notes carry no HasErrors (documented answers, three of them)
            doc.pop("HasErrors", None)
        save_document(sb, tenant_id, kind, doc, created=prepared.created, now=now)
    return doc


def save_document(
    sb: Sandbox, tenant_id: str, kind: Kind, doc: Json, *, created: bool, now: float
) -> None:
    doc["UpdatedDateUTC"] = ms_date(now)
    sb.store.put_doc(
        tenant_id,
        kind.store_kind,
        doc[kind.id_field],
        doc,
        number=doc.get(kind.number_field) or None,
        updated=now,
    )
    sb.webhooks.record(
        tenant_id=tenant_id,
        category="INVOICE" if kind is INVOICE else "CREDITNOTE",
        event_type="CREATE" if created else "UPDATE",
        resource_id=doc[kind.id_field],
        api_root=sb.api_root,
        data=None if kind is INVOICE else {"Type": doc["Type"], "Status": doc["Status"]},
    )


def document_view(doc: Json, *, with_lines: bool = True) -> Json:
    view = public(doc)
    if not with_lines:
        view.pop("LineItems", None)
    return view


# -- payments ------------------------------------------------------------------------
def prepare_payment(
    sb: Sandbox, tenant_id: str, org: Json, item: Json
) -> tuple[Json, list[str], Json | None]:
    """Validate a payment against an invoice; returns (payment, errors, invoice)."""
    errors: list[str] = []
    invoice_ref: Json = item["Invoice"] if isinstance(item.get("Invoice"), dict) else {}
    invoice = None
    if invoice_ref.get("InvoiceID"):
        invoice = sb.store.get_doc(tenant_id, "invoice", str(invoice_ref["InvoiceID"]))
    elif invoice_ref.get("InvoiceNumber"):
        found = sb.store.get_doc_by_number(tenant_id, "invoice", str(invoice_ref["InvoiceNumber"]))
        invoice = found[-1] if found else None
    if invoice is None:
        errors.append("Invoice could not be found")
    account_ref: Json = item["Account"] if isinstance(item.get("Account"), dict) else {}
    account = None
    if account_ref.get("AccountID"):
        account = sb.store.get_doc(tenant_id, "account", str(account_ref["AccountID"]))
    elif account_ref.get("Code"):
        account = accounts_by_code(sb, tenant_id).get(str(account_ref["Code"]).upper())
    if account is None:
        errors.append("Account could not be found")
    elif account["Type"] != "BANK" and not account.get("EnablePaymentsToAccount"):
        errors.append(
            "Payments can only be made to BANK accounts or accounts with payments enabled."
        )
    elif account["Status"] != "ACTIVE":
        errors.append(f"Account code '{account['Code']}' has been archived, or has been deleted.")
    amount = round2(dec(item.get("Amount")))
    if amount.is_nan() or amount <= 0:
        errors.append("Payment amount must be greater than zero.")
    today = sb.clock.now_dt().date()
    pay_date = parse_date(item.get("Date")) if item.get("Date") else today
    if pay_date is None:
        errors.append("The date is not a valid date.")
        pay_date = today
    locked = lock_date(org)
    if locked and pay_date <= locked:
        errors.append(lock_message(locked))
    if invoice is not None:
        if invoice["Status"] != "AUTHORISED":
            errors.append("Payment can only be made against an AUTHORISED document.")
        elif not amount.is_nan() and amount > dec(invoice["AmountDue"]):
            errors.append(MSG_PAYMENT_TOO_BIG)
    payment: Json = {
        "PaymentID": str(uuid.uuid4()),
        "Date": ms_date(pay_date),
        "BankAmount": money(amount) if not amount.is_nan() else 0.0,
        "Amount": money(amount) if not amount.is_nan() else 0.0,
        "Reference": str(item.get("Reference") or ""),
        "CurrencyRate": 1.0,
        "PaymentType": "ACCPAYPAYMENT"
        if invoice is not None and invoice["Type"] == "ACCPAY"
        else "ACCRECPAYMENT",
        "Status": "AUTHORISED",
        "IsReconciled": bool(item.get("IsReconciled", False)),
        "HasAccount": True,
        "HasValidationErrors": bool(errors),
    }
    if account is not None:
        payment["Account"] = {
            "AccountID": account["AccountID"],
            "Code": account["Code"],
            "Name": account.get("Name", ""),
        }
    if invoice is not None:
        payment["Invoice"] = payment_invoice(invoice)
    return payment, errors, invoice


def payment_invoice(invoice: Json, *, with_payments: bool = False) -> Json:
    """The invoice as Xero shows it inside a payment it has just recorded or deleted (and,
    ``with_payments``, when one payment is read): its amounts and dates after the payment,
    its lines, and a contact reduced to id and name (Xero's documented PUT, POST and
    GET /Payments/{id} answers)."""
    summary: Json = {
        "Type": invoice["Type"],
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": invoice.get("InvoiceNumber", ""),
        "Reference": invoice.get("Reference", ""),
    }
    if with_payments:
        summary["Payments"] = [
            {k: v for k, v in p.items() if k != "Reference" or v}
            for p in invoice.get("Payments", [])
        ]
    summary |= {
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": invoice.get("AmountDue", 0.0),
        "AmountPaid": invoice.get("AmountPaid", 0.0),
        "SentToContact": bool(invoice.get("SentToContact", False)),
        "CurrencyRate": invoice.get("CurrencyRate", 1.0),
        "HasErrors": False,
        "IsDiscounted": False,
        "Contact": {
            "ContactID": invoice["Contact"]["ContactID"],
            "Name": invoice["Contact"]["Name"],
            "ContactPersons": [],
            "HasValidationErrors": False,
        },
    }
    for key in ("DateString", "Date", "DueDateString", "DueDate", "Status", "LineAmountTypes"):
        if key in invoice:
            summary[key] = invoice[key]
    summary["LineItems"] = [
        {k: v for k, v in line.items() if k not in {"AccountID", "Tracking"}}
        | {"Tracking": [], "ValidationErrors": []}
        for line in invoice.get("LineItems", [])
    ]
    for key in ("SubTotal", "TotalTax", "Total", "UpdatedDateUTC", "FullyPaidOnDate"):
        if key in invoice:
            summary[key] = invoice[key]
    summary["CurrencyCode"] = invoice.get("CurrencyCode", "GBP")
    return summary


def payment_list_view(payment: Json) -> Json:
    """A payment in ``GET /Payments``: Xero lists its invoice as a bare reference (type,
    id, number, contact, currency; empty collections), not with amounts and lines."""
    invoice = payment.get("Invoice")
    if not invoice:
        return payment
    contact = invoice.get("Contact") or {}
    bare: Json = {
        "Type": invoice["Type"],
        "InvoiceID": invoice["InvoiceID"],
        "InvoiceNumber": invoice.get("InvoiceNumber", ""),
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "HasErrors": False,
        "IsDiscounted": False,
        "Contact": {
            "ContactID": contact.get("ContactID"),
            "ContactNumber": contact.get("ContactNumber", ""),
            "Name": contact.get("Name", ""),
            "Addresses": [],
            "Phones": [],
            "ContactGroups": [],
            "ContactPersons": [],
            "HasValidationErrors": False,
        },
        "LineItems": [],
        "CurrencyCode": invoice.get("CurrencyCode", "GBP"),
    }
    return {**payment, "Invoice": bare}


def commit_payment(sb: Sandbox, tenant_id: str, payment: Json, invoice: Json) -> Json:
    now = sb.clock.now()
    with sb.store.transaction():
        payment["UpdatedDateUTC"] = ms_date(now)
        payment["HasValidationErrors"] = False
        invoice["AmountPaid"] = money(dec(invoice["AmountPaid"]) + dec(payment["Amount"]))
        invoice.setdefault("Payments", []).append(
            {
                "PaymentID": payment["PaymentID"],
                "Date": payment["Date"],
                "Amount": payment["Amount"],
                "Reference": payment["Reference"],
                "CurrencyRate": 1.0,
                "HasAccount": True,
                "HasValidationErrors": False,
            }
        )
        _settle(invoice)
        save_document(sb, tenant_id, INVOICE, invoice, created=False, now=now)
        payment["Invoice"] = payment_invoice(invoice)
        sb.store.put_doc(
            tenant_id, "payment", payment["PaymentID"], payment, number=None, updated=now
        )
    return payment


def _settle(invoice: Json) -> None:
    _amounts(invoice, INVOICE)
    if dec(invoice["AmountDue"]) <= 0 and invoice["Status"] == "AUTHORISED":
        invoice["Status"] = "PAID"
        # Xero's FullyPaidOnDate is the date of the payment (or credit) that settled
        # the invoice, not the moment it was recorded.
        settled_on = latest_ms_date(
            [p.get("Date") for p in invoice.get("Payments", [])]
            + [c.get("Date") for c in invoice.get("CreditNotes", [])]
        )
        invoice["FullyPaidOnDate"] = settled_on or invoice.get("Date")
    elif dec(invoice["AmountDue"]) > 0 and invoice["Status"] == "PAID":
        invoice["Status"] = "AUTHORISED"
        invoice.pop("FullyPaidOnDate", None)


def delete_payment(sb: Sandbox, tenant_id: str, payment: Json) -> Json:
    now = sb.clock.now()
    with sb.store.transaction():
        payment["Status"] = "DELETED"
        payment["UpdatedDateUTC"] = ms_date(now)
        invoice_id = (payment.get("Invoice") or {}).get("InvoiceID")
        invoice = sb.store.get_doc(tenant_id, "invoice", invoice_id) if invoice_id else None
        if invoice is not None:
            invoice["Payments"] = [
                p for p in invoice["Payments"] if p["PaymentID"] != payment["PaymentID"]
            ]
            invoice["AmountPaid"] = money(
                sum((dec(p["Amount"]) for p in invoice["Payments"]), Decimal(0))
            )
            _settle(invoice)
            save_document(sb, tenant_id, INVOICE, invoice, created=False, now=now)
            payment["Invoice"] = payment_invoice(invoice)
        sb.store.put_doc(
            tenant_id, "payment", payment["PaymentID"], payment, number=None, updated=now
        )
    return payment


# -- allocations -------------------------------------------------------------------------
def prepare_allocation(
    sb: Sandbox, tenant_id: str, org: Json, credit_note: Json, item: Json
) -> tuple[Json, list[str], Json | None]:
    errors: list[str] = []
    ref: Json = item["Invoice"] if isinstance(item.get("Invoice"), dict) else {}
    invoice = (
        sb.store.get_doc(tenant_id, "invoice", str(ref["InvoiceID"]))
        if ref.get("InvoiceID")
        else None
    )
    if invoice is None:
        errors.append("Invoice could not be found")
    amount = round2(dec(item.get("Amount")))
    if amount.is_nan() or amount <= 0:
        errors.append("Allocation amount must be greater than zero.")
    if credit_note["Status"] != "AUTHORISED":
        errors.append("Credit note must be AUTHORISED to be allocated.")
    today = sb.clock.now_dt().date()
    alloc_date = parse_date(item.get("Date")) if item.get("Date") else today
    if alloc_date is None:
        errors.append("The date is not a valid date.")
        alloc_date = today
    locked = lock_date(org)
    if locked and alloc_date <= locked:
        errors.append(lock_message(locked))
    if invoice is not None and not amount.is_nan():
        expected_type = "ACCREC" if credit_note["Type"] == "ACCRECCREDIT" else "ACCPAY"
        if invoice["Type"] != expected_type:
            errors.append("The credit note and the invoice must be of matching types.")
        elif invoice["Status"] != "AUTHORISED":
            errors.append(MSG_NOT_MODIFIABLE)
        elif amount > dec(invoice["AmountDue"]):
            errors.append(
                "The amount being allocated exceeds the amount outstanding on the invoice."
            )
        if amount > dec(credit_note["RemainingCredit"]):
            errors.append(
                "The amount being allocated exceeds the remaining credit on the credit note."
            )
    allocation: Json = {
        "AllocationID": str(uuid.uuid4()),
        "Amount": money(amount) if not amount.is_nan() else 0.0,
        "Date": ms_date(alloc_date),
        "IsDeleted": False,
        "CreditNote": {
            "CreditNoteID": credit_note["CreditNoteID"],
            "ID": credit_note["CreditNoteID"],
            "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
            "LineItems": [],
        },
        "ValidationErrors": [],
    }
    if invoice is not None:
        allocation["Invoice"] = {
            "InvoiceID": invoice["InvoiceID"],
            "InvoiceNumber": invoice.get("InvoiceNumber", ""),
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "HasErrors": False,
            "IsDiscounted": False,
            "LineItems": [],
            "ValidationErrors": [],
        }
    return allocation, errors, invoice


def commit_allocation(
    sb: Sandbox, tenant_id: str, credit_note: Json, allocation: Json, invoice: Json
) -> Json:
    now = sb.clock.now()
    with sb.store.transaction():
        credit_note.setdefault("Allocations", []).append(
            {k: v for k, v in allocation.items() if k != "CreditNote"}
        )
        _amounts(credit_note, CREDIT_NOTE)
        if dec(credit_note["RemainingCredit"]) <= 0:
            credit_note["Status"] = "PAID"
            credit_note["FullyPaidOnDate"] = latest_ms_date(
                [a.get("Date") for a in credit_note["Allocations"]]
            ) or credit_note.get("Date")
        save_document(sb, tenant_id, CREDIT_NOTE, credit_note, created=False, now=now)
        invoice["AmountCredited"] = money(
            dec(invoice["AmountCredited"]) + dec(allocation["Amount"])
        )
        invoice.setdefault("CreditNotes", []).append(
            {  # the fields Xero records for a credit note on an invoice
                "CreditNoteID": credit_note["CreditNoteID"],
                "CreditNoteNumber": credit_note.get("CreditNoteNumber", ""),
                "ID": credit_note["CreditNoteID"],
                "HasErrors": False,
                "AppliedAmount": allocation["Amount"],
                "DateString": date_string(
                    parse_date(allocation["Date"]) or sb.clock.now_dt().date()
                ),
                "Date": allocation["Date"],
                "LineItems": [],
                "Total": credit_note["Total"],
            }
        )
        _settle(invoice)
        save_document(sb, tenant_id, INVOICE, invoice, created=False, now=now)
    return allocation


def change_status(
    sb: Sandbox, tenant_id: str, org: Json, kind: Kind, doc: Json, status: str
) -> list[str]:
    """A Xero user's "Void" (an approved document) or "Delete" (a draft or one awaiting
    approval): saves the document with its new status and fires the UPDATE webhook, or
    returns Xero's validation messages instead when it would refuse."""
    errors = []
    current = doc["Status"]
    allowed = {"AUTHORISED"} if status == "VOIDED" else {"DRAFT", "SUBMITTED"}
    if kind is INVOICE:
        has_money = dec(doc.get("AmountPaid")) > 0 or dec(doc.get("AmountCredited")) > 0
    else:
        has_money = bool(doc.get("Allocations")) or bool(doc.get("Payments"))
    if current not in allowed:
        errors.append(MSG_NOT_MODIFIABLE)
    elif has_money:
        errors.append(MSG_HAS_PAYMENTS)
    locked = lock_date(org)
    doc_date = parse_date(doc.get("Date"))
    if status == "VOIDED" and locked and doc_date and doc_date <= locked:
        errors.append(lock_message(locked))
    if errors:
        return errors
    doc["Status"] = status
    if kind is INVOICE:
        doc["AmountDue"] = 0.0
    else:
        doc["RemainingCredit"] = 0.0
    save_document(sb, tenant_id, kind, doc, created=False, now=sb.clock.now())
    return []


def void_invoice(sb: Sandbox, tenant_id: str, org: Json, invoice: Json) -> list[str]:
    """What a Xero user's "Void" does; a draft or submitted invoice is deleted instead
    (Xero offers only "Delete" there). Returns validation messages when refused."""
    target = "DELETED" if invoice["Status"] in {"DRAFT", "SUBMITTED"} else "VOIDED"
    return change_status(sb, tenant_id, org, INVOICE, invoice, target)
