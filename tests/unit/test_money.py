"""Exact money (core.finance.money, core.finance.pricing) against hand-worked examples."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationError
from core.finance import money, pricing
from core.finance.pricing import BillingPlan, PricingModel, RegisterCount, Terms


def test_exponents_come_from_iso_4217():
    assert [money.exponent(c) for c in ("ZAR", "DZD", "EUR", "USD", "JPY", "KWD")] == [2, 2, 2, 2, 0, 3]


def test_amounts_parse_to_minor_units_and_back():
    assert money.parse_amount("862.50", "ZAR") == 86250
    assert money.parse_amount("862.5", "ZAR") == 86250
    assert money.parse_amount("1500", "JPY") == 1500
    assert money.parse_amount("1.005", "KWD") == 1005
    assert money.format_amount(86250, "ZAR") == "862.50"
    assert money.format_amount(1500, "JPY") == "1500"
    assert money.format_amount(1005, "KWD") == "1.005"
    assert money.format_amount(-5, "KWD") == "-0.005"


@pytest.mark.parametrize("text, currency", [
    ("-1.00", "ZAR"), ("1.001", "ZAR"), ("1.5", "JPY"), ("1e3", "ZAR"), ("abc", "ZAR"), ("", "ZAR"),
    ("12\x00", "ZAR"), ("99999999999999999", "ZAR"), ("1.00", "ZZZ"), ("1.00", "zar1"),
])
def test_bad_amounts_are_refused(text, currency):
    with pytest.raises(ValidationError):
        money.parse_amount(text, currency)


def test_rates_are_hundredths_of_a_percent_up_to_100():
    assert money.parse_rate("15") == 1500
    assert money.parse_rate("15.5") == 1550
    assert money.format_rate(1550) == "15.50"
    for bad in ("100.01", "-1", "15.125", "x"):
        with pytest.raises(ValidationError):
            money.parse_rate(bad)


def test_half_rounds_up_and_away_from_zero():
    assert money.half_up(5, 10) == 1      # 0.5 → 1
    assert money.half_up(4, 10) == 0
    assert money.half_up(15, 10) == 2     # 1.5 → 2
    assert money.half_up(25, 10) == 3     # 2.5 → 3 (not banker's 2)
    assert money.half_up(-5, 10) == -1


def test_tax_is_rounded_per_line_then_summed():
    # ZAR, 15 %: 0.03 × 15 % = 0.0045 → 0.00 per line; three lines: 0.00, not 0.0135 → 0.01.
    assert money.totals([(3, 1500)] * 3) == (9, 0, 9)
    # 10.10 × 15 % = 1.515 → 1.52 (the half goes up)
    assert money.line_tax(1010, 1500) == 152
    # 862.50 × 15 % = 129.375 → 129.38
    assert money.totals([(86250, 1500)]) == (86250, 12938, 99188)


def test_a_three_decimal_currency_rounds_to_the_fils():
    # KWD 1.005 × 5 % = 0.05025 → 0.050; 2.010 × 5 % = 0.1005 → 0.101 (half up at the third decimal)
    assert money.line_tax(1005, 500) == 50
    assert money.line_tax(2010, 500) == 101


def test_yen_has_no_minor_unit():
    # JPY 1,234 × 10 % = 123.4 → 123; 1,235 × 10 % = 123.5 → 124
    assert money.line_tax(1234, 1000) == 123
    assert money.line_tax(1235, 1000) == 124


def _terms(model, price, plan=BillingPlan.MONTHLY, upfront=0, currency="ZAR"):
    return Terms(PricingModel(model), price, currency, 1500, upfront, plan)


def test_per_attended_trainee_day():
    # 12 trainee-days at 862.50 = 10,350.00; tax 15 % = 1,552.50; total 11,902.50
    line = pricing.usage_line(_terms("per_attended_trainee_day", 86250),
                              [RegisterCount(1, 5), RegisterCount(2, 7), RegisterCount(3, 0)])
    assert (line.counts, line.quantity, line.amount, line.tax) == ("attended_trainee_days", 12, 1035000, 155250)
    assert [r.session_id for r in line.registers] == [1, 2]


def test_per_enrolled_trainee():
    line = pricing.usage_line(_terms("per_enrolled_trainee", 1999), [RegisterCount(0, 3)])
    # 3 × 19.99 = 59.97; 15 % = 8.9955 → 9.00
    assert (line.amount, line.tax) == (5997, 900)


def test_per_delivered_session_in_yen():
    line = pricing.usage_line(_terms("per_delivered_session", 33333, currency="JPY"),
                              [RegisterCount(9, 1), RegisterCount(10, 1), RegisterCount(11, 1)])
    # 3 × ¥33,333 = ¥99,999; 15 % = 14,999.85 → 15,000
    assert (line.amount, line.tax) == (99999, 15000)


def test_no_usage_no_line():
    assert pricing.usage_line(_terms("per_delivered_session", 100), [RegisterCount(1, 0)]) is None


def test_fixed_monthly_instalments_add_up_to_the_price():
    # 10,000.00 with 30 % upfront: 3,000.00 then 7,000.00 over Nov, Dec, Jan: 2,333.33, 2,333.33, 2,333.34
    terms = _terms("fixed", 1_000_000, upfront=3000)
    parts = pricing.fixed_parts(terms, dt.date(2026, 11, 2), dt.date(2027, 1, 20))
    assert [(p.key, p.amount) for p in parts] == [
        ("upfront", 300000), ("2026-11", 233333), ("2026-12", 233333), ("2027-01", 233334)]
    assert sum(p.amount for p in parts) == 1_000_000
    assert parts[-1].due == dt.date(2027, 1, 20)


def test_fixed_lines_bill_each_part_once():
    terms = _terms("fixed", 1_000_000, upfront=3000)
    start, end = dt.date(2026, 11, 2), dt.date(2027, 1, 20)
    november = pricing.fixed_lines(terms, start, end, dt.date(2026, 11, 1), dt.date(2026, 11, 30), set())
    assert [(line.period_key, line.amount) for line in november] == [("upfront", 300000), ("2026-11", 233333)]
    december = pricing.fixed_lines(terms, start, end, dt.date(2026, 12, 1), dt.date(2026, 12, 31),
                                   {"upfront", "2026-11"})
    assert [line.period_key for line in december] == ["2026-12"]


def test_fixed_on_completion_bills_the_balance_at_the_end():
    terms = _terms("fixed", 1_000_000, plan=BillingPlan.ON_COMPLETION, upfront=2500)
    start, end = dt.date(2026, 11, 2), dt.date(2027, 1, 20)
    early = pricing.fixed_lines(terms, start, end, start, dt.date(2026, 12, 31), {"upfront"})
    assert early == []
    last = pricing.fixed_lines(terms, start, end, dt.date(2027, 1, 1), dt.date(2027, 1, 31), {"upfront"})
    assert [(p.period_key, p.amount) for p in last] == [("completion", 750000)]


def test_schedule_for_trainee_days_by_month():
    terms = _terms("per_attended_trainee_day", 10000)
    planned = [(dt.date(2026, 11, 3), 1), (dt.date(2026, 11, 3), 2), (dt.date(2026, 11, 4), 3),
               (dt.date(2026, 12, 1), 4)]
    lines = pricing.schedule(terms, dt.date(2026, 11, 1), dt.date(2026, 12, 15), planned, 10)
    assert [(line.due_on, line.quantity, line.amount) for line in lines] == [
        (dt.date(2026, 11, 30), 20, 200000), (dt.date(2026, 12, 15), 10, 100000)]
