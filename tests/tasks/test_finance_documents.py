"""Invoice PDFs built by a real worker, read back in French and Arabic (pypdf)."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from tests.finance_factories import mark_all, priced_cohort

PERIOD = {"period_from": "2026-11-01", "period_to": "2026-11-15"}


def _issued_pdf(client, headers, cohort_id, language) -> tuple[dict, str]:
    draft = client.post("/api/invoices", headers=headers, json={"cohort_id": cohort_id, **PERIOD}).get_json()
    invoice = client.post(f"/api/invoices/{draft['id']}/issue", headers=headers, json={"language": language}).get_json()
    deadline = time.monotonic() + 90
    while invoice["document"]["status"] in ("PENDING", "BUILDING") and time.monotonic() < deadline:
        time.sleep(0.3)
        invoice = client.get(f"/api/invoices/{invoice['id']}", headers=headers).get_json()
    assert invoice["document"]["status"] == "READY", invoice
    download = client.get(invoice["document"]["download_url"], headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.data)).pages)
    return invoice, text


@pytest.mark.parametrize("language, title", [("fr", "Facture"), ("ar", "فاتورة")])
def test_an_invoice_pdf_reads_back_in_its_language(client, api, sql, demo, live_worker, language, title):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    invoice, text = _issued_pdf(client, api("admin"), cohort["cohort_id"], language)
    assert invoice["number"] in text
    assert title in text
    assert "Acme Logistics" in text


def test_a_credit_note_has_its_own_pdf(client, api, sql, demo, live_worker):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    headers = api("admin")
    invoice, _text = _issued_pdf(client, headers, cohort["cohort_id"], "en")
    note = client.post(f"/api/invoices/{invoice['id']}/credit-notes", headers=headers,
                       json={"amount": "1150.00", "reason": "One day disputed"}).get_json()
    deadline = time.monotonic() + 90
    while note["document"]["status"] != "READY" and time.monotonic() < deadline:
        time.sleep(0.3)
        statement = client.get(f"/api/organizations/{demo['organization_id']}/statement", headers=headers).get_json()
        note = next(n for n in statement["credit_notes"] if n["id"] == note["id"])
    assert note["document"]["status"] == "READY"
    download = client.get(note["document"]["download_url"], headers=headers)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.data)).pages)
    assert "Credit note" in text and note["number"] in text and invoice["number"] in text and "One day disputed" in text


def test_an_invoice_states_which_marks_it_bills(client, api, sql, demo, live_worker):
    cohort = priced_cohort(sql, demo)
    mark_all(sql, cohort)
    _invoice, text = _issued_pdf(client, api("admin"), cohort["cohort_id"], "fr")
    flat = " ".join(text.split())
    assert "Journées-stagiaires facturées pour ces statuts : Présent, En retard." in flat
