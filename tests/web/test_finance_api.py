"""Corporate finance through the API on the real database: terms, drafts from locked registers only, issuing
with gap-free numbers, immutability, credit notes, payments, statuses, the client's side and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from core.models import AuditEvent, ClassSession, CorporateAgreement, Invoice, InvoiceLine, OrganizationGrant
from tests.conftest import wait_for
from tests.finance_factories import grant_finance, mark_all, other_organization_member, priced_cohort, token_headers

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


@pytest.fixture
def billed(sql, demo):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    return cohort


def _draft(client, headers, cohort_id, **extra):
    return client.post("/api/invoices", headers=headers, json={"cohort_id": cohort_id, **PERIOD, **extra})


def test_a_draft_bills_attended_trainee_days_with_tax_per_line(client, api, billed):
    answer = _draft(client, api("admin"), billed["cohort_id"])
    assert answer.status_code == 201, answer.get_json()
    invoice = answer.get_json()
    # 4 trainees × 4 days = 16 trainee-days × 862.50 = 13,800.00; 15 % = 2,070.00
    assert invoice["status"] == "draft" and invoice["number"] is None
    [line] = invoice["lines"]
    assert (line["counts"], line["quantity"], line["unit_price"], line["amount"], line["tax"]) == (
        "attended_trainee_days", 16, "862.50", "13800.00", "2070.00")
    assert sorted(r["session_id"] for r in line["registers"]) == sorted(billed["sessions"])
    assert (invoice["subtotal"], invoice["tax"], invoice["total"], invoice["balance"]) == (
        "13800.00", "2070.00", "15870.00", "15870.00")
    assert invoice["document"] == {"status": None, "download_url": None}


def test_excused_and_absent_are_not_billed(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, people=3)
    t = cohort["trainees"]
    from tests.portal_factories import mark
    mark(sql, cohort["sessions"], {t[0]: "PRESENT", t[1]: "LATE", t[2]: "EXCUSED"})
    [line] = _draft(client, api("admin"), cohort["cohort_id"]).get_json()["lines"]
    assert line["quantity"] == 8


def test_unlocked_registers_are_named_and_only_locked_ones_counted(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, days=[dt.date(2026, 11, 13), dt.date(2026, 11, 16)])
    mark_all(sql, cohort)
    headers = api("admin")
    period = {"period_from": "2026-11-01", "period_to": "2026-11-16"}
    refused = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort["cohort_id"], **period})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "registers_not_locked"
    assert [d["session_id"] for d in error["details"]] == [cohort["sessions"][1]] and error["details"][0]["locks_at"]
    draft = client.post("/api/invoices", headers=headers,
                        json={"cohort_id": cohort["cohort_id"], **period, "skip_unlocked": True}).get_json()
    assert draft["lines"][0]["quantity"] == 4
    assert [r["session_id"] for r in draft["lines"][0]["registers"]] == [cohort["sessions"][0]]


def test_issue_numbers_dates_and_freezes(client, api, sql, billed, published):
    headers = api("admin")
    first = _draft(client, headers, billed["cohort_id"]).get_json()
    issued = client.post(f"/api/invoices/{first['id']}/issue", headers=headers, json={})
    assert issued.status_code == 200, issued.get_json()
    body = issued.get_json()
    assert body["number"] == "INV-2026-000001" and body["status"] == "issued"
    assert body["issued_on"] == "2026-11-17" and body["due_on"] == "2026-12-17"
    assert body["document"]["status"] == "PENDING"
    assert wait_for(lambda: [name for name, _ in published]) == ["finance.build_document"]  # sent after the answer
    again = client.post(f"/api/invoices/{first['id']}/issue", headers=headers, json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_issued"
    edit = client.patch(f"/api/invoices/{first['id']}", headers=headers,
                        json={"lines": [], "reason": "oops"})
    assert edit.status_code == 409
    assert client.delete(f"/api/invoices/{first['id']}", headers=headers).status_code == 409


def test_the_database_refuses_an_update_of_an_issued_invoices_lines(client, api, sql, billed):
    headers = api("admin")
    invoice = _draft(client, headers, billed["cohort_id"]).get_json()
    client.post(f"/api/invoices/{invoice['id']}/issue", headers=headers, json={})
    with pytest.raises(DBAPIError, match="immutable"):
        sql.execute(update(InvoiceLine).where(InvoiceLine.invoice_id == invoice["id"]).values(amount=1))
        sql.flush()
    sql.rollback()
    with pytest.raises(DBAPIError, match="immutable"):
        sql.execute(text("UPDATE invoices SET total = 1 WHERE id = :i"), {"i": invoice["id"]})
    sql.rollback()
    with pytest.raises(DBAPIError, match="immutable"):
        sql.execute(text("DELETE FROM invoice_lines WHERE invoice_id = :i"), {"i": invoice["id"]})
    sql.rollback()


def test_unlocking_after_issue_changes_nothing_and_the_next_draft_shows_the_difference(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, people=2)
    t = cohort["trainees"]
    from tests.portal_factories import mark
    mark(sql, cohort["sessions"], {t[0]: "PRESENT", t[1]: "ABSENT"})
    headers = api("admin")
    first = _draft(client, headers, cohort["cohort_id"]).get_json()
    issued = client.post(f"/api/invoices/{first['id']}/issue", headers=headers, json={}).get_json()
    assert issued["lines"][0]["quantity"] == 4
    # The register of the 13th is unlocked, the absent trainee is corrected to present, and it locks again.
    session_id = cohort["sessions"][-1]
    sql.execute(text("UPDATE corporate_attendance_records SET status = 'PRESENT' WHERE session_id = :s"),
                {"s": session_id})
    sql.execute(update(ClassSession).where(ClassSession.id == session_id).values(is_locked=True))
    sql.commit()
    assert client.get(f"/api/invoices/{first['id']}", headers=headers).get_json() == issued
    second = _draft(client, headers, cohort["cohort_id"]).get_json()
    [line] = second["lines"]
    assert line["quantity"] == 1 and line["registers"] == [{"session_id": session_id, "quantity": 1}]


def test_credit_notes_and_payments_move_the_balance_and_status(client, api, billed):
    headers = api("admin")
    invoice = _draft(client, headers, billed["cohort_id"]).get_json()
    client.post(f"/api/invoices/{invoice['id']}/issue", headers=headers, json={})
    over = client.post(f"/api/invoices/{invoice['id']}/credit-notes", headers=headers,
                       json={"amount": "15870.01", "reason": "too much"})
    assert over.status_code == 422 and over.get_json()["error"]["code"] == "over_credit"
    note = client.post(f"/api/invoices/{invoice['id']}/credit-notes", headers=headers,
                       json={"amount": "1150.00", "reason": "one trainee-day disputed"})
    assert note.status_code == 201, note.get_json()
    # 1,150.00 tax included at 15 %: 1,000.00 + 150.00
    assert note.get_json()["number"] == "CNINV-2026-000001"
    assert (note.get_json()["subtotal"], note.get_json()["tax"]) == ("1000.00", "150.00")
    paid = client.post(f"/api/invoices/{invoice['id']}/payments", headers=headers,
                       json={"amount": "10000.00", "paid_on": "2026-11-17", "reference": "EFT 42"})
    assert paid.status_code == 201
    now = client.get(f"/api/invoices/{invoice['id']}", headers=headers).get_json()
    assert (now["status"], now["balance"]) == ("partly_paid", "4720.00")
    too_much = client.post(f"/api/invoices/{invoice['id']}/payments", headers=headers,
                           json={"amount": "4720.01", "paid_on": "2026-11-17"})
    assert too_much.status_code == 422 and too_much.get_json()["error"]["code"] == "overpayment"
    client.post(f"/api/invoices/{invoice['id']}/payments", headers=headers,
                json={"amount": "4720.00", "paid_on": "2026-11-17"})
    done = client.get(f"/api/invoices/{invoice['id']}", headers=headers).get_json()
    assert (done["status"], done["balance"]) == ("paid", "0.00")


def test_terms_of_an_active_agreement_need_a_reason_and_keep_history(client, api, sql, billed):
    headers = api("admin")
    url = f"/api/corporate-agreements/{billed['agreement_id']}"
    refused = client.patch(url, headers=headers, json={"unit_price": "900.00"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "reason_required"
    changed = client.patch(url, headers=headers, json={"unit_price": "900.00", "reason": "2027 rates"})
    assert changed.status_code == 200 and changed.get_json()["unit_price"] == "900.00"
    assert sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "agreement.terms")) == 1
    rows = sql.execute(text("SELECT reason FROM agreement_terms_changes WHERE agreement_id = :a"),
                       {"a": billed["agreement_id"]}).scalars().all()
    assert rows == ["2027 rates"]


@pytest.mark.parametrize("body, code", [
    ({"unit_price": "-1.00", "reason": "r"}, 422),
    ({"unit_price": "1.001", "reason": "r"}, 422),
    ({"unit_price": "99999999999999999", "reason": "r"}, 422),
    ({"currency": "ZZZ", "unit_price": "1.00", "reason": "r"}, 422),
    ({"tax_rate": "100.01", "reason": "r"}, 422),
    ({"tax_rate": "abc", "reason": "r"}, 422),
    ({"unit_price": "1\u0000", "reason": "r"}, 422),
    ({"pricing_model": "per_smile", "reason": "r"}, 422),
])
def test_bad_terms_are_refused_and_nothing_changes(client, api, sql, billed, body, code):
    answer = client.patch(f"/api/corporate-agreements/{billed['agreement_id']}", headers=api("admin"), json=body)
    assert answer.status_code in (code, 400), answer.get_json()
    assert answer.get_json()["error"]["message"]
    sql.expire_all()
    agreement = sql.get(CorporateAgreement, billed["agreement_id"])
    assert (agreement.unit_price, agreement.currency, agreement.tax_rate) == (86250, "ZAR", 1500)


@pytest.mark.parametrize("period", [
    {"period_from": "2026-11-15", "period_to": "2026-11-01"},
    {"period_from": "2026-01-01", "period_to": "2026-01-31"},
])
def test_backwards_or_outside_periods_are_refused(client, api, sql, billed, period):
    answer = client.post("/api/invoices", headers=api("admin"), json={"cohort_id": billed["cohort_id"], **period})
    assert answer.status_code == 422
    assert sql.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_three_decimal_currency_is_exact(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, model="per_delivered_session", price=1005, currency="KWD", rate=500,
                           name="Kuwait")
    invoice = _draft(client, api("admin"), cohort["cohort_id"]).get_json()
    # 4 sessions × 1.005 = 4.020; 5 % = 0.201
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("4.020", "0.201", "4.221")


def test_roles_and_other_organizations(app, client, api, sql, demo, billed):
    admin = api("admin")
    invoice = _draft(client, admin, billed["cohort_id"]).get_json()
    client.post(f"/api/invoices/{invoice['id']}/issue", headers=admin, json={})
    assert client.get("/api/invoices", headers=api("support")).status_code == 200
    assert client.post("/api/invoices", headers=api("support"),
                       json={"cohort_id": billed["cohort_id"], **PERIOD}).status_code == 403
    assert client.get("/api/invoices", headers=api("teacher")).status_code == 403
    org = api("org")
    sql.execute(delete(OrganizationGrant).where(OrganizationGrant.permission == "corporate_finance.view"))
    sql.commit()
    assert client.get("/api/org/invoices", headers=org).status_code == 403  # not granted (the demo grants it)
    grant_finance(sql, demo["organization_id"])
    mine = client.get("/api/org/invoices", headers=org).get_json()
    assert [i["id"] for i in mine["items"]] == [invoice["id"]]
    other = other_organization_member(sql, demo["institution_id"])
    grant_finance(sql, other["organization_id"])
    stranger = token_headers(app, other["member_id"])
    assert client.get("/api/org/invoices", headers=stranger).get_json()["items"] == []
    assert client.get(f"/api/invoices/{invoice['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/organizations/{demo['organization_id']}/statement", headers=stranger).status_code == 404
    statement = client.get(f"/api/organizations/{demo['organization_id']}/statement", headers=org).get_json()
    assert statement["balances"] == {"ZAR": "15870.00"}


def test_exports_neutralize_formulas(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, name="=cmd|calc")
    mark_all(sql, cohort)
    headers = api("admin")
    _draft(client, headers, cohort["cohort_id"])
    csv_text = client.get("/api/invoices/export.csv", headers=headers).data.decode("utf-8-sig")
    assert "'=cmd|calc" in csv_text
    xlsx = client.get("/api/invoices/export.xlsx", headers=headers)
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_billing_schedule_follows_the_sessions(client, api, sql, demo, billed):
    headers = api("admin")
    sql.execute(update(CorporateAgreement).where(CorporateAgreement.id == billed["agreement_id"])
                .values(pricing_model="per_delivered_session"))
    sql.commit()
    url = f"/api/corporate-cohorts/{billed['cohort_id']}/billing-schedule"
    before = client.get(url, headers=headers).get_json()
    # No end date: the schedule ends with the last planned session.
    assert [(e["due_on"], e["quantity"]) for e in before["expected"]] == [("2026-11-13", 4)]
    from tests.attendance_factories import make_session
    make_session(sql, billed["cohort_id"], dt.date(2026, 12, 1), dt.time(8), dt.time(9))
    after = client.get(url, headers=headers).get_json()
    assert [(e["due_on"], e["quantity"]) for e in after["expected"]] == [("2026-11-30", 4), ("2026-12-01", 1)]


def test_a_draft_is_edited_with_a_reason_and_deleted(client, api, sql, billed):
    headers = api("admin")
    invoice = _draft(client, headers, billed["cohort_id"]).get_json()
    [line] = invoice["lines"]
    edited = client.patch(f"/api/invoices/{invoice['id']}", headers=headers, json={
        "reason": "agreed discount",
        "lines": [{"id": line["id"], "description": line["description"], "quantity": 16, "unit_price": "862.50"},
                  {"description": "Discount", "quantity": 1, "unit_price": "0.05", "tax_rate": "0"}]})
    assert edited.status_code == 200, edited.get_json()
    body = edited.get_json()
    assert [(x["counts"], x["amount"], x["reason"]) for x in body["lines"]] == [
        ("attended_trainee_days", "13800.00", "agreed discount"), ("manual", "0.05", "agreed discount")]
    assert body["lines"][0]["registers"] == line["registers"]  # unchanged quantity keeps its registers
    assert body["total"] == "15870.05"
    for bad in ({"reason": "x", "lines": [{"description": "a", "quantity": 1, "unit_price": "1.001"}]},
                {"reason": "x", "lines": [{"description": "a\u0000", "quantity": 1, "unit_price": "1.00"}]},
                {"reason": "x", "lines": [{"description": "a", "quantity": 1_000_000, "unit_price": "9999999999.99"}]},
                {"reason": "x", "lines": [{"id": 999999, "description": "a", "quantity": 1, "unit_price": "1.00"}]},
                {"lines": []}):
        refused = client.patch(f"/api/invoices/{invoice['id']}", headers=headers, json=bad)
        assert refused.status_code in (400, 422), (bad, refused.get_json())
    assert client.get(f"/api/invoices/{invoice['id']}", headers=headers).get_json()["total"] == "15870.05"
    assert client.delete(f"/api/invoices/{invoice['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/invoices/{invoice['id']}", headers=headers).status_code == 404


def test_a_billing_run_drafts_every_cohort_or_none(client, api, sql, demo, billed):
    other = priced_cohort(sql, demo, model="fixed", price=1_000_000, name="Fixed")
    headers = api("admin")
    run = client.post("/api/invoices/batch", headers=headers,
                      json={"cohort_ids": [billed["cohort_id"], other["cohort_id"]], **PERIOD})
    assert run.status_code == 201, run.get_json()
    first, second = run.get_json()["invoice_ids"]
    assert client.get(f"/api/invoices/{first}", headers=headers).get_json()["total"] == "15870.00"
    # Fixed, monthly, no end date: October's and November's instalments of a cohort started on 18 October.
    fixed = client.get(f"/api/invoices/{second}", headers=headers).get_json()
    assert [x["counts"] for x in fixed["lines"]] == ["instalment", "instalment"]
    refused = client.post("/api/invoices/batch", headers=headers,
                          json={"cohort_ids": [billed["cohort_id"], 999999], **PERIOD})
    assert refused.status_code == 404
    assert sql.scalar(select(func.count()).select_from(Invoice)) == 2


def test_the_org_portal_lists_the_organizations_invoices(client, api, login, billed):
    headers = api("admin")
    invoice = _draft(client, headers, billed["cohort_id"]).get_json()
    number = client.post(f"/api/invoices/{invoice['id']}/issue", headers=headers, json={}).get_json()["number"]
    page = login("org").get("/org/invoices")
    assert page.status_code == 200 and number.encode() in page.data
    assert login("teacher").get("/org/invoices").status_code == 403


def test_the_terms_screen_saves_with_a_reason(login, sql, billed):
    admin = login("admin")
    url = f"/admin/corporate-agreements/{billed['agreement_id']}/terms"
    page = admin.get(url)
    assert page.status_code == 200 and b'value="862.50"' in page.data
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    saved = admin.post(url, data={"csrf_token": token, "pricing_model": "per_delivered_session",
                                  "unit_price": "1000.00", "currency": "ZAR", "tax_rate": "15.00",
                                  "upfront_percent": "0.00", "billing_plan": "monthly", "reason": "new rate card"})
    assert saved.status_code == 302
    sql.expire_all()
    agreement = sql.get(CorporateAgreement, billed["agreement_id"])
    assert (agreement.pricing_model, agreement.unit_price) == ("per_delivered_session", 100000)
    assert b"new rate card" in admin.get(url).data


def test_billing_details_print_on_the_next_invoice_number(client, api, login, sql, demo, billed):
    admin = login("admin")
    page = admin.get("/admin/billing")
    assert page.status_code == 200
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    saved = admin.post("/admin/billing", data={"csrf_token": token, "legal_name": "Demo Training (Pty) Ltd",
                                               "invoice_prefix": "dti", "payment_terms_days": "14",
                                               "default_tax_rate": "15"})
    assert saved.status_code == 302
    headers = api("admin")
    details = client.get(f"/api/institutions/{demo['institution_id']}/billing", headers=headers).get_json()
    assert (details["invoice_prefix"], details["payment_terms_days"], details["default_tax_rate"]) == ("DTI", 14,
                                                                                                        "15.00")
    refused = client.patch(f"/api/institutions/{demo['institution_id']}/billing", headers=headers,
                           json={"default_tax_rate": "101"})
    assert refused.status_code == 422
    invoice = _draft(client, headers, billed["cohort_id"]).get_json()
    issued = client.post(f"/api/invoices/{invoice['id']}/issue", headers=headers, json={}).get_json()
    assert (issued["number"], issued["due_on"]) == ("DTI-2026-000001", "2026-12-01")
