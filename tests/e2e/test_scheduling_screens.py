"""The calendar and the generator in Chromium: events appear from the API, filters work, preview → apply."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_calendar_month_shows_the_demo_sessions_and_filters_by_room(page, live_server, sign_in_as):
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/institution/attendance/calendar")
    grid = page.get_by_test_id("calendar-grid")
    grid.wait_for()
    assert grid.locator(".cal-event").count() > 0
    assert "Room A" in grid.inner_text() and "Room B" in grid.inner_text()
    page.get_by_label("Room").select_option(label="Room B")
    page.wait_for_function("() => !document.querySelector('#cal-body').innerText.includes('Room A')")
    assert "Room B" in page.get_by_test_id("calendar-grid").inner_text()


def test_calendar_week_view_on_a_phone(phone_page, live_server, sign_in_as):
    sign_in_as(phone_page, "teacher")
    phone_page.goto(f"{live_server}/institution/attendance/calendar")
    phone_page.get_by_test_id("calendar-grid").wait_for()
    assert phone_page.get_by_label("View").input_value() == "week"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380


def test_generator_preview_then_apply(page, live_server, sign_in_as, demo):
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/admin/cohorts/{demo['corporate_cohort_id']}/sessions")
    page.get_by_text("Generate a schedule").click()  # folded away once a cohort has sessions
    page.get_by_label("From", exact=True).fill("2031-03-03")
    page.get_by_label("To", exact=True).fill("2031-03-07")
    page.locator("#slot1_room").select_option(label="Workshop (15 seats)")
    page.get_by_role("button", name="Preview").click()
    assert "5 to create" in page.get_by_test_id("preview-summary").inner_text()
    page.get_by_role("button", name="Apply: create 5 session(s)").click()
    assert "5 session(s) created" in page.locator(".alert-success").inner_text()
