"""The invoice screens in real Chromium: an admin issues a draft, records a payment and credits the rest by
keyboard, at 1024 px and on a 375-px phone, with no sideways scroll and no serious axe-core violation; the client
organization's member reads it in French and in Arabic (right to left)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from core.models import User
from tests.e2e.test_crawl import AXE, _serious
from tests.finance_factories import mark_all, priced_cohort

pytestmark = pytest.mark.e2e
PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


@pytest.fixture
def draft_id(client, api, sql, demo) -> int:
    cohort = priced_cohort(sql, demo, name="Forklift Nov")
    mark_all(sql, cohort)
    return client.post("/api/invoices", headers=api("admin"),
                       json={"cohort_id": cohort["cohort_id"], **PERIOD}).get_json()["id"]


def _context(browser, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True,
                                  **({"is_mobile": True, "has_touch": True} if width < 500 else {}))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _fits_and_passes(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1
    assert _serious(page) == []


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize("width", [1024, 375])
def test_an_admin_issues_pays_and_credits_by_keyboard(browser, live_server, sign_in_as, draft_id, width):
    page = _context(browser, width)
    sign_in_as(page, "admin")
    page.goto(f"{live_server}/admin/invoices")
    page.get_by_role("link", name=f"draft #{draft_id}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft invoice")
    _fits_and_passes(page)
    page.get_by_label("Language of the PDF").select_option("fr")
    page.get_by_role("button", name="Issue invoice").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="is issued")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("INV-2026-")
    _fits_and_passes(page)
    amount = page.get_by_label("Amount (ZAR)")
    amount.focus()
    page.keyboard.type("870.00")
    page.get_by_label("Reference").focus()   # paid on: today, already filled
    page.keyboard.type("EFT 42")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="The payment is recorded.")).to_be_visible()
    expect(page.locator("#balance")).to_have_text("15000.00 ZAR")
    page.get_by_label("Reason").fill("Goodwill")
    page.get_by_label("Reason").press("Enter")
    expect(page.locator("#balance")).to_have_text("0.00 ZAR")
    expect(page.get_by_text("Goodwill")).to_be_visible()
    _fits_and_passes(page)
    page.context.close()


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize(("language", "heading"), [("fr", "Facture"), ("ar", "فاتورة")])
def test_the_client_reads_its_invoice_in_french_and_arabic(browser, live_server, sign_in_as, client, api, sql, demo,
                                                            draft_id, language, heading):
    client.post(f"/api/invoices/{draft_id}/issue", headers=api("admin"), json={})
    sql.execute(update(User).where(User.id == demo["users"]["org"]).values(language=language))
    sql.commit()
    page = _context(browser, 375)
    sign_in_as(page, "org")
    page.goto(f"{live_server}/org/invoices")
    page.locator(f'a[href="/org/invoices/{draft_id}"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    assert page.locator("form").count() == 0 or page.locator("form[action*='/issue']").count() == 0
    _fits_and_passes(page)
    page.context.close()
