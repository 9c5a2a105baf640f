"""Corporate finance, second part, on the real database: billing details on the institution's own route, the
country's currency and tax as defaults, which attendance statuses are billed, and an upfront share for the usage
models (hand-worked amounts in each test)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from core.models import AuditEvent, Cohort, CorporateAgreement, Institution, Invoice
from tests.finance_factories import mark_all, priced_cohort
from tests.portal_factories import mark

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


def _draft(client, headers, cohort_id, period=PERIOD):
    answer = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort_id, **period})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _issue(client, headers, invoice_id):
    answer = client.post(f"/api/invoices/{invoice_id}/issue", headers=headers, json={})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


# --- 1. billing details on PATCH /api/institutions/<id> --------------------------------------------------------

BILLING = {"legal_name": "Demo Training SARL", "tax_number": "DZ-0012", "billing_address": "1 rue Didouche, Alger",
           "invoice_prefix": "dt", "payment_terms_days": 10, "bank_details": "CPA 0040 1234",
           "default_tax_rate": "9.00"}


def test_the_institutions_own_admin_sets_billing_details_on_the_institution(client, api, sql, demo):
    inst_id = demo["institution_id"]
    answer = client.patch(f"/api/institutions/{inst_id}", headers=api("admin"), json=BILLING)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert {k: body[k] for k in BILLING} == {**BILLING, "invoice_prefix": "DT"}
    assert (body["slug"], body["country"], body["default_currency"], body["tax_name"]) == ("demo", "DZ", "DZD", "TVA")
    assert sql.scalar(select(AuditEvent.id).where(AuditEvent.action == "institution.billing",
                                                  AuditEvent.entity_id == inst_id))
    # the other route reads the same row
    assert client.get(f"/api/institutions/{inst_id}/billing", headers=api("admin")).get_json()["legal_name"] == \
        "Demo Training SARL"


def test_billing_details_through_the_institution_print_on_the_next_invoice(client, api, sql, demo):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    admin = api("admin")
    client.patch(f"/api/institutions/{demo['institution_id']}", headers=admin,
                 json={"invoice_prefix": "ACC", "payment_terms_days": 7})
    issued = _issue(client, admin, _draft(client, admin, cohort["cohort_id"])["id"])
    assert (issued["number"], issued["due_on"]) == ("ACC-2026-000001", "2026-11-24")


def test_a_super_admin_sets_billing_and_settings_together(client, api, sql, demo, johannesburg):
    answer = client.patch(f"/api/institutions/{johannesburg['institution']}", headers=api("super"),
                          json={"name": "Jozi Skills (Pty) Ltd", "legal_name": "Jozi Skills Pty", "tax_number": "4120"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["name"], body["legal_name"], body["default_currency"], body["effective_tax_rate"],
            body["tax_name"]) == ("Jozi Skills (Pty) Ltd", "Jozi Skills Pty", "ZAR", "15.00", "VAT")


def test_an_admin_may_not_change_the_institutions_other_settings_and_nothing_is_half_written(client, api, sql, demo):
    inst_id = demo["institution_id"]
    refused = client.patch(f"/api/institutions/{inst_id}", headers=api("admin"),
                           json={"name": "Renamed", "legal_name": "Half written"})
    assert refused.status_code == 403
    sql.expire_all()
    inst = sql.get(Institution, inst_id)
    assert inst.name != "Renamed" and inst.legal_name is None


def test_other_tenants_answer_404_and_other_roles_403(client, api, demo, johannesburg):
    other = f"/api/institutions/{johannesburg['institution']}"
    assert client.patch(other, headers=api("admin"), json={"legal_name": "x"}).status_code == 404
    mine = f"/api/institutions/{demo['institution_id']}"
    assert client.patch(mine, headers=johannesburg["headers"], json={"legal_name": "x"}).status_code == 404
    for role in ("support", "teacher", "org", "regulator"):
        assert client.patch(mine, headers=api(role), json={"legal_name": "x"}).status_code == 403, role
    assert client.patch(mine, headers=api("learner"), json={"legal_name": "x"}).status_code == 404
    assert client.patch(mine, json={"legal_name": "x"}).status_code == 401


@pytest.mark.parametrize("body", [
    {"default_tax_rate": "100.01"}, {"default_tax_rate": "-1"}, {"default_tax_rate": "15.001"},
    {"invoice_prefix": "IN-V"}, {"invoice_prefix": None}, {"invoice_prefix": "A" * 13},
    {"payment_terms_days": 366}, {"payment_terms_days": 10**15}, {"legal_name": "Nul\u0000byte"},
    {"billing_address": "x" * 2001}, {"payment_terms_days": None},
])
def test_bad_billing_input_is_refused_and_nothing_changes(client, api, sql, demo, body):
    inst_id = demo["institution_id"]
    answer = client.patch(f"/api/institutions/{inst_id}", headers=api("admin"), json={"legal_name": "Kept", **body}
                          if "legal_name" not in body else body)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["message"]
    sql.expire_all()
    inst = sql.get(Institution, inst_id)
    assert (inst.legal_name, inst.invoice_prefix, inst.payment_terms_days) == (None, "INV", 30)


# --- 2. the country's currency and tax when the terms leave them out --------------------------------------------

def test_an_algerian_agreement_without_currency_or_tax_bills_dzd_with_tva(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, currency=None, rate=None, price=250000, people=2)
    mark_all(sql, cohort)
    admin = api("admin")
    terms = client.get(f"/api/corporate-agreements/{cohort['agreement_id']}/terms", headers=admin).get_json()
    assert (terms["currency"], terms["tax_rate"], terms["tax_name"], terms["inherited"]) == (
        "DZD", "19.00", "TVA", ["currency", "tax_rate"])
    invoice = _draft(client, admin, cohort["cohort_id"])
    # 2 trainees × 4 days = 8 trainee-days × 2,500.00 DZD = 20,000.00; TVA 19 % = 3,800.00
    assert (invoice["currency"], invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        "DZD", "20000.00", "3800.00", "23800.00")
    assert invoice["lines"][0]["tax_rate"] == "19.00"


def test_a_south_african_agreement_bills_zar_with_vat(client, sql, demo, johannesburg):
    cohort = priced_cohort(sql, demo, currency=None, rate=None, price=10000, people=3, name="Jozi",
                           organization_id=johannesburg["organization"], institution_id=johannesburg["institution"])
    mark_all(sql, cohort)
    invoice = _draft(client, johannesburg["headers"], cohort["cohort_id"])
    # 3 × 4 = 12 trainee-days × ZAR 100.00 = 1,200.00; VAT 15 % = 180.00
    assert (invoice["currency"], invoice["subtotal"], invoice["tax"]) == ("ZAR", "1200.00", "180.00")


def test_the_institutions_default_rate_comes_before_the_countrys(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, currency=None, rate=None, price=100000, people=1)
    mark_all(sql, cohort)
    admin = api("admin")
    client.patch(f"/api/institutions/{demo['institution_id']}", headers=admin, json={"default_tax_rate": "9.00"})
    invoice = _draft(client, admin, cohort["cohort_id"])
    assert (invoice["lines"][0]["tax_rate"], invoice["tax"]) == ("9.00", "360.00")  # 4 × 1,000.00 × 9 %


def test_a_price_set_without_currency_keeps_the_default_it_was_set_in(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, currency=None, rate=None)
    sql.execute(update(CorporateAgreement).where(CorporateAgreement.id == cohort["agreement_id"])
                .values(unit_price=None))
    sql.commit()
    answer = client.patch(f"/api/corporate-agreements/{cohort['agreement_id']}", headers=api("admin"),
                          json={"unit_price": "1500.50", "reason": "rate card"})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["currency"], answer.get_json()["inherited"]) == ("DZD", ["tax_rate"])
    sql.expire_all()
    assert sql.get(CorporateAgreement, cohort["agreement_id"]).currency == "DZD"


# --- 3. which attendance statuses are billed -------------------------------------------------------------------

def _marked_four_ways(sql, demo):
    cohort = priced_cohort(sql, demo, people=4, price=10000, rate=0)
    t = cohort["trainees"]
    mark(sql, cohort["sessions"], {t[0]: "PRESENT", t[1]: "LATE", t[2]: "EXCUSED", t[3]: "ABSENT"})
    return cohort


def test_by_default_only_attended_days_are_billed_and_the_invoice_says_so(client, api, sql, demo):
    cohort = _marked_four_ways(sql, demo)
    invoice = _draft(client, api("admin"), cohort["cohort_id"])
    assert (invoice["lines"][0]["quantity"], invoice["billed_statuses"]) == (8, ["PRESENT", "LATE"])


def test_terms_that_bill_excused_days_bill_them(client, api, sql, demo):
    cohort = _marked_four_ways(sql, demo)
    admin = api("admin")
    changed = client.patch(f"/api/corporate-agreements/{cohort['agreement_id']}", headers=admin,
                           json={"billable_statuses": ["EXCUSED", "PRESENT", "LATE"], "reason": "excused billed"})
    assert changed.status_code == 200 and changed.get_json()["billable_statuses"] == ["PRESENT", "LATE", "EXCUSED"]
    invoice = _draft(client, admin, cohort["cohort_id"])
    assert (invoice["lines"][0]["quantity"], invoice["billed_statuses"]) == (12, ["PRESENT", "LATE", "EXCUSED"])
    # the statement is frozen with the invoice once issued
    issued = _issue(client, admin, invoice["id"])
    with pytest.raises(DBAPIError):
        sql.execute(update(Invoice).where(Invoice.id == issued["id"]).values(billed_statuses="PRESENT"))
        sql.commit()
    sql.rollback()


def test_a_billing_run_counts_each_cohort_by_its_own_statuses(client, api, sql, demo):
    first = _marked_four_ways(sql, demo)
    second = priced_cohort(sql, demo, people=4, price=10000, rate=0, name="Everyone")
    t = second["trainees"]
    mark(sql, second["sessions"], {t[0]: "PRESENT", t[1]: "LATE", t[2]: "EXCUSED", t[3]: "ABSENT"})
    sql.execute(update(CorporateAgreement).where(CorporateAgreement.id == second["agreement_id"])
                .values(billable_statuses="PRESENT,LATE,EXCUSED,ABSENT"))
    sql.commit()
    admin = api("admin")
    run = {"cohort_ids": [first["cohort_id"], second["cohort_id"]], **PERIOD}
    ids = client.post("/api/invoices/batch", headers=admin, json=run).get_json()["invoice_ids"]
    quantities = [client.get(f"/api/invoices/{i}", headers=admin).get_json()["lines"][0]["quantity"] for i in ids]
    assert quantities == [8, 16]


@pytest.mark.parametrize("statuses", [[], ["PRESENT", "PRESENT"], ["SICK"], "PRESENT", ["PRESENT\u0000"]])
def test_bad_billable_statuses_are_refused(client, api, sql, demo, statuses):
    cohort = priced_cohort(sql, demo)
    answer = client.patch(f"/api/corporate-agreements/{cohort['agreement_id']}", headers=api("admin"),
                          json={"billable_statuses": statuses, "reason": "x"})
    assert answer.status_code == 422
    sql.expire_all()
    assert sql.get(CorporateAgreement, cohort["agreement_id"]).billable_statuses == "PRESENT,LATE"


# --- 4. an upfront share for the usage models ------------------------------------------------------------------

def _upfront_cohort(sql, demo, model="per_delivered_session"):
    """Delivered sessions at 1,000.00 ZAR, 0 % tax, 20 % upfront: 8 planned sessions (4 in the first half of
    November, locked; 4 in December) → expected 8,000.00, advance 1,600.00."""
    days = [dt.date(2026, 11, d) for d in (10, 11, 12, 13)] + [dt.date(2026, 12, d) for d in (1, 2, 3, 4)]
    cohort = priced_cohort(sql, demo, model=model, price=100000, rate=0, days=days, people=2)
    sql.execute(update(CorporateAgreement).where(CorporateAgreement.id == cohort["agreement_id"])
                .values(upfront_percent=2000))
    sql.execute(update(Cohort).where(Cohort.id == cohort["cohort_id"])
                .values(start_date=dt.date(2026, 11, 1), end_date=dt.date(2026, 12, 31), expected_trainee_count=2))
    sql.commit()
    return cohort


def test_a_delivered_session_agreement_bills_its_upfront_share_then_deducts_it(client, api, sql, demo):
    cohort = _upfront_cohort(sql, demo)
    admin = api("admin")
    first = _draft(client, admin, cohort["cohort_id"], {"period_from": "2026-11-01", "period_to": "2026-11-09"})
    assert [(line["counts"], line["amount"]) for line in first["lines"]] == [("upfront", "1600.00")]
    _issue(client, admin, first["id"])
    second = _draft(client, admin, cohort["cohort_id"], {"period_from": "2026-11-10", "period_to": "2026-11-15"})
    assert [(line["counts"], line["quantity"], line["amount"]) for line in second["lines"]] == [
        ("delivered_sessions", 4, "4000.00"), ("advance_deduction", 1, "-1600.00")]
    assert second["total"] == "2400.00"
    _issue(client, admin, second["id"])
    # the advance is used up: a later draft deducts nothing more
    mark_all(sql, cohort, sessions=cohort["sessions"][:4])
    third = _draft(client, admin, cohort["cohort_id"], {"period_from": "2026-11-01", "period_to": "2026-11-15"})
    assert [line["counts"] for line in third["lines"]] == []


def test_the_schedule_shows_the_advance_and_its_deduction(client, api, sql, demo):
    cohort = _upfront_cohort(sql, demo)
    schedule = client.get(f"/api/corporate-cohorts/{cohort['cohort_id']}/billing-schedule",
                          headers=api("admin")).get_json()
    assert [(e["due_on"], e["counts"], e["amount"]) for e in schedule["expected"]] == [
        ("2026-11-01", "upfront", "1600.00"),
        ("2026-11-30", "delivered_sessions", "4000.00"), ("2026-11-30", "advance_deduction", "-1600.00"),
        ("2026-12-31", "delivered_sessions", "4000.00")]
    assert schedule["expected_total"] == "8000.00"


def test_an_attended_days_agreement_takes_an_upfront_share_of_its_expected_days(client, api, sql, demo):
    cohort = _upfront_cohort(sql, demo, model="per_attended_trainee_day")
    first = _draft(client, api("admin"), cohort["cohort_id"], {"period_from": "2026-11-01", "period_to": "2026-11-09"})
    # 2 expected trainees × 8 planned days × 1,000.00 = 16,000.00; 20 % = 3,200.00
    assert [(line["counts"], line["amount"]) for line in first["lines"]] == [("upfront", "3200.00")]


def test_an_upfront_share_does_not_apply_to_per_enrolled_trainee(client, api, sql, demo):
    cohort = priced_cohort(sql, demo, model="per_enrolled_trainee")
    answer = client.patch(f"/api/corporate-agreements/{cohort['agreement_id']}", headers=api("admin"),
                          json={"upfront_percent": "10.00", "reason": "deposit"})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "upfront_not_applicable"


def test_the_terms_screen_ticks_the_billed_marks_and_shows_the_defaults(login, sql, demo):
    cohort = priced_cohort(sql, demo, currency=None, rate=None)
    admin = login("admin")
    url = f"/admin/corporate-agreements/{cohort['agreement_id']}/terms"
    page = admin.get(url)
    assert b'placeholder="DZD"' in page.data and b'placeholder="19.00"' in page.data
    assert b'id="billable-PRESENT" name="billable_statuses" value="PRESENT" checked' in page.data
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    form = {"csrf_token": token, "statuses_shown": "1", "billable_statuses": ["PRESENT", "LATE", "EXCUSED"],
            "reason": "excused days billed"}
    assert admin.post(url, data=form).status_code == 302
    sql.expire_all()
    agreement = sql.get(CorporateAgreement, cohort["agreement_id"])
    # the defaults shown as placeholders are not written: they still follow the institution
    assert (agreement.billable_statuses, agreement.currency, agreement.tax_rate) == ("PRESENT,LATE,EXCUSED", None,
                                                                                     None)
    refused = admin.post(url, data={**form, "billable_statuses": []})
    assert refused.status_code in (302, 422)
    sql.expire_all()
    assert sql.get(CorporateAgreement, cohort["agreement_id"]).billable_statuses == "PRESENT,LATE,EXCUSED"
