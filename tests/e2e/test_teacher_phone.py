"""The facilitator's start page on a 375-px phone (issue 27, point 14): each session is a card whose Register
button is on screen, without sideways scrolling, in English, French and Arabic."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User

pytestmark = pytest.mark.e2e
REGISTER = {"en": "Register", "fr": "Registre", "ar": "السجل"}


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_every_register_button_fits_a_375px_phone(phone_page, sign_in_as, live_server, sql, demo, language):
    sql.execute(update(User).where(User.id == demo["users"]["teacher"]).values(language=language))
    sql.commit()
    sign_in_as(phone_page, "teacher")
    phone_page.goto(f"{live_server}/teacher")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 375
    buttons = phone_page.locator(".session-row .btn-primary")
    assert buttons.count() >= 4
    for i in range(buttons.count()):
        button = buttons.nth(i)
        expect(button).to_have_text(REGISTER[language])
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (i, box)
    assert phone_page.locator("thead").first.bounding_box()["height"] <= 1  # cards: the table head is hidden
