"""The register in real Chromium: optimistic marks, Mark all present, offline and back, locked sessions, phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.attendance import service
from core.attendance.commands import LockSession
from core.models import User
from tests.attendance_factories import started_open_session

MARK_API = "**/api/institution/attendance/mark"


@pytest.fixture
def open_session(sql, demo):
    return started_open_session(sql, demo["public_cohort_id"])


def _row(page, name: str):
    return page.locator(".register-row", has_text=name)


def _pressed(row, label: str):
    return expect(row.get_by_role("button", name=label, exact=True)).to_have_attribute("aria-pressed", "true")


def test_facilitator_marks_late_then_all_present_and_the_marks_survive_a_reload(page, sign_in_as, live_server,
                                                                                 open_session):
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    lina = _row(page, "Lina Haddad")
    lina.get_by_role("button", name="Late", exact=True).click()
    lina.get_by_label("Minutes late").fill("12")
    lina.get_by_label("Minutes late").press("Tab")
    expect(lina).to_have_attribute("data-state", "saved")
    page.get_by_role("button", name="Mark all present").click()
    expect(page.locator("#sync-state")).to_have_text("All changes saved")
    expect(page.locator('[data-count="UNMARKED"]')).to_have_text("0")

    page.reload()
    lina = _row(page, "Lina Haddad")
    _pressed(lina, "Late")
    expect(lina.get_by_label("Minutes late")).to_have_value("12")
    _pressed(_row(page, "Karim Mansouri"), "Present")
    expect(page.locator('[data-count="PRESENT"]')).to_have_text("11")


def test_marks_made_offline_are_kept_and_saved_when_back_online(page, sign_in_as, live_server, open_session):
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    page.route(MARK_API, lambda route: route.abort())
    amel = _row(page, "Amel Bouzid")
    amel.get_by_role("button", name="Absent", exact=True).click()
    expect(amel).to_have_attribute("data-state", "failed")
    _pressed(amel, "Absent")  # the tap shows at once, even offline
    assert "ABSENT" in page.evaluate(f"localStorage.getItem('attendance-pending:{open_session}')")

    page.unroute(MARK_API)
    expect(amel).to_have_attribute("data-state", "saved", timeout=20_000)
    assert page.evaluate(f"localStorage.getItem('attendance-pending:{open_session}')") is None
    page.reload()
    _pressed(_row(page, "Amel Bouzid"), "Absent")


def test_changes_pending_at_reload_are_sent_after_it(page, sign_in_as, live_server, open_session):
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    page.route(MARK_API, lambda route: route.abort())
    _row(page, "Walid Rahmani").get_by_role("button", name="Excused", exact=True).click()
    expect(_row(page, "Walid Rahmani")).to_have_attribute("data-state", "failed")
    page.unroute(MARK_API)
    page.reload()  # the change never reached the server; it is still in localStorage
    expect(_row(page, "Walid Rahmani")).to_have_attribute("data-state", "saved")
    page.reload()
    _pressed(_row(page, "Walid Rahmani"), "Excused")


def test_a_locked_session_cannot_be_changed(page, sign_in_as, live_server, sql, demo, open_session):
    service.lock_session(sql, sql.get(User, demo["users"]["admin"]), open_session, LockSession(reason="signed off"))
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    expect(page.get_by_text("this register is read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Mark all present")).to_have_count(0)
    expect(_row(page, "Lina Haddad").get_by_role("button", name="Present", exact=True)).to_be_disabled()


def test_keyboard_marks_the_focused_trainee(page, sign_in_as, live_server, open_session):
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    row = _row(page, "Nour Benali")
    row.get_by_role("button", name="Present", exact=True).focus()
    page.keyboard.press("a")
    _pressed(row, "Absent")
    expect(row).to_have_attribute("data-state", "saved")


def test_register_fits_a_375px_phone(phone_page, sign_in_as, live_server, open_session):
    sign_in_as(phone_page, "teacher")
    phone_page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    row = _row(phone_page, "Lina Haddad")
    row.get_by_role("button", name="Present", exact=True).tap()
    expect(row).to_have_attribute("data-state", "saved")
    phone_page.get_by_label("Search trainees").fill("meriem")
    expect(phone_page.locator(".register-row:visible")).to_have_count(1)


def test_one_arrow_key_moves_to_the_next_trainee(page, sign_in_as, live_server, open_session):
    """Issue 27, point 15: from a trainee's status buttons, ↓ lands on the next trainee's (same button), ↑ back."""
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    rows = page.locator(".register-row")
    first, second = rows.nth(0), rows.nth(1)
    first.get_by_role("button", name="Absent", exact=True).focus()
    page.keyboard.press("ArrowDown")
    expect(second.get_by_role("button", name="Absent", exact=True)).to_be_focused()
    page.keyboard.press("p")  # and marks that trainee
    _pressed(second, "Present")
    page.keyboard.press("ArrowUp")
    expect(first.get_by_role("button", name="Absent", exact=True)).to_be_focused()


def test_history_times_are_in_the_institutions_zone(page, sign_in_as, live_server, open_session):
    """Issue 27, point 7: a browser in another zone still reads the institution's (Algiers) time."""
    context = page.context.browser.new_context(timezone_id="America/New_York", locale="en-US")
    other = context.new_page()
    other.set_default_timeout(10_000)
    sign_in_as(other, "teacher")
    other.goto(f"{live_server}/institution/attendance/sessions/{open_session}")
    row = _row(other, "Lina Haddad")
    row.get_by_role("button", name="Present", exact=True).click()
    expect(row).to_have_attribute("data-state", "saved")
    row.get_by_role("button", name="History").click()
    entry = row.locator(".history li").first
    expect(entry).to_contain_text("10:3")  # 10:3x in Algiers; New York would read 04:3x
    assert "AM" not in entry.inner_text() and "PM" not in entry.inner_text()
    context.close()
