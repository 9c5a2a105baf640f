"""Self check-in in Chromium: the facilitator opens check-in and watches the count rise without reloading while
a learner on a 375-px phone checks in with the six-digit code on /me, and another by opening the QR's URL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.access.passwords import hash_password
from core.models import Enrolment, Learner, Role, User
from tests.attendance_factories import make_session

pytestmark = [pytest.mark.e2e, pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")]


@pytest.fixture
def session_id(sql, demo) -> int:
    return make_session(sql, demo["public_cohort_id"], dt.date(2026, 11, 17), dt.time(12), dt.time(13))


@pytest.fixture
def second_learner(sql, demo) -> None:
    second = sql.scalars(select(Learner).join(Enrolment, Enrolment.learner_id == Learner.id)
                         .where(Enrolment.cohort_id == demo["public_cohort_id"], Learner.user_id.is_(None))
                         .order_by(Learner.id)).first()
    user = User(institution_id=demo["institution_id"], email="learner2@demo.example", full_name=second.full_name,
                role=Role.LEARNER, password_hash=hash_password("demo-password"))
    sql.add(user)
    sql.flush()
    second.user_id = user.id
    sql.commit()


def test_learner_checks_in_by_code_at_375px_and_the_facilitator_count_rises_without_reload(
        browser, page, phone_page, sign_in_as, live_server, session_id, second_learner):
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{session_id}/check-in")
    page.locator("#open-check-in").click()
    expect(page.locator("#code")).to_have_text(re.compile(r"^\d{6}$"))
    expect(page.locator("#qr")).to_be_visible()
    expect(page.locator("#checked-in")).to_have_text("0")
    page.evaluate("window.__notReloaded = true")

    sign_in_as(phone_page, "learner")
    phone_page.goto(f"{live_server}/me")
    phone_page.locator("#check-in-code").fill(page.locator("#code").inner_text())
    phone_page.locator("#check-in-button").click()
    expect(phone_page.locator("#check-in-done")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator("#checked-in")).to_have_text("1")

    url = page.evaluate("fetch(document.getElementById('check-in').dataset.statusUrl).then(r => r.json())")["url"]
    other = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    try:
        qr_phone = other.new_page()
        sign_in_as(qr_phone, "learner2")
        qr_phone.goto(url)
        expect(qr_phone.locator("#check-in-done")).to_be_visible()
    finally:
        other.close()
    expect(page.locator("#checked-in")).to_have_text("2")
    assert page.evaluate("window.__notReloaded") is True
