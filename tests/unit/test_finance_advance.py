"""Pure rules of the second finance part: an upfront share for the usage models and the country's defaults."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.finance import pricing
from core.finance.billing import defaults_for
from core.finance.pricing import BillingPlan, PricingModel, Terms
from core.institutions.countries import currency_for_country, standard_tax

START, END = dt.date(2026, 11, 1), dt.date(2027, 1, 31)


def _sessions(days: list[int]) -> list[tuple[dt.date, int]]:
    return [(START + dt.timedelta(days=d), i) for i, d in enumerate(days)]


def test_the_countrys_currency_and_tax():
    assert (currency_for_country("ZA"), currency_for_country("DZ")) == ("ZAR", "DZD")
    assert (standard_tax("ZA"), standard_tax("dz")) == (("VAT", 1500), ("TVA", 1900))
    assert currency_for_country("QQ") is None and standard_tax("FR") is None


def test_an_institutions_own_rate_comes_before_its_countrys():
    assert defaults_for("ZA", None).tax_rate == 1500
    assert defaults_for("ZA", 0).tax_rate == 0          # a rate of 0 is a choice, not a gap
    assert defaults_for("DZ", 900) == defaults_for("DZ", 900).__class__("DZD", 900, "TVA")


def test_no_advance_without_a_share_or_for_enrolled_trainees():
    assert not Terms(PricingModel.PER_DELIVERED_SESSION, 100, "ZAR", 0).takes_advance
    assert not Terms(PricingModel.PER_ENROLLED_TRAINEE, 100, "ZAR", 0, 1000).takes_advance
    assert not Terms(PricingModel.FIXED, 100, "ZAR", 0, 1000).takes_advance  # the fixed plan has its own parts


def test_the_advance_is_billed_once_then_deducted_at_most_the_usage():
    terms = Terms(PricingModel.PER_DELIVERED_SESSION, 100000, "ZAR", 1500, 2000)
    usage = pricing.DraftLine("delivered_sessions", "", 3, 100000, 1500)
    [upfront] = pricing.advance_lines(terms, START, START, 800000, usage, False, 0)
    assert (upfront.counts, upfront.amount, upfront.tax) == ("upfront", 160000, 24000)
    assert pricing.advance_lines(terms, START, START - dt.timedelta(days=1), 800000, usage, False, 0) == []
    [deducted] = pricing.advance_lines(terms, START, END, 800000, usage, True, 500000)
    assert (deducted.amount, deducted.tax) == (-300000, -45000)   # the usage, not the 5,000.00 left
    assert pricing.advance_lines(terms, START, END, 800000, None, True, 500000) == []


@given(st.lists(st.integers(0, 91), min_size=0, max_size=40), st.integers(0, 10_000), st.integers(0, 50),
       st.integers(1, 10**7), st.sampled_from(list(BillingPlan)),
       st.sampled_from([PricingModel.PER_DELIVERED_SESSION, PricingModel.PER_ATTENDED_TRAINEE_DAY]))
def test_a_schedule_with_an_advance_adds_up_to_the_usage(days, percent, trainees, price, plan, model):
    terms = Terms(model, price, "ZAR", 1500, percent, plan)
    planned = _sessions(days)
    usage = pricing.usage_schedule(terms, START, END, planned, trainees)
    lines = pricing.schedule(terms, START, END, planned, trainees)
    advance = sum(line.amount for line in lines if line.counts == "upfront")
    deducted = -sum(line.amount for line in lines if line.counts == "advance_deduction")
    assert advance == deducted <= sum(line.amount for line in usage)
    assert sum(line.amount for line in lines) == sum(line.amount for line in usage)
