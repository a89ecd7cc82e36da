from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.invoicing.money import line_net, line_tax, round_money, totals_of

quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=4)
prices = st.decimals(min_value=Decimal("-10000"), max_value=Decimal("100000"), places=4)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
rates = st.sampled_from([Decimal("0"), Decimal("5"), Decimal("20"), Decimal("17.5")])


def test_line_amount_is_quantity_times_price_less_discount_rounded_to_cents():
    assert line_net(Decimal("3"), Decimal("33.3333"), Decimal("0")) == Decimal("100.00")
    assert line_net(Decimal("1"), Decimal("100"), Decimal("12.5")) == Decimal("87.50")


def test_halves_round_away_from_zero_as_xero_does():
    assert round_money(Decimal("0.125")) == Decimal("0.13")
    assert round_money(Decimal("-0.125")) == Decimal("-0.13")


def test_tax_is_computed_per_line_and_rounded():
    assert line_tax(Decimal("10.03"), Decimal("20")) == Decimal("2.01")
    assert line_tax(Decimal("10.02"), Decimal("20")) == Decimal("2.00")


@given(st.lists(st.tuples(quantities, prices, discounts, rates), min_size=1, max_size=30))
def test_totals_always_equal_the_sum_of_rounded_lines(lines):
    rounded = []
    for quantity, price, discount, rate in lines:
        net = line_net(quantity, price, discount)
        rounded.append((net, line_tax(net, rate)))
    totals = totals_of(rounded)
    assert totals.net == sum((n for n, _ in rounded), Decimal(0))
    assert totals.tax == sum((t for _, t in rounded), Decimal(0))
    assert totals.gross == totals.net + totals.tax
    assert totals.net.as_tuple().exponent == -2
    assert totals.tax.as_tuple().exponent == -2
