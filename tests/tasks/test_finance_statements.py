"""An organization's statement as a PDF, built by a real worker through the invoices' document pipeline and read
back (pypdf) in French and Arabic; who may ask for it and read it."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from tests.conftest import wait_for
from tests.finance_factories import mark_all, other_organization_member, priced_cohort, token_headers

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


def _issued_with_credit_and_payment(client, headers, sql, demo) -> dict:
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    draft = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort["cohort_id"], **PERIOD}).get_json()
    invoice = client.post(f"/api/invoices/{draft['id']}/issue", headers=headers, json={}).get_json()
    note = client.post(f"/api/invoices/{invoice['id']}/credit-notes", headers=headers,
                       json={"amount": "1150.00", "reason": "One day disputed"}).get_json()
    client.post(f"/api/invoices/{invoice['id']}/payments", headers=headers,
                json={"amount": "4720.00", "paid_on": "2026-11-16", "reference": "EFT-77"})
    return {"invoice": invoice, "note": note}


def _ready_text(client, headers, answer) -> tuple[dict, str]:
    assert answer.status_code == 202, answer.get_json()
    status_url = answer.get_json()["status_url"]
    doc = wait_for(lambda: (d := client.get(status_url, headers=headers).get_json())["status"] in ("READY", "FAILED")
                   and d, timeout=90)
    assert doc["status"] == "READY", doc
    download = client.get(doc["download_url"], headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    return doc, " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(download.data)).pages).split())


@pytest.mark.parametrize(("language", "title", "payment"), [("fr", "Relevé de compte", "Paiement"),
                                                            ("ar", "كشف الحساب", "دفعة")])
def test_the_statement_pdf_reads_back_in_its_language(client, api, sql, demo, live_worker, language, title, payment):
    admin = api("admin")
    issued = _issued_with_credit_and_payment(client, admin, sql, demo)
    answer = client.post(f"/api/organizations/{demo['organization_id']}/statement/document", headers=admin,
                         json={"language": language})
    doc, text = _ready_text(client, admin, answer)
    assert doc["language"] == language
    assert title in text and payment in text and "Acme Logistics" in text
    assert issued["invoice"]["number"] in text and issued["note"]["number"] in text and "EFT-77" in text
    assert doc["reference"] in text  # verifiable like every issued document


def test_the_organizations_member_gets_their_statement_and_nobody_else_does(app, client, api, sql, demo,
                                                                           live_worker):
    _issued_with_credit_and_payment(client, api("admin"), sql, demo)
    member = api("org")
    doc, text = _ready_text(client, member, client.post("/api/org/statement/document", headers=member, json={}))
    assert "Statement of account" in text and "10,000.00" in text  # the balance owed: 15,870 − 1,150 − 4,720
    other = other_organization_member(sql, demo["institution_id"])
    from tests.finance_factories import grant_finance

    grant_finance(sql, other["organization_id"])
    stranger = token_headers(app, other["member_id"])
    assert client.get(f"/api/statement-documents/{doc['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/statement-documents/{doc['id']}/file", headers=stranger).status_code == 404
    assert client.post("/api/org/statement/document", headers=stranger,
                       json={"organization_id": demo["organization_id"]}).status_code == 404
    assert client.get(f"/api/statement-documents/{doc['id']}", headers=api("teacher")).status_code == 403
    assert client.post(f"/api/organizations/{demo['organization_id']}/statement/document", headers=api("support"),
                       json={}).status_code == 403
    assert client.get(f"/api/statement-documents/{doc['id']}", headers=api("support")).status_code == 200


def test_the_statement_is_verified_by_its_reference_as_the_institutions(client, api, sql, demo, live_worker):
    admin = api("admin")
    answer = client.post(f"/api/organizations/{demo['organization_id']}/statement/document", headers=admin,
                         json={"language": "en"})
    doc, _text = _ready_text(client, admin, answer)
    page = client.get(f"/verify/{doc['reference']}")
    assert page.status_code == 200 and doc["reference"].encode() in page.data
    assert b"Demo Training Institute" in page.data  # the issuing institution, found without a cohort
