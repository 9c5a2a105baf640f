"""One pass on the wall clock, not the suite's pinned instant: a live server, sign in, mark, and the lock rule.

Written to pass at whatever hour it runs (issue 26): today's 00:00–00:01 session (local) has started at any
moment of today and stays open until the end of tomorrow; the one two days ago passed its cut-off (the end of
its day plus 24 hours) at the start of today. Neither clashes with the demo's 09:00 and 13:00 sessions.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from core import clock
from tests.attendance_factories import make_session

pytestmark = pytest.mark.real_clock
ZONE = "Africa/Algiers"  # the demo institution's


def test_on_the_wall_clock_a_facilitator_marks_today_and_finds_an_older_register_locked(page, sign_in_as,
                                                                                         live_server, sql, demo):
    assert clock.pinning() is None  # the wall clock, in this process and its live server thread
    today = clock.today_in(ZONE)
    midnight = dt.time(0), dt.time(0, 1)
    started = make_session(sql, demo["public_cohort_id"], today, *midnight)
    locked = make_session(sql, demo["public_cohort_id"], today - dt.timedelta(days=2), *midnight)

    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{started}")
    page.get_by_role("button", name="Mark all present").click()
    expect(page.locator("#sync-state")).to_have_text("All changes saved")
    page.reload()
    expect(page.locator('[data-count="UNMARKED"]')).to_have_text("0")

    page.goto(f"{live_server}/institution/attendance/sessions/{locked}")
    expect(page.locator("#locked-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Mark all present")).to_have_count(0)
