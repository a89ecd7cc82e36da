"""Xero's arithmetic, as properties: lines round to 2 dp and totals add up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xero_sandbox import Sandbox, SandboxConfig
from xero_sandbox import documents as d
from xero_sandbox.seed import DEMO_TENANT_ID

SANDBOX = Sandbox(SandboxConfig(webhooks_enabled=False))
ORG = SANDBOX.store.get_org(DEMO_TENANT_ID)

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2)
lines = st.lists(
    st.tuples(
        quantities, amounts, st.sampled_from(["OUTPUT2", "RROUTPUT", "ZERORATEDOUTPUT", "NONE"])
    ),
    min_size=1,
    max_size=6,
)


def prepare(raw_lines: list[tuple[Decimal, Decimal, str]], line_amount_types: str) -> d.Prepared:
    assert ORG is not None
    item = {
        "Type": "ACCREC",
        "Contact": {"Name": "Property Co"},
        "Status": "DRAFT",
        "LineAmountTypes": line_amount_types,
        "LineItems": [
            {
                "Description": "x",
                "Quantity": str(q),
                "UnitAmount": str(u),
                "AccountCode": "200",
                "TaxType": t,
            }
            for q, u, t in raw_lines
        ],
    }
    return d.prepare_document(
        SANDBOX,
        DEMO_TENANT_ID,
        ORG,
        d.INVOICE,
        item,
        allow_update_by_number=False,
        batch_numbers=set(),
    )


@settings(max_examples=60, deadline=None)
@given(lines, st.sampled_from(["Exclusive", "Inclusive"]))
def test_total_is_subtotal_plus_tax_and_lines_are_whole_pence(raw_lines, line_amount_types) -> None:  # type: ignore[no-untyped-def]
    prepared = prepare(raw_lines, line_amount_types)
    doc = prepared.doc

    assert prepared.errors == []
    assert Decimal(str(doc["Total"])) == Decimal(str(doc["SubTotal"])) + Decimal(
        str(doc["TotalTax"])
    )
    for line, (q, u, _) in zip(doc["LineItems"], raw_lines, strict=True):
        expected = (q * u).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(str(line["LineAmount"])) == expected


@settings(max_examples=60, deadline=None)
@given(lines)
def test_exclusive_tax_is_the_rate_on_each_line_rounded(raw_lines) -> None:  # type: ignore[no-untyped-def]
    rates = {
        "OUTPUT2": Decimal(20),
        "RROUTPUT": Decimal(5),
        "ZERORATEDOUTPUT": Decimal(0),
        "NONE": Decimal(0),
    }

    doc = prepare(raw_lines, "Exclusive").doc

    for line, (_, _, tax_type) in zip(doc["LineItems"], raw_lines, strict=True):
        expected = (Decimal(str(line["LineAmount"])) * rates[tax_type] / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert Decimal(str(line["TaxAmount"])) == expected
