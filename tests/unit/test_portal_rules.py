"""Pure portal rules: attendance rate, delivery of a session, hours, and the server-drawn chart."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st

from core.portals.chart import RatePoint, rate_chart
from core.portals.rules import attendance_rate, delivery, hours

NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)


def test_rate_counts_late_as_attended_and_excused_neither_way():
    assert attendance_rate({"PRESENT": 6, "LATE": 2, "ABSENT": 2, "EXCUSED": 5}) == 0.8


def test_rate_is_none_before_any_counted_mark():
    assert attendance_rate({"PRESENT": 0, "LATE": 0, "ABSENT": 0, "EXCUSED": 3}) is None


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_rate_is_between_0_and_1(present, late, absent, excused):
    rate = attendance_rate({"PRESENT": present, "LATE": late, "ABSENT": absent, "EXCUSED": excused})
    assert rate is None or 0 <= rate <= 1


def test_a_session_is_delivered_once_ended_and_planned_before():
    assert delivery("SCHEDULED", NOW - dt.timedelta(minutes=1), NOW) == "delivered"
    assert delivery("COMPLETED", NOW, NOW) == "delivered"
    assert delivery("SCHEDULED", NOW + dt.timedelta(minutes=1), NOW) == "planned"
    assert delivery("CANCELLED", NOW - dt.timedelta(days=1), NOW) == "cancelled"


def test_hours_of_a_session():
    assert hours(dt.time(9), dt.time(12, 30)) == 3.5


def test_the_chart_draws_one_point_per_rate_in_date_order():
    points = [RatePoint(dt.date(2026, 3, d), r, f"day {d}") for d, r in ((4, 0.5), (2, 1.0), (3, 0.75))]
    svg = rate_chart(points, "Rates", "Nothing")
    assert svg.count("<circle") == 3 and "<script" not in svg and 'role="img"' in svg
    xs = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert xs == sorted(xs)
    ys = dict(zip(re.findall(r"<title>(day \d)</title>", svg), re.findall(r'cy="([\d.]+)"', svg), strict=True))
    assert float(ys["day 2"]) < float(ys["day 3"]) < float(ys["day 4"])  # higher rate, higher on the page
    assert "2026-03-02" in svg and "2026-03-04" in svg


def test_the_chart_escapes_its_words_and_says_when_empty():
    svg = rate_chart([], "<b>Rates</b>", "No <marks> yet")
    assert "<b>" not in svg and "&lt;b&gt;Rates" in svg and "No &lt;marks&gt; yet" in svg
    assert "<circle" not in svg
