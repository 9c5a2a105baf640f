"""The facilitator's console: today, the next seven days, past sessions not yet marked — each with its register."""

from __future__ import annotations

import re


def _section(html: str, heading_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert match, heading_id
    return match.group(1)


def test_console_lists_today_upcoming_and_past_unmarked_with_register_links(login, demo):
    html = login("teacher").get("/teacher").get_data(as_text=True)
    today, upcoming, past = (_section(html, h) for h in ("today", "next", "unmarked"))
    # The demo has each cohort meeting on the 5 weekdays before today and the 5 from today on.
    assert "Welding — Intake 1" in upcoming and "Acme — Forklift Q4" in past
    assert re.search(r'href="/institution/attendance/sessions/\d+"', past)  # the register (attendance.register)
    assert "All past registers are marked." not in past
    assert today  # rendered, with rows or its empty message


def test_console_hides_cohorts_the_teacher_is_not_assigned_to(login, demo):
    html = login("teacher2").get("/teacher").get_data(as_text=True)
    assert "Welding — Intake 1" not in html and "Acme — Forklift Q4" not in html


def test_console_links_to_the_calendar_and_feeds(login, demo):
    html = login("teacher").get("/teacher").get_data(as_text=True)
    assert "/institution/attendance/calendar" in html and "/institution/attendance/calendar/feeds" in html
