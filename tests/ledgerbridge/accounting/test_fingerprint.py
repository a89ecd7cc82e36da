"""A posted document's fingerprint and how it differs from what the package holds: pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from ledgerbridge.accounting.fingerprint import (
    DocumentFingerprint,
    FingerprintLine,
    fingerprint_compare,
)

SENT = DocumentFingerprint(
    contact_id="4F1B3C2A-0000-4000-8000-000000000001",
    currency="GBP",
    date=dt.date(2026, 12, 1),
    due_date=dt.date(2026, 12, 31),
    reference="PO 77 / TRIP 12",
    net=Decimal("1000.00"),
    tax=Decimal("200.00"),
    gross=Decimal("1200.00"),
    lines=(
        FingerprintLine(
            account_code="200",
            tax_type="OUTPUT2",
            amount=Decimal("1000.00"),
            tracking=(("Region", "North"),),
        ),
    ),
)


def test_the_same_document_has_no_differences():
    assert fingerprint_compare(SENT, SENT) == []


def test_it_survives_the_json_it_is_stored_as():
    assert DocumentFingerprint.from_json(SENT.to_json()) == SENT
    assert SENT.to_json()["line_count"] == 1


def test_a_total_and_an_account_changed_in_the_package_are_said_with_the_currency():
    now = replace(
        SENT,
        net=Decimal("833.33"),
        tax=Decimal("166.67"),
        gross=Decimal("1000.00"),
        lines=(replace(SENT.lines[0], account_code="260", amount=Decimal("833.33")),),
    )
    assert fingerprint_compare(SENT, now) == [
        "total 1,200.00 GBP → 1,000.00 GBP",
        "net 1,000.00 GBP → 833.33 GBP",
        "tax 200.00 GBP → 166.67 GBP",
        "account 200 → 260",
        "amount 1,000.00 GBP → 833.33 GBP",
    ]


def test_our_sub_cent_figures_are_not_a_change():
    ours = replace(
        SENT,
        net=Decimal("1000.004"),
        gross=Decimal("1199.996"),
        lines=(replace(SENT.lines[0], amount=Decimal("999.9951")),),
    )
    assert fingerprint_compare(ours, SENT) == []


def test_contact_currency_dates_reference_tax_type_and_tracking_are_compared():
    now = replace(
        SENT,
        contact_id="9f1b3c2a-0000-4000-8000-000000000009",
        currency="EUR",
        date=dt.date(2026, 12, 3),
        due_date=dt.date(2027, 1, 15),
        reference="PO 78",
        lines=(
            replace(SENT.lines[0], tax_type="ZERORATEDOUTPUT", tracking=(("Region", "South"),)),
        ),
    )
    assert fingerprint_compare(SENT, now) == [
        "contact changed",
        "currency GBP → EUR",
        "date 1 Dec 2026 → 3 Dec 2026",
        "due date 31 Dec 2026 → 15 Jan 2027",
        "reference “PO 77 / TRIP 12” → “PO 78”",
        "tax type OUTPUT2 → ZERORATEDOUTPUT",
        "tracking Region: North → Region: South",
    ]


def test_a_contact_id_in_other_case_and_tracking_in_other_order_are_the_same():
    two = (("Region", "North"), ("Vehicle", "Van 3"))
    ours = replace(SENT, lines=(replace(SENT.lines[0], tracking=two),))
    now = replace(
        ours,
        contact_id=SENT.contact_id.lower(),
        lines=(replace(SENT.lines[0], tracking=tuple(reversed(two))),),
    )
    assert fingerprint_compare(ours, now) == []


def test_a_line_added_is_told_as_the_line_count():
    extra = FingerprintLine(account_code="200", tax_type="OUTPUT2", amount=Decimal("50.00"))
    now = replace(
        SENT,
        net=Decimal("1050.00"),
        tax=Decimal("210.00"),
        gross=Decimal("1260.00"),
        lines=(*SENT.lines, extra),
    )
    assert fingerprint_compare(SENT, now)[-1] == "lines 1 → 2"


def test_lines_of_a_longer_document_are_named_by_their_number():
    second = FingerprintLine(account_code="210", tax_type="OUTPUT2", amount=Decimal("10.00"))
    ours = replace(SENT, lines=(SENT.lines[0], second))
    now = replace(ours, lines=(SENT.lines[0], replace(second, account_code="260")))
    assert fingerprint_compare(ours, now) == ["line 2: account 210 → 260"]


def test_a_changed_contact_is_named_when_both_sides_know_its_name():
    ours = replace(SENT, contact_name="Brightwater Beverages plc")
    now = replace(
        ours,
        contact_id="9f1b3c2a-0000-4000-8000-000000000009",
        contact_name="Tees Plastics Moulding",
    )
    assert fingerprint_compare(ours, now) == [
        "contact Brightwater Beverages plc → Tees Plastics Moulding"
    ]


def test_a_contact_renamed_in_the_package_is_the_same_contact():
    ours = replace(SENT, contact_name="Brightwater Beverages plc")
    assert fingerprint_compare(ours, replace(ours, contact_name="Brightwater Beverages")) == []


def test_a_fingerprint_kept_before_contact_names_still_loads_and_says_contact_changed():
    old = SENT.to_json()
    del old["contact_name"]
    loaded = DocumentFingerprint.from_json(old)
    assert loaded == SENT and loaded.contact_name == ""
    now = replace(SENT, contact_id="9f1b", contact_name="Tees Plastics Moulding")
    assert fingerprint_compare(loaded, now) == ["contact changed"]


def test_lines_merged_in_the_package_name_the_accounts_and_tax_types_on_each_side():
    two = (
        replace(SENT.lines[0], account_code="201", amount=Decimal("400.00")),
        replace(SENT.lines[0], amount=Decimal("600.00")),
    )
    ours = replace(SENT, lines=two)
    now = replace(
        SENT,
        lines=(replace(SENT.lines[0], account_code="260", tax_type="zeroratedoutput"),),
    )
    assert fingerprint_compare(ours, now) == [
        "lines 2 → 1",
        "accounts 200, 201 → 260",
        "tax types OUTPUT2 → ZERORATEDOUTPUT",
    ]


def test_lines_split_with_the_same_codings_say_only_the_count():
    now = replace(SENT, lines=(SENT.lines[0], replace(SENT.lines[0], amount=Decimal("0.00"))))
    assert fingerprint_compare(SENT, now) == ["lines 1 → 2"]
