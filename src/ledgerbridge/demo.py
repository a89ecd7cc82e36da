"""The demo: a UK road-haulage company with three months of invoicing.

Deterministic (seeded), built through the same services the UI uses, and
loaded once: running it again finds the demo company and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ledgerbridge.accounting.models import AccountingPackage, AccountingSettings
from ledgerbridge.companies.models import Company, Membership, Role, User
from ledgerbridge.companies.permissions import Actor
from ledgerbridge.invoicing.models import Document, DocumentType, Partner, PartnerKind
from ledgerbridge.invoicing.services import (
    DocumentInput,
    LineInput,
    credit_note_create_from_invoice,
    document_create,
    document_finalise,
    partner_create,
)
from ledgerbridge.invoicing.starter import DEFAULT_CODING, starter_configuration_load

DEMO_COMPANY = "Northway Haulage Ltd"
SECOND_COMPANY = "Pennine Cold Chain Ltd"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str


LOGINS = [
    Login("staff", "staff-demo-pass", "platform staff"),
    Login("admin", "admin-demo-pass", Role.SUPER_ADMIN),
    Login("finance", "finance-demo-pass", Role.FINANCE),
    Login("viewer", "viewer-demo-pass", Role.VIEWER),
]

CUSTOMERS = [
    ("Albion Foods Distribution Ltd", "Wakefield", "GB"),
    ("Brightwater Beverages plc", "Hull", "GB"),
    ("Castlegate Building Supplies", "York", "GB"),
    ("Dalesman Dairies Ltd", "Skipton", "GB"),
    ("Eastfield Paper Mills", "Goole", "GB"),
    ("Fenland Produce Co-operative", "Wisbech", "GB"),
    ("Granite City Engineering", "Aberdeen", "GB"),
    ("Humber Steel Stockholders", "Scunthorpe", "GB"),
    ("Ironbridge Timber Merchants", "Telford", "GB"),
    ("Jubilee Home Furnishings", "Bradford", "GB"),
    ("Kestrel Garden Centres", "Harrogate", "GB"),
    ("Lakeland Outdoor Retail", "Kendal", "GB"),
    ("Mersey Chemicals Ltd", "Runcorn", "GB"),
    ("Northern Pharma Logistics", "Manchester", "GB"),
    ("Oakwood Furniture Makers", "Huddersfield", "GB"),
    ("Peak District Aggregates", "Buxton", "GB"),
    ("Quayside Wines & Spirits", "Newcastle upon Tyne", "GB"),
    ("Riverside Packaging", "Leeds", "GB"),
    ("Sheaf Valley Cutlery", "Sheffield", "GB"),
    ("Tees Plastics Moulding", "Middlesbrough", "GB"),
    ("Ullswater Mineral Water", "Penrith", "GB"),
    ("Vale of York Poultry", "Thirsk", "GB"),
    ("Wharfedale Textiles", "Ilkley", "GB"),
    ("Yorkshire Brewing Company", "Tadcaster", "GB"),
    ("Zenith Electronics UK", "Doncaster", "GB"),
    ("Bretagne Primeurs SARL", "Rennes", "FR"),
    ("Rotterdam Cool Logistics BV", "Rotterdam", "NL"),
    ("Lille Textiles SA", "Lille", "FR"),
    ("Dublin Retail Group", "Dublin", "IE"),
    ("Antwerp Chemicals NV", "Antwerp", "BE"),
]
SUPPLIERS = [
    ("Pennine Subcontract Haulage", "Halifax", "subcontracting"),
    ("M62 Trucking Ltd", "Brighouse", "subcontracting"),
    ("Dover Channel Carriers", "Dover", "subcontracting"),
    ("Severn Valley Transport", "Worcester", "subcontracting"),
    ("Northern Fuel Cards Ltd", "Leeds", "fuel"),
    ("Bunkerline Diesel Supplies", "Wakefield", "fuel"),
    ("Highways Tolls & Crossings", "Birmingham", "tolls"),
    ("Eurotunnel Freight Bookings", "Folkestone", "tolls"),
    ("Truckserve Commercial Repairs", "Normanton", "other"),
    ("Tyre Express Fleet Services", "Castleford", "other"),
]
LANES = [
    ("Leeds", "Hull"),
    ("Wakefield", "London Gateway"),
    ("Bradford", "Felixstowe"),
    ("Sheffield", "Southampton"),
    ("York", "Glasgow"),
    ("Doncaster", "Bristol"),
    ("Manchester", "Immingham"),
    ("Leeds", "Calais"),
    ("Hull", "Rotterdam"),
    ("Huddersfield", "Dublin"),
]
VEHICLES = ["artic", "artic", "artic", "rigid 18t", "van"]


def demo_load(*, today: dt.date | None = None, progress: Callable[[str], None] = print) -> bool:
    """Load the demo once. Returns False when it was already there."""
    if Company.objects.filter(legal_name=DEMO_COMPANY).exists():
        progress("Demo data already loaded.")
        return False
    today = today or timezone.localdate()
    rng = random.Random(20261124)  # noqa: S311 - demo data, not secrets
    with transaction.atomic():
        company = Company.objects.create(
            legal_name=DEMO_COMPANY,
            vat_number="GB294883012",
            address_line1="Unit 4, Stourton Link",
            address_line2="Pontefract Road",
            city="Leeds",
            postcode="LS10 1RW",
            email="accounts@northway.example",
            **_bank_details("Northway Haulage Ltd", "Lloyds Bank", "LOYD", "309457", "17452863"),
        )
        second = Company.objects.create(
            legal_name=SECOND_COMPANY,
            vat_number="GB318442907",
            address_line1="Brunswick Way",
            city="Halifax",
            postcode="HX1 2BB",
            **_bank_details("Pennine Freight Ltd", "NatWest", "NWBK", "602314", "20958471"),
        )
        # Northway posts through the Xero API (the sandbox's demo organisation is
        # ready to authorise); Pennine uploads Xero import files.
        AccountingSettings.objects.create(company=company, package=AccountingPackage.XERO_API)
        AccountingSettings.objects.create(company=second, package=AccountingPackage.XERO_FILE)
        users = _users(company, second)
        admin = Actor(company=company, role=Role.SUPER_ADMIN, user=users["admin"])
        starter_configuration_load(actor=admin)
        starter_configuration_load(
            actor=Actor(company=second, role=Role.SUPER_ADMIN, user=users["admin"])
        )
        customers = [
            partner_create(
                actor=admin,
                kind=PartnerKind.CUSTOMER,
                number=f"C{i + 1:04d}",
                name=name,
                city=city,
                country=country,
                address_line1=f"{rng.randint(1, 180)} {rng.choice(['Mill', 'Station', 'Dock', 'Park'])} Road",
                postcode=_postcode(rng) if country == "GB" else "",
                currency="EUR" if country in {"FR", "NL", "BE", "IE"} else "GBP",
                vat_number=f"{country}{rng.randint(100000000, 999999999)}",
                email=f"ap@{name.split()[0].lower()}.example",
                payment_terms_days=rng.choice([14, 30, 30, 30, 45, 60]),
            )
            for i, (name, city, country) in enumerate(CUSTOMERS)
        ]
        suppliers = [
            (
                partner_create(
                    actor=admin,
                    kind=PartnerKind.SUPPLIER,
                    number=f"S{i + 1:04d}",
                    name=name,
                    city=city,
                    postcode=_postcode(rng),
                    vat_number=f"GB{rng.randint(100000000, 999999999)}",
                    email=f"invoices@{name.split()[0].lower()}.example",
                    payment_terms_days=30,
                ),
                kind,
            )
            for i, (name, city, kind) in enumerate(SUPPLIERS)
        ]
        finance = Actor(company=company, role=Role.FINANCE, user=users["finance"])
        count = _documents(finance, customers, suppliers, today=today, rng=rng, progress=progress)
        second_actor = Actor(company=second, role=Role.SUPER_ADMIN, user=users["admin"])
        second_customer = partner_create(
            actor=second_actor,
            kind=PartnerKind.CUSTOMER,
            number="C0001",
            name="Calder Valley Frozen Foods",
            city="Hebden Bridge",
        )
        for weeks_ago in reversed(range(5)):  # oldest first: numbers rise with dates
            _sales_invoice(
                second_actor,
                second_customer,
                today - dt.timedelta(days=7 * weeks_ago),
                rng,
                finalise=True,
            )
    progress(
        f"Demo loaded: {DEMO_COMPANY} with {len(customers)} customers, {len(suppliers)} suppliers "
        f"and {count} documents; {SECOND_COMPANY} with 5 invoices."
    )
    return True


def _users(company: Company, second: Company) -> dict[str, User]:
    users = {}
    for login in LOGINS:
        user = User.objects.create_user(
            username=login.username,
            password=login.password,
            first_name=login.username.title(),
            email=f"{login.username}@northway.example",
            is_platform_staff=login.role == "platform staff",
        )
        users[login.username] = user
        if login.role != "platform staff":
            Membership.objects.create(user=user, company=company, role=login.role)
    Membership.objects.create(user=users["admin"], company=second, role=Role.SUPER_ADMIN)
    return users


def _bank_details(name: str, bank: str, bank_code: str, sort: str, account: str) -> dict[str, str]:
    """A UK account as printed on invoices: sort code, number, and its IBAN and BIC."""
    bban = f"{bank_code}{sort}{account}"
    remainder = int("".join(str(int(char, 36)) for char in f"{bban}GB00")) % 97
    return {
        "bank_account_name": name,
        "bank_name": bank,
        "bank_sort_code": f"{sort[:2]}-{sort[2:4]}-{sort[4:]}",
        "bank_account_number": account,
        "bank_iban": f"GB{98 - remainder:02d}{bban}",
        "bank_bic": f"{bank_code}GB2L",
        "payment_terms": "Interest may be charged on late payments under the Late Payment of "
        "Commercial Debts (Interest) Act 1998.",
    }


def _eur_rate(issue: dt.date) -> dict[str, Any]:
    """For a euro invoice: a believable HMRC monthly rate (euros per pound) and its source."""
    rate = Decimal("1.1420") + Decimal("0.0065") * (issue.month % 6)
    return {"exchange_rate": rate, "exchange_rate_source": f"HMRC period rate {issue:%B %Y}"}


def _postcode(rng: random.Random) -> str:
    return f"{rng.choice(['LS', 'HU', 'BD', 'WF', 'S', 'YO', 'HX'])}{rng.randint(1, 28)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _sales_invoice(
    actor: Actor, customer: Partner, issue: dt.date, rng: random.Random, *, finalise: bool
):
    origin, destination = rng.choice(LANES)
    vehicle = rng.choice(VEHICLES)
    international = customer.country != "GB" or destination in {"Calais", "Rotterdam", "Dublin"}
    tax = "Z0S" if international else "S20"
    trip = f"{'INT' if international else 'DOM'}-{issue:%y%m}-{rng.randint(1000, 9999)}"
    freight = _money(rng, 380, 1650) if vehicle != "van" else _money(rng, 120, 380)
    lines = [
        LineInput(
            f"Freight {origin} - {destination}, {vehicle}",
            "freight",
            rng.choice([1, 1, 1, 2]),
            freight,
            DEFAULT_CODING["freight"][0],
            tax,
        )
    ]
    lines.append(
        LineInput(
            f"Fuel surcharge {rng.choice([8, 9.5, 11, 12.5])}%",
            "fuel_surcharge",
            1,
            (freight * Decimal("0.11")).quantize(Decimal("0.01")),
            DEFAULT_CODING["fuel_surcharge"][0],
            tax,
        )
    )
    if rng.random() < 0.25:
        lines.append(
            LineInput(
                f"Waiting time at {destination}",
                "waiting_time",
                rng.choice([1, 1.5, 2, 3]),
                Decimal("45.00"),
                DEFAULT_CODING["waiting_time"][0],
                tax,
            )
        )
    if rng.random() < 0.3 or international:
        lines.append(
            LineInput(
                "Tolls and crossings" if international else "M6 Toll",
                "tolls",
                1,
                _money(rng, 9, 420 if international else 25),
                DEFAULT_CODING["tolls"][0],
                tax,
            )
        )
    document = document_create(
        actor=actor,
        data=DocumentInput(
            type=DocumentType.SALES_INVOICE,
            partner_id=customer.pk,
            issue_date=issue,
            lines=lines,
            reference=f"PO {rng.randint(40000, 99999)}",
            order_reference=f"ORD-{rng.randint(100000, 999999)}",
            trip_reference=trip,
            **(_eur_rate(issue) if customer.currency == "EUR" else {}),
        ),
    )
    _created_on(document, issue, rng)
    if finalise:
        document = document_finalise(actor=actor, document_id=document.pk, now=_at(issue))
    return document


def _at(day: dt.date) -> dt.datetime:
    """When a document of ``day`` was finalised: late afternoon, and never in the future."""
    return min(timezone.make_aware(dt.datetime.combine(day, dt.time(16, 30))), timezone.now())


def _created_on(document: Document, day: dt.date, rng: random.Random) -> None:
    """Date a document's creation on the morning of ``day``, before it is finalised
    (16:30), as if it had been keyed in then rather than when the demo loaded."""
    created = timezone.make_aware(
        dt.datetime.combine(day, dt.time(8, 0)) + dt.timedelta(minutes=rng.randint(0, 420))
    )
    created = min(created, _at(day))
    Document.objects.filter(pk=document.pk).update(created_at=created, updated_at=created)


# Three busy months, after a quieter month and a half whose invoices are the ones
# more than 90 days past due (terms run up to 60 days) on the outstanding page.
BUSY_DAYS = 91
HISTORY_DAYS = 140


def _documents(actor, customers, suppliers, *, today, rng, progress) -> int:
    start = today - dt.timedelta(days=HISTORY_DAYS)
    busy_from = today - dt.timedelta(days=BUSY_DAYS)
    count = 0
    invoices = []
    purchases = []
    bill_numbers: set[tuple[int, int]] = set()
    reported = 0
    for day_offset in range(HISTORY_DAYS):
        issue = start + dt.timedelta(days=day_offset)
        if issue.weekday() >= 5:
            continue
        busy = issue >= busy_from
        for _ in range(rng.randint(3, 5) if busy else rng.randint(0, 2)):
            draft = issue > today - dt.timedelta(days=3) and rng.random() < 0.4
            invoices.append(
                _sales_invoice(actor, rng.choice(customers), issue, rng, finalise=not draft)
            )
            count += 1
        if rng.random() < (0.8 if busy else 0.4):
            supplier, kind = rng.choice(suppliers)
            purchase_code = DEFAULT_CODING[kind][1]
            amount = _money(rng, 60, 2400)
            lines = [
                LineInput(
                    f"{kind.replace('_', ' ').title()} - week {issue.isocalendar().week}",
                    kind,
                    1,
                    amount,
                    purchase_code,
                    "S20P" if kind != "tolls" else "EXP",
                )
            ]
            # A supplier never sends two bills with one number (finalising would refuse it).
            bill_number = rng.randint(10000, 99999)
            while (supplier.pk, bill_number) in bill_numbers:
                bill_number += 1
            bill_numbers.add((supplier.pk, bill_number))
            document = document_create(
                actor=actor,
                data=DocumentInput(
                    type=DocumentType.PURCHASE_INVOICE,
                    partner_id=supplier.pk,
                    issue_date=issue,
                    lines=lines,
                    supplier_reference=f"{supplier.name.split()[0][:3].upper()}-{bill_number}",
                ),
            )
            _created_on(document, issue, rng)
            purchases.append(
                document_finalise(actor=actor, document_id=document.pk, now=_at(issue))
            )
            count += 1
        if count // 50 > reported:  # every 50 documents
            reported = count // 50
            progress(f"  {count} documents…")
    finals = [d for d in invoices if not d.is_draft]
    # Credit notes are numbered in the order of their dates, like everything else.
    for invoice in sorted(rng.sample(finals, 8), key=lambda d: (d.issue_date, d.pk)):
        line = invoice.lines.first()
        credit = credit_note_create_from_invoice(
            actor=actor,
            invoice_id=invoice.pk,
            quantities=None if rng.random() < 0.5 else {line.pk: line.quantity},
            issue_date=min(today, invoice.issue_date + dt.timedelta(days=6)),
            reference=f"Credit for {invoice.number}: {rng.choice(['damaged pallet', 'rate dispute', 'duplicate charge'])}",
        )
        _created_on(credit, credit.issue_date, rng)
        document_finalise(actor=actor, document_id=credit.pk, now=_at(credit.issue_date))
        count += 1
    for bill in sorted(rng.sample(purchases, 3), key=lambda d: (d.issue_date, d.pk)):
        credit = credit_note_create_from_invoice(
            actor=actor,
            invoice_id=bill.pk,
            issue_date=min(today, bill.issue_date + dt.timedelta(days=10)),
            reference=f"Supplier credit against {bill.supplier_reference}",
            supplier_reference=f"CR-{bill.supplier_reference}",
        )
        _created_on(credit, credit.issue_date, rng)
        document_finalise(actor=actor, document_id=credit.pk, now=_at(credit.issue_date))
        count += 1
    return count
