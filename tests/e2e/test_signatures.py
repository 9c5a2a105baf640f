"""Signatures on the register in Chromium at 375 px (issue 22): a learner draws their signature with a finger
(real touch events through the DevTools protocol) on the facilitator's phone, and the facilitator signs the
register off after re-entering the password."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User
from tests.e2e.test_crawl import AXE, page_problems
from tests.registers_factories import enrolments_by_name, mark, past_session

pytestmark = pytest.mark.e2e


@pytest.fixture
def ended(sql, demo):
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    return session_id, ids


def _draw_with_a_finger(page, canvas) -> None:
    """One stroke across the canvas as touchStart, touchMoves and touchEnd (what a finger sends)."""
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y = box["x"] + 20, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for step in range(1, 25):
        point = {"x": x0 + step * (box["width"] - 40) / 24, "y": y + (20 if step % 2 else -20)}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    # These events travel on their own DevTools session: wait until the pad has drawn them before the next tap
    # (Playwright's own session) can overtake them on a busy machine.
    page.wait_for_function("""() => {
        const c = document.getElementById("signature-canvas");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 200 && d[i] < 100) return true; }
        return false;
    }""")


def test_a_learner_signs_their_row_with_a_finger_on_a_375px_phone(phone_page, sign_in_as, live_server, ended):
    session_id, ids = ended
    sign_in_as(phone_page, "teacher")
    phone_page.goto(f"{live_server}/institution/attendance/sessions/{session_id}")
    row = phone_page.locator(f'.register-row[data-member-id="{ids["Lina Haddad"]}"]')
    row.locator(".sign-btn").tap()
    dialog = phone_page.locator("#signature-dialog")
    expect(dialog).to_be_visible()
    canvas = dialog.locator("canvas")
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375  # the pad fits the phone
    _draw_with_a_finger(phone_page, canvas)
    # A click, not a tap: Chromium's gesture detector may still hold the stroke's touch sequence (sent on another
    # DevTools session) and swallow the click of a tap that follows at once.
    phone_page.locator("#signature-save").click()
    thumb = row.locator("img.signature-thumb")
    expect(thumb).to_be_visible(timeout=10_000)
    expect(dialog).to_be_hidden()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    png = phone_page.request.get(live_server + thumb.get_attribute("src"))
    assert png.status == 200
    image = Image.open(io.BytesIO(png.body())).convert("L")
    assert image.getextrema()[0] < 100   # the stroke is in the stored drawing (dark pixels on white)
    phone_page.reload()                  # and the row shows it from the server
    expect(row.locator("img.signature-thumb")).to_be_visible()
    expect(row.locator(".sign-btn")).to_have_count(0)
    other = phone_page.locator(f'.register-row[data-member-id="{ids["Karim Mansouri"]}"]')
    other.locator(".sign-btn").tap()
    phone_page.locator("#signature-save").tap()               # nothing drawn: refused on the spot
    expect(phone_page.locator("#signature-error")).to_have_text("Draw the signature first.", timeout=10_000)


def test_the_facilitator_signs_off_on_the_phone_after_re_entering_the_password(phone_page, sign_in_as, live_server,
                                                                              ended):
    sign_in_as(phone_page, "teacher")
    phone_page.goto(f"{live_server}/institution/attendance/sessions/{ended[0]}")
    expect(phone_page.locator("#sign-off-state")).to_have_text("Not signed yet.")
    form = phone_page.locator("#sign-off-form")
    form.get_by_label("Your password").fill("demo-password")
    form.get_by_role("button", name="Sign the register").tap()
    expect(phone_page.locator("#sign-off-state")).to_contain_text("Signed by Tarek Teacher")
    expect(phone_page.locator("#sign-off-password")).to_have_count(0)  # confirmed: not asked again for 5 minutes
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_register_with_its_sign_off_and_signature_pad_passes_axe(browser, live_server, sign_in_as, sql, demo,
                                                                     ended, language):
    sql.execute(update(User).where(User.id == demo["users"]["teacher"]).values(language=language))
    sql.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # axe is injected
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in_as(page, "teacher")
    page.goto(f"{live_server}/institution/attendance/sessions/{ended[0]}")
    assert page_problems(page, "register", 1280) == []
    page.locator(".sign-btn").first.click()
    expect(page.locator("#signature-dialog")).to_be_visible()
    assert page_problems(page, "signature pad", 1280) == []
    context.close()
