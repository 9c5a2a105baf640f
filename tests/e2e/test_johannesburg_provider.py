"""A Johannesburg provider's first week in real Chromium (issue 27): the institution gets country ZA from its time
zone; South African phones are read as such; a facilitator added without a password gets the welcome mail (read
from the loopback SMTP server) and chooses one; learners are enrolled by searching and ticking, from a date in the
past, and a mark on a session before today counts in their rate; an organization member is added from the
organization's page."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core import clock
from core.models import Cohort, Institution, Learner, User
from tests.attendance_factories import make_session
from tests.e2e.screens import create_cohort
from tests.mailbox import mail_text
from tests.tasks.conftest import smtp  # noqa: F401  (the fixture: a real SMTP server on loopback)

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

PASSWORD = "a-long-admin-password"
ZONE = "Africa/Johannesburg"


def _wait_for_mail(box, address: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := box.to(address):
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address}")


def _sign_in(page, live_server: str, email: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_johannesburg_provider_from_setup_to_counted_backfilled_marks(app, browser, live_server, live_worker,
                                                                      demo, smtp, sql):  # noqa: F811
    runner = app.test_cli_runner()
    made = runner.invoke(args=["institutions", "create", "--name", "Jozi Skills", "--slug", "jozi",
                               "--time-zone", ZONE])
    assert made.exit_code == 0 and ", ZA)" in made.output, made.output
    made = runner.invoke(args=["users", "create", "--email", "boss@jozi.example", "--role", "admin", "--name",
                               "Lindiwe Boss", "--institution", "jozi", "--password", PASSWORD])
    assert made.exit_code == 0, made.output
    assert sql.scalar(select(Institution.country).where(Institution.slug == "jozi")) == "ZA"
    today = clock.today_in(ZONE)  # the suite's clock (pinned under test), as the live server reads it
    start = today - dt.timedelta(days=14)

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.set_default_timeout(15_000)
    _sign_in(admin, live_server, "boss@jozi.example", PASSWORD)

    # Learners with South African mobiles written nationally.
    admin.goto(f"{live_server}/admin/learners")
    for name, id_number, phone in (("Thabo Mokoena", "9001015800081", "082 555 1234"),
                                   ("Naledi Dlamini", "9102026800082", "071 123 4567")):
        admin.get_by_label("Full name", exact=True).fill(name)
        admin.get_by_label("ID / passport number").fill(id_number)
        admin.get_by_label("Mobile", exact=True).fill(phone)
        admin.get_by_role("button", name="Add").click()
        expect(admin.get_by_role("alert").filter(has_text=f"Learner {name} added.")).to_be_visible()
    assert sql.scalar(select(Learner.phone_e164).where(Learner.id_number == "9001015800081")) == "+27825551234"

    # A facilitator added without a password: the welcome mail's link sets one.
    admin.goto(f"{live_server}/admin/users")
    admin.get_by_label("Full name", exact=True).fill("Sipho Facilitator")
    admin.get_by_label("Email", exact=True).fill("sipho@jozi.example")
    admin.get_by_label("Role", exact=True).select_option("teacher")
    admin.get_by_label("Mobile (optional)").fill("083 123 4567")
    admin.get_by_role("button", name="Add").click()
    expect(admin.get_by_role("alert").filter(has_text="Sipho Facilitator was sent a link")).to_be_visible()
    link = re.search(r"http://testserver(/password/reset/\S+)",
                     mail_text(_wait_for_mail(smtp, "sipho@jozi.example"))).group(1)
    newcomer = browser.new_context().new_page()
    newcomer.goto(live_server + link)
    newcomer.get_by_label("New password (at least 10 characters)").fill("siphos-first-password")
    newcomer.get_by_role("button", name="Set password").click()
    _sign_in(newcomer, live_server, "sipho@jozi.example", "siphos-first-password")
    newcomer.context.close()
    assert sql.scalar(select(User.phone_e164).where(User.email == "sipho@jozi.example")) == "+27831234567"

    # A cohort that started two weeks ago; learners enrolled by search, from its start.
    admin.goto(f"{live_server}/admin/qualifications")
    admin.get_by_label("Code", exact=True).fill("SAQA-99")
    admin.get_by_label("Title", exact=True).fill("Electrician")
    admin.get_by_role("button", name="Add").click()
    cohort_url = create_cohort(admin, live_server, "Electricians 2026", "SAQA-99 · Electrician", start,
                               today + dt.timedelta(days=90))
    search = admin.get_by_label("Find learners by name, ID number or email")
    search.fill("mokoena")
    admin.get_by_label(re.compile("Thabo Mokoena")).check()
    search.fill("9102026800082")
    admin.get_by_label(re.compile("Naledi Dlamini")).check()
    expect(admin.get_by_label(re.compile("Thabo Mokoena"))).to_be_checked()  # ticked ones stay
    admin.get_by_label("Enrolled from (optional)").fill(start.isoformat())
    admin.get_by_role("button", name="Enrol", exact=True).click()
    expect(admin.get_by_role("alert").filter(has_text="2 enrolled, 0 already enrolled.")).to_be_visible()

    # A session of yesterday (before today: it would not count from a default enrolment date) marked now.
    cohort_id = int(cohort_url.rsplit("/", 1)[1])
    session_id = make_session(sql, cohort_id, today - dt.timedelta(days=1), dt.time(9), dt.time(10))
    admin.goto(f"{live_server}/institution/attendance/sessions/{session_id}")
    admin.get_by_role("button", name="Mark all present").click()
    expect(admin.locator("#sync-state")).to_have_text("All changes saved")
    admin.goto(cohort_url)
    expect(admin.locator("#learners")).to_contain_text("Thabo Mokoena")
    expect(admin.locator("#learners tr", has_text="Thabo Mokoena")).to_contain_text("(1/1)")

    # An organization and a member added from its page; its portal access is linked from there.
    admin.goto(f"{live_server}/admin/organizations")
    admin.get_by_label("Name", exact=True).fill("Eskom Academy")
    admin.get_by_label("Contact phone (mobile)").fill("082 555 0000")
    admin.get_by_role("button", name="Create organization").click()
    expect(admin.get_by_role("heading", name="Eskom Academy")).to_be_visible()
    expect(admin.get_by_role("link", name="Portal access: reports naming its employees")).to_be_visible()
    admin.get_by_label("Full name", exact=True).fill("Zodwa Client")
    admin.get_by_label("Email", exact=True).fill("zodwa@eskom.example")
    admin.get_by_role("button", name="Add member").click()
    expect(admin.locator("#members + ul")).to_contain_text("Zodwa Client")
    _wait_for_mail(smtp, "zodwa@eskom.example")
    member = sql.scalar(select(User).where(User.email == "zodwa@eskom.example"))
    assert member.role.value == "org_member" and member.institution_id == sql.scalar(
        select(Cohort.institution_id).where(Cohort.id == cohort_id))
    admin.context.close()
