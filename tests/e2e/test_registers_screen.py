"""Register documents in real Chromium: ask for one, and the download appears without a reload."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from core import clock
from core.models import Cohort
from tests.attendance_factories import make_session


def test_a_requested_pdf_appears_for_download_without_a_reload(page, sign_in_as, live_server, live_worker, sql,
                                                               demo):
    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers") - dt.timedelta(days=1),
                              dt.time(18), dt.time(19))
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{session_id}")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    panel = page.locator("[data-registers]")
    panel.get_by_role("button", name="PDF register").click()
    item = panel.locator(".register-document").first
    expect(item).to_contain_text("PDF · R")
    link = item.get_by_role("link", name="Download")
    expect(link).to_be_visible(timeout=90_000)
    assert navigations == []  # no reload: the page polled and updated itself
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("register-welding-intake-1-")
    assert download.value.suggested_filename.endswith(".pdf")


def test_cohort_registers_page_builds_a_cohort_register(page, sign_in_as, live_server, live_worker, sql, demo):
    cohort = sql.get(Cohort, demo["public_cohort_id"])
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/institution/cohorts/{cohort.id}/registers")
    panel = page.locator("[data-registers]")
    expect(panel.get_by_label("From")).to_have_value(cohort.start_date.isoformat())
    panel.get_by_role("button", name="Excel (XLSX)").click()
    link = panel.locator(".register-document").first.get_by_role("link", name="Download")
    expect(link).to_be_visible(timeout=90_000)
    # The page's own content fits (the admin menu's width at 1280 px is the navigation's, fixed elsewhere).
    assert page.evaluate("document.getElementById('main').scrollWidth <= document.getElementById('main').clientWidth")


def test_verify_page_fits_a_phone_and_says_when_a_reference_is_unknown(phone_page, live_server, demo):
    response = phone_page.goto(f"{live_server}/verify/RNONE-NONE-NONE")
    assert response.status == 404
    expect(phone_page.get_by_role("alert")).to_contain_text("No issued register has the reference")
    expect(phone_page.get_by_label("The register PDF")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
