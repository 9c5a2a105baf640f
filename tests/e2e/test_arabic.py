"""Arabic in real Chromium, on a phone (375 px) and a desktop (1280 px): the screens read right to left and
their layout mirrors. Positions are asserted (the brand at the right, the first status button right of the
others, Monday's column at the right), not just screenshots taken; the screenshots are kept for people to
look at (ARABIC_SCREENSHOTS=folder keeps them there, else in the test's temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User
from tests.attendance_factories import started_open_session
from tests.e2e.test_crawl import AXE, _links, page_problems

pytestmark = pytest.mark.e2e

WIDTHS = {"phone": 375, "desktop": 1280}


@pytest.fixture(params=sorted(WIDTHS))
def arabic(request, browser):
    """A page in a browser that asks for Arabic (Accept-Language: ar), at each width."""
    width = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": 800 if width < 1000 else 900}, locale="ar",
                                  is_mobile=width < 1000, has_touch=width < 1000)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = request.param
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ARABIC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(page, folder: Path, name: str) -> None:
    path = folder / f"ar-{name}-{page.width_name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 1000


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px of sideways scroll"


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _right_to_left(page) -> None:
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    brand, width = _box(page.locator(".navbar-brand")), page.viewport_size["width"]
    assert brand["x"] > width / 2, "the brand should sit at the right in Arabic"


def _sign_in(page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill("demo-password")
    page.get_by_role("button", name="تسجيل الدخول").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_sign_in_teacher_home_register_and_calendar_in_arabic(arabic, live_server, sql, demo, shots):
    page = arabic
    page.goto(f"{live_server}/login")
    _right_to_left(page)
    expect(page.get_by_role("heading", name="تسجيل الدخول")).to_be_visible()
    email_label, email_field = _box(page.get_by_text("البريد الإلكتروني", exact=True)), _box(page.locator("#email"))
    # The label sits at the field's start: its right edge, in Arabic.
    assert email_label["x"] + email_label["width"] >= email_field["x"] + email_field["width"] - 2
    _no_sideways_scroll(page)
    _shot(page, shots, "sign-in")

    session_id = started_open_session(sql, demo["public_cohort_id"], instructor_id=demo["users"]["teacher"])
    _sign_in(page, live_server, "teacher@demo.example")
    expect(page.get_by_role("heading", name="حصصي")).to_be_visible()
    _right_to_left(page)
    _no_sideways_scroll(page)
    _shot(page, shots, "teacher-home")

    page.goto(f"{live_server}/institution/attendance/sessions/{session_id}")
    row = page.locator(".register-row").first
    buttons = [_box(b) for b in row.locator(".status-btn").all()]
    assert len(buttons) == 4
    # حاضر (present) first in the markup: at the right, the others leftwards in order.
    assert [b["x"] for b in buttons] == sorted((b["x"] for b in buttons), reverse=True)
    assert buttons[0]["x"] > buttons[-1]["x"] + buttons[-1]["width"] - 1
    expect(row.locator(".status-btn").first).to_have_text("حاضر")
    row.locator(".status-btn").first.click()
    expect(row).to_have_attribute("data-state", "saved")
    expect(row.locator(".row-state")).to_have_text("حُفظ")
    expect(page.locator("#sync-state")).to_have_text("حُفظت جميع التغييرات")
    expect(page.locator('[data-count="PRESENT"]')).to_have_text("1")
    _right_to_left(page)
    _no_sideways_scroll(page)
    _shot(page, shots, "register")

    page.goto(f"{live_server}/institution/attendance/calendar")
    grid = page.get_by_test_id("calendar-grid")
    grid.wait_for()
    expect(page.locator("#cal-title")).not_to_be_empty()
    if page.width_name == "desktop":  # the phone shows one day under another, without the weekday header
        headers = [_box(th) for th in grid.locator("thead th").all()]
        assert len(headers) == 7 and headers[0]["x"] > headers[-1]["x"]  # Monday's column at the right
        expect(grid.locator("thead th").first).to_have_text("الاثنين")
    previous, following = _box(page.locator("[data-move='-1']")), _box(page.locator("[data-move='1']"))
    assert previous["x"] > following["x"]  # "previous" points back, to the right, in Arabic
    _right_to_left(page)
    _no_sideways_scroll(page)
    _shot(page, shots, "calendar")


def test_import_status_page_in_arabic(arabic, live_server, live_worker, sql, demo, shots, tmp_path):
    page = arabic
    sql.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="ar"))
    sql.commit()
    csv = tmp_path / "trainees.csv"
    csv.write_text("full_name;phone\r\nسارة بن علي;0555000001\r\nÉlodie Martin;021 12 34 56\r\n", encoding="utf-8")
    _sign_in(page, live_server, "admin@demo.example")
    page.goto(f"{live_server}/admin/corporate-cohorts/{demo['corporate_cohort_id']}/trainees/import")
    page.locator("#file").set_input_files(str(csv))
    page.get_by_role("button", name="الرفع والتحقق").click()
    page.get_by_test_id("import-status").filter(has_text="مُتحقَّق منه").wait_for(timeout=60_000)
    expect(page.get_by_test_id("valid-count")).to_have_text("1")
    expect(page.get_by_test_id("preview")).to_contain_text("ليس رقم جوال")  # the row's problem, in Arabic
    crumbs = page.locator(".breadcrumb-item")
    assert _box(crumbs.first)["x"] > _box(crumbs.last)["x"]  # the trail reads from the right
    _right_to_left(page)
    _no_sideways_scroll(page)
    _shot(page, shots, "import-status")


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize("role", ["admin", "teacher"])
def test_every_page_in_arabic_is_right_to_left_fits_and_passes_axe(browser, live_server, sign_in_as, sql, demo, role):
    sql.execute(update(User).where(User.id == demo["users"][role]).values(language="ar"))
    sql.commit()
    problems: list[str] = []
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)  # axe is injected
        page = context.new_page()
        page.set_default_timeout(10_000)
        queue, seen = [urlparse(sign_in_as(page, role)).path], set()
        while queue and len(seen) < 30:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            page.goto(live_server + path)
            fresh = [p for p in _links(page, live_server) if p not in seen and p not in queue]
            queue += fresh[:8 if width > 1000 else 3]
            if page.evaluate("document.documentElement.dir") != "rtl":
                problems.append(f"{role} {width}px: {path} is not right to left")
            problems += page_problems(page, f"{role} {width}px: {path}", width)
        context.close()
    assert len(seen) > 5 and problems == [], "\n".join(problems)
