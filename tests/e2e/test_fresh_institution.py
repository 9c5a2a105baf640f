"""A fresh institution in real Chromium, as README's "Your own installation" sets it up: its admin creates a
qualification, a cohort and a teacher, imports learners into the cohort, assigns the teacher, schedules sessions
with the teacher as instructor; the teacher signs in, sees them on /teacher and marks one; the cohort list
shows the progress."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from core import clock
from tests.e2e.screens import create_cohort

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-admin-password"
TEACHER_PASSWORD = "a-long-teacher-password"


def _fresh_institution(app, zone: str) -> None:
    """The first two of README's three commands, through the real CLI."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["institutions", "create", "--name", "Cape Skills", "--slug", "cape",
                                 "--time-zone", zone, "--country", "DZ"])  # an Etc/ zone names no country
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "--email", "boss@cape.example", "--role", "admin",
                                 "--name", "Thandi Boss", "--institution", "cape", "--password", PASSWORD])
    assert result.exit_code == 0, result.output


def _sign_in(page, live_server: str, email: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _learners_csv(tmp_path) -> str:
    path = tmp_path / "learners.csv"
    path.write_text("full_name;id_number;email;phone\r\n"
                    "Zanele Mokoena;CAPE-001;zanele@example.com;0550 11 22 33\r\n"
                    "Pieter van Wyk;CAPE-002;;\r\n"
                    "Ayanda Dlamini;CAPE-003;ayanda@example.com;\r\n", encoding="utf-8")
    return str(path)


ZONE = "Africa/Algiers"


# 10:30 in Algiers: a 09:00–10:00 session today has started and ended, and its marks count (learners imported
# today are enrolled from today).
@pytest.mark.clock_at("2026-11-17T10:30", zone=ZONE)
def test_a_fresh_institution_runs_from_setup_to_a_marked_register(app, browser, live_server, live_worker, demo,
                                                                   tmp_path):
    zone = ZONE
    today = clock.today_in(zone)
    _fresh_institution(app, zone)
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(15_000)
    _sign_in(admin, live_server, "boss@cape.example", PASSWORD)

    # 1. A qualification, a cohort and a teacher.
    admin.goto(f"{live_server}/admin/qualifications")
    admin.get_by_label("Code", exact=True).fill("SAQA-123")
    admin.get_by_label("Title", exact=True).fill("Occupational Certificate: Welder")
    admin.get_by_label("NQF level", exact=True).fill("4")
    admin.get_by_role("button", name="Add").click()
    expect(admin.get_by_role("cell", name="Occupational Certificate: Welder")).to_be_visible()

    admin.goto(f"{live_server}/institution/attendance/cohorts")
    expect(admin.get_by_test_id("cohort-list")).to_contain_text("No cohorts match.")  # the demo's are not ours
    cohort_url = create_cohort(admin, live_server, "Welders 2026", "SAQA-123 · Occupational Certificate: Welder",
                               today, today + dt.timedelta(days=60))

    admin.goto(f"{live_server}/admin/users")
    admin.get_by_label("Full name", exact=True).fill("Sipho Teacher")
    admin.get_by_label("Email", exact=True).fill("sipho@cape.example")
    admin.get_by_label("Role", exact=True).select_option("teacher")
    admin.get_by_label("First password (optional)").fill(TEACHER_PASSWORD)
    admin.get_by_role("button", name="Add").click()
    expect(admin.get_by_role("alert").filter(has_text="Sipho Teacher can now sign in.")).to_be_visible()

    # 2. Learners imported into the cohort (validated and committed by the worker); the teacher assigned.
    admin.goto(cohort_url)
    admin.get_by_role("link", name="Import learners into this cohort").click()
    expect(admin.get_by_label("Enrol them into (optional)")).to_have_value(cohort_url.rsplit("/", 1)[1])
    admin.get_by_label("CSV file").set_input_files(_learners_csv(tmp_path))
    admin.get_by_role("button", name="Upload and check").click()
    admin.get_by_test_id("import-status").filter(has_text="VALIDATED").wait_for(timeout=60_000)
    assert admin.get_by_test_id("valid-count").inner_text() == "3"
    admin.get_by_test_id("commit-button").click()
    admin.get_by_test_id("import-status").filter(has_text="COMMITTED").wait_for(timeout=60_000)
    assert admin.get_by_test_id("enrolled-count").inner_text() == "3"

    admin.get_by_role("link", name="Welders 2026").click()
    expect(admin.locator("#learners")).to_contain_text("Pieter van Wyk")
    admin.get_by_label("Sipho Teacher").check()
    admin.get_by_role("button", name="Save facilitators").click()
    expect(admin.get_by_label("Sipho Teacher")).to_be_checked()

    # 3. A week of morning sessions, every day, with the teacher as instructor.
    admin.get_by_role("link", name="Plan sessions (scheduler)").click()
    admin.get_by_label("From", exact=True).fill(today.isoformat())
    admin.get_by_label("To", exact=True).fill((today + dt.timedelta(days=6)).isoformat())
    for day in ("Sat", "Sun"):
        admin.get_by_label(day, exact=True).check()
    admin.locator("#slot1_start").fill("09:00")
    admin.locator("#slot1_end").fill("10:00")
    admin.locator("#slot1_instructor").select_option(label="Sipho Teacher")
    admin.get_by_label("Skip the country's public holidays").uncheck()  # every day of the week, whatever the date
    admin.get_by_role("button", name="Preview").click()
    expect(admin.get_by_test_id("preview-summary")).to_contain_text("7 to create")
    admin.get_by_role("button", name="Apply: create 7 session(s)").click()
    expect(admin.get_by_role("heading", name=re.compile("Scheduled sessions"))).to_contain_text("(7)")

    admin.goto(f"{live_server}/institution/attendance/cohorts")
    expect(admin.get_by_test_id("cohort-progress")).to_contain_text("1 of 7 sessions held")
    expect(admin.get_by_test_id("cohort-progress")).to_contain_text("1 unmarked session")

    # 4. The teacher signs in, finds today's session on /teacher and marks everyone present.
    teacher = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True).new_page()
    teacher.set_default_timeout(15_000)
    _sign_in(teacher, live_server, "sipho@cape.example", TEACHER_PASSWORD)
    assert teacher.url.endswith("/teacher")
    def rows_under(heading: str):
        return teacher.locator("section", has=teacher.get_by_role("heading", name=heading, exact=True)
                               ).locator("tbody tr")

    today_rows = rows_under("Today")
    expect(today_rows).to_have_count(1)
    expect(today_rows).to_contain_text("Welders 2026")
    expect(rows_under("Next seven days")).to_have_count(6)
    today_rows.get_by_role("link", name="Register").click()
    teacher.get_by_role("button", name="Mark all present").click()
    expect(teacher.locator("#sync-state")).to_have_text("All changes saved")
    expect(teacher.locator('[data-count="PRESENT"]')).to_have_text("3")

    # 5. The admin's cohort list shows the progress.
    admin.reload()
    progress = admin.get_by_test_id("cohort-progress")
    expect(progress).to_contain_text("1 of 7 sessions held")
    expect(progress).to_contain_text("attendance 100%")
    expect(progress).not_to_contain_text("unmarked")
    expect(admin.get_by_role("progressbar", name="Sessions held of Welders 2026")).to_have_attribute("value", "14")
    admin.context.close()
    teacher.context.close()
