"""A refused form in Chromium (issue 27, point 8): the message names the field as the form labels it, in the
page's language, no validator output; and the form still holds what was typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User

pytestmark = pytest.mark.e2e


def test_a_refused_room_keeps_what_was_typed_and_says_why_in_french(page, sign_in_as, live_server, sql, demo):
    sql.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="fr"))
    sql.commit()
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/admin/rooms")
    page.get_by_label("Nom", exact=True).first.fill("Atelier soudure 3")
    page.get_by_label("Capacité", exact=True).first.fill("99999999999")
    page.get_by_label("Lieu", exact=True).first.fill("Bâtiment B")
    page.get_by_role("button", name="Ajouter").click()
    alert = page.locator(".alert-danger")
    expect(alert).to_contain_text("Capacité doit valoir au plus 10000.")
    assert "should" not in alert.inner_text() and "Input" not in alert.inner_text()
    expect(page.get_by_label("Nom", exact=True).first).to_have_value("Atelier soudure 3")
    expect(page.get_by_label("Lieu", exact=True).first).to_have_value("Bâtiment B")
    expect(page.get_by_label("Capacité", exact=True).first).to_have_value("99999999999")
