"""Signatures on the register in Chromium at 375 px (issue 22): a learner draws their signature with a finger
(real touch events through the DevTools protocol) on the facilitator's phone, and the facilitator signs the
register off after re-entering the password."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

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
    phone_page.locator("#signature-save").tap()               # nothing drawn yet: refused on the spot
    expect(phone_page.locator("#signature-error")).to_have_text("Draw the signature first.")
    _draw_with_a_finger(phone_page, canvas)
    phone_page.locator("#signature-save").tap()
    thumb = row.locator("img.signature-thumb")
    expect(thumb).to_be_visible()
    expect(dialog).to_be_hidden()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    png = phone_page.request.get(live_server + thumb.get_attribute("src"))
    assert png.status == 200
    image = Image.open(io.BytesIO(png.body())).convert("L")
    assert image.getextrema()[0] < 100   # the stroke is in the stored drawing (dark pixels on white)
    phone_page.reload()                  # and the row shows it from the server
    expect(row.locator("img.signature-thumb")).to_be_visible()
    expect(row.locator(".sign-btn")).to_have_count(0)


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
