"""The invoice screens with the test client on the real database: an invoice's page, and its forms (issue,
record a payment, credit, delete a draft) posted with their CSRF token; who sees which page and form."""

from __future__ import annotations

import re

import pytest

from core.models import Invoice
from tests.conftest import wait_for
from tests.finance_factories import grant_finance, mark_all, other_organization_member, priced_cohort

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


@pytest.fixture
def draft(client, api, sql, demo):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    answer = client.post("/api/invoices", headers=api("admin"), json={"cohort_id": cohort["cohort_id"], **PERIOD})
    return answer.get_json()


def _token(page) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()


def _post(browser, url, form_page, **fields):
    """Post a form of `form_page` as a browser does (with its Referer: a refused form comes back to the page)."""
    page_url = url.rsplit("/", 1)[0]
    return browser.post(url, data={"csrf_token": _token(form_page), **fields}, follow_redirects=True,
                        headers={"Referer": f"http://localhost{page_url}"})


def test_an_admin_issues_then_records_a_payment_then_credits_from_the_invoice_page(login, sql, draft, published):
    admin = login("admin")
    url = f"/admin/invoices/{draft['id']}"
    page = admin.get(url)
    assert page.status_code == 200 and b"Draft invoice" in page.data and b"13800.00" in page.data
    assert b'action="/admin/invoices/%d/issue"' % draft["id"] in page.data
    issued = _post(admin, f"{url}/issue", page, language="fr")
    assert issued.status_code == 200 and b"INV-2026-000001 is issued" in issued.data
    assert b"Record a payment" in issued.data and b'name="paid_on"' in issued.data
    assert wait_for(lambda: [name for name, _ids in published]) == ["finance.build_document"]
    paid = _post(admin, f"{url}/payments", issued, amount="5870.00", paid_on="2026-11-16", reference="EFT 991")
    assert b"The payment is recorded." in paid.data and b"EFT 991" in paid.data
    credited = _post(admin, f"{url}/credit-notes", paid, amount="", reason="Course fee waived")
    assert b"CN-2026-000001" in credited.data or b"CNINV-2026-000001" in credited.data
    sql.expire_all()
    invoice = sql.get(Invoice, draft["id"])
    assert (invoice.status, invoice.paid, invoice.credited, invoice.balance, invoice.language) == (
        "paid", 587000, 1000000, 0, "fr")
    assert b"Record a payment" not in credited.data  # nothing left to pay or credit


def test_refused_form_input_comes_back_with_the_reason_and_changes_nothing(login, sql, draft):
    admin = login("admin")
    url = f"/admin/invoices/{draft['id']}"
    issued = _post(admin, f"{url}/issue", admin.get(url))
    over = _post(admin, f"{url}/payments", issued, amount="99999.00", paid_on="2026-11-16")
    assert b"A payment cannot exceed the invoice&#39;s balance (15870.00)." in over.data
    future = _post(admin, f"{url}/payments", issued, amount="1.00", paid_on="2027-01-01")
    assert b"A payment cannot be dated in the future." in future.data
    nul = _post(admin, f"{url}/credit-notes", issued, amount="1.00", reason="bad\x00reason")
    assert nul.status_code in (200, 400, 422)
    again = _post(admin, f"{url}/issue", issued)
    assert b"already been issued" in again.data
    sql.expire_all()
    invoice = sql.get(Invoice, draft["id"])
    assert (invoice.paid, invoice.credited, invoice.number) == (0, 0, "INV-2026-000001")


def test_a_form_without_its_csrf_token_is_refused(app, login, sql, draft):
    admin = login("admin")
    app.config["WTF_CSRF_ENABLED"] = True  # the suite turns it off; the form must not work without it
    try:
        refused = admin.post(f"/admin/invoices/{draft['id']}/issue", data={"language": "en"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    sql.expire_all()
    assert sql.get(Invoice, draft["id"]).status == "draft"


def test_a_draft_is_deleted_from_its_page(login, sql, draft):
    admin = login("admin")
    url = f"/admin/invoices/{draft['id']}"
    gone = _post(admin, f"{url}/delete", admin.get(url))
    assert b"The draft is deleted." in gone.data
    assert sql.get(Invoice, draft["id"]) is None


def test_who_sees_which_invoice_page_and_form(app, client, api, login, sql, demo, draft):
    url = f"/admin/invoices/{draft['id']}"
    support = login("support").get(url)
    assert support.status_code == 200 and b"/issue" not in support.data  # view only
    assert login("support").post(f"{url}/issue", data={}).status_code in (400, 403)
    assert login("teacher").get(url).status_code == 403
    admin = login("admin")
    _post(admin, f"{url}/issue", admin.get(url))
    org = login("org")
    mine = org.get(f"/org/invoices/{draft['id']}")
    assert mine.status_code == 200 and b"INV-2026-000001" in mine.data and b"csrf_token" not in mine.data.split(
        b"<main")[-1]
    listed = org.get("/org/invoices")
    assert f'href="/org/invoices/{draft["id"]}"'.encode() in listed.data
    other = other_organization_member(sql, demo["institution_id"])
    grant_finance(sql, other["organization_id"])
    from tests.conftest import sign_in

    stranger = app.test_client()
    sign_in(stranger, "initech@demo.example")
    assert stranger.get(f"/org/invoices/{draft['id']}").status_code == 404
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page


def test_each_role_sees_only_its_invoice_links(login, sql, demo):  # the demo grants Acme its invoices
    admin_home = login("admin").get("/admin").data
    assert b'href="/admin/invoices"' in admin_home and b'href="/org/invoices"' not in admin_home
    org_home = login("org").get("/org/programs").data
    assert b'href="/org/invoices"' in org_home and b'href="/admin/invoices"' not in org_home
    teacher_home = login("teacher").get("/teacher").data
    assert b"/invoices" not in teacher_home
