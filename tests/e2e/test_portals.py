"""In Chromium: an organization member opens a programme and sees its chart; a regulator asks for access
by cohort name, an admin approves it, and the regulator opens a register."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from core.models import AccessRequest
from tests.portal_factories import mark, past_sessions, trainees

pytestmark = pytest.mark.e2e


def test_an_organization_member_opens_a_programme_and_sees_the_chart(page, live_server, sign_in_as, sql, demo):
    cohort_id = demo["corporate_cohort_id"]
    sessions = past_sessions(sql, cohort_id)
    people = trainees(sql, cohort_id)
    mark(sql, sessions, {t.id: ("ABSENT" if i < 2 else "PRESENT") for i, t in enumerate(people)})
    landing = sign_in_as(page, "org")
    assert landing.endswith("/org/programs")
    page.get_by_role("link", name="Acme — Forklift Q4").click()
    expect(page.get_by_role("heading", name="Attendance rate over time")).to_be_visible()
    chart = page.get_by_role("img", name="Attendance rate per delivered session")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(len(sessions))
    expect(page.get_by_test_id("attendance-rate")).to_have_text("80.0%")
    assert chart.bounding_box()["width"] > 300


def test_the_portal_fits_a_375px_phone(phone_page, live_server, sign_in_as, demo):
    sign_in_as(phone_page, "org")
    for path in ("/org/programs", f"/org/programs/{demo['corporate_cohort_id']}"):
        phone_page.goto(f"{live_server}{path}")
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375, path


def test_a_regulator_asks_an_admin_approves_and_the_regulator_opens_a_register(browser, page, live_server,
                                                                              sign_in_as, sql, demo):
    sql.execute(delete(AccessRequest))
    sql.commit()
    sign_in_as(page, "regulator")
    expect(page.get_by_test_id("readable-cohorts")).to_contain_text("None at the moment")
    page.get_by_label("Find cohorts by name").fill("weld")
    choice = page.get_by_label("Welding — Intake 1")
    expect(choice).to_be_visible()
    expect(page.get_by_label("Acme — Forklift Q4")).to_have_count(0)
    choice.check()
    expect(page.get_by_label("Only the cohorts I tick below")).to_be_checked()
    page.get_by_label("Reason").fill("Quarterly QCTO audit of the attendance registers")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".alert-success")).to_contain_text("Request sent")

    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = admin_context.new_page()
    sign_in_as(admin, "admin")
    admin.goto(f"{live_server}/admin/access-requests")
    card = admin.locator(".access-request").first
    expect(card).to_contain_text("Rania Regulator")
    expect(card).to_contain_text("QCTO")
    expect(card).to_contain_text("Welding — Intake 1")
    card.get_by_role("button", name="Approve").click()
    expect(admin.locator(".alert-success")).to_contain_text("Access approved")
    admin_context.close()

    page.goto(f"{live_server}/regulator")
    page.get_by_test_id("readable-cohorts").get_by_role("link", name="Welding — Intake 1").click()
    page.get_by_role("link", name="Open register").first.click()
    expect(page.get_by_role("heading", name="Register · Welding — Intake 1")).to_be_visible()
    expect(page.get_by_role("button", name="Mark all present")).to_have_count(0)
