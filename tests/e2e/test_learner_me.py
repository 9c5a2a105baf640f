"""A learner's first steps in real Chromium (issue 21): the admin invites the cohort from its page; a learner
reads the invitation on the loopback SMTP server, chooses a password on a 375-px phone, lands on /me (no sideways
scrolling, no serious axe-core violation) and sends an apology by keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User
from tests.conftest import wait_for
from tests.e2e.test_crawl import AXE, _serious
from tests.mailbox import mail_text
from tests.tasks.conftest import smtp  # noqa: F401  (the fixture: a real SMTP server on loopback)

pytestmark = [pytest.mark.e2e, pytest.mark.redis]
MY_ATTENDANCE = {"fr": "Mes présences", "ar": "حضوري"}
LEARNER = "learner1@example.com"  # the public cohort's second learner (the first has the demo account)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
def test_an_invited_learner_sets_a_password_and_uses_me_on_a_phone(browser, page, live_server, live_worker,
                                                                    sign_in_as, demo, smtp):  # noqa: F811
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/institution/attendance/cohorts/{demo['public_cohort_id']}")
    page.get_by_role("button", name="Invite everyone with an email address to their own account").click()
    expect(page.get_by_role("alert").filter(has_text="invited to their own account")).to_be_visible()
    link = re.search(r"http://testserver(/password/reset/\S+)",
                     mail_text(wait_for(lambda: smtp.to(LEARNER), timeout=30)[-1])).group(1)

    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                                bypass_csp=True).new_page()  # axe-core is injected from outside
    phone.set_default_timeout(15_000)
    phone.goto(live_server + link)
    phone.get_by_label("New password (at least 10 characters)").fill("linas-own-password")
    phone.get_by_role("button", name="Set password").click()
    phone.goto(f"{live_server}/login")
    phone.get_by_label("Email").fill(LEARNER)
    phone.get_by_label("Password").fill("linas-own-password")
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url(f"{live_server}/me")

    expect(phone.get_by_role("heading", name="My attendance")).to_be_visible()
    expect(phone.get_by_role("heading", name="My cohorts")).to_be_visible()
    expect(phone.get_by_text("Welding — Intake 1").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert _serious(phone) == []

    # An apology by keyboard: tick the first upcoming session, give a reason, send.
    first = phone.locator("input[name=session_ids]").first
    first.focus()
    phone.keyboard.press("Space")
    expect(first).to_be_checked()
    phone.get_by_label("Reason", exact=True).fill("Dentist appointment")
    phone.get_by_role("button", name="Send the apology").focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("alert").filter(has_text="Your apology was sent")).to_be_visible()
    expect(phone.get_by_text("Dentist appointment")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_me_in_french_and_arabic_fits_a_phone_and_passes_axe(browser, live_server, sign_in_as, sql, demo, language):
    sql.execute(update(User).where(User.id == demo["users"]["learner"]).values(language=language))
    sql.commit()
    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True,
                                bypass_csp=True).new_page()
    phone.set_default_timeout(15_000)
    sign_in_as(phone, "learner")
    expect(phone.get_by_role("heading", level=1)).to_have_text(MY_ATTENDANCE[language])
    assert phone.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert _serious(phone) == []
    phone.context.close()
