"""Client reports are issued with the registers' machinery: the PDF carries the registers' verification footer
and QR code, the XLSX its reference in the heading, and both verify publicly (by reference and by bytes)
without showing any trainee data. Built in this process (real WeasyPrint, real storage), read back with
pdfplumber and openpyxl."""

from __future__ import annotations

import io
import re
import unicodedata

import pdfplumber
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update

from core.models import ClassSession, CorporateTrainee, User
from core.portals import reports
from core.portals.commands import RequestReport
from core.registers.service import BuildSettings
from tests.portal_factories import mark, past_sessions, trainees

FORMULA = '=HYPERLINK("http://evil.example","Houda")'
SETTINGS = BuildSettings(base_url="http://testserver")


@pytest.fixture
def marked(sql, demo):
    """The demo's corporate cohort with every past session marked, and a trainee named like a formula."""
    cohort_id = demo["corporate_cohort_id"]
    people = trainees(sql, cohort_id)
    sql.execute(update(CorporateTrainee).where(CorporateTrainee.id == people[-1].id).values(full_name=FORMULA))
    sql.commit()
    sessions = past_sessions(sql, cohort_id)
    statuses = {t.id: "PRESENT" for t in people}
    statuses[people[0].id] = "ABSENT"
    mark(sql, sessions[:-1], statuses)
    sql.expire_all()
    return {"cohort_id": cohort_id, "sessions": sessions, "people": trainees(sql, cohort_id)}


def _built(app, sql, demo, kind: str, fmt: str):
    member = sql.get(User, demo["users"]["org"])
    doc = reports.request_report(sql, member, demo["corporate_cohort_id"], RequestReport(kind=kind, format=fmt))
    built = reports.build_report(sql, app.extensions["storage"], doc.id, SETTINGS)
    assert built is not None and built.status.value == "READY", built and built.error_message
    return built


def _file(app, doc) -> bytes:
    with app.extensions["storage"].open(doc.storage_key) as f:
        return f.read()


def _pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return [unicodedata.normalize("NFKC", page.extract_text() or "") for page in document.pages]


def _names(marked) -> list[str]:
    """Everything that identifies a trainee: names, employee codes, phones, emails."""
    people = marked["people"]
    return [value for t in people for value in (t.full_name, t.employee_code, t.phone_e164, t.email) if value]


def test_a_delivery_report_pdf_carries_the_registers_verification_footer_on_every_page(app, sql, demo, marked):
    doc = _built(app, sql, demo, "delivery", "pdf")
    assert re.fullmatch(r"R[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", doc.reference)
    assert doc.institution_id == demo["institution_id"] and doc.format.value == "pdf"
    data = _file(app, doc)
    pages = _pages(data)
    assert len(pages) == doc.page_count >= 1
    for number, text in enumerate(pages, 1):  # the same footer lines as a register's
        assert f"Reference {doc.reference}" in text
        assert f"Verification code {doc.verification_code}" in text
        assert f"Verify at http://testserver/verify/{doc.reference}" in text
        assert f"Page {number} of {len(pages)}" in text and "Printed" in text
    assert "Delivery report" in pages[0] and "Acme — Forklift Q4" in pages[0]
    reader = PdfReader(io.BytesIO(data))
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged, like the registers
    with pdfplumber.open(io.BytesIO(data)) as document:  # the QR code: runs of dark modules, top right
        top = document.pages[0]
        modules = [line for line in top.lines if line["x0"] > top.width * 0.7 and line["top"] < top.height * 0.2]
        assert len(modules) > 50


def test_a_long_report_repeats_the_footer_on_each_page(app, sql, demo, marked):
    sql.add_all([CorporateTrainee(cohort_id=demo["corporate_cohort_id"], full_name=f"Extra Trainee {i:02d}",
                                  employee_code=f"X{i:02d}") for i in range(60)])
    sql.commit()
    doc = _built(app, sql, demo, "progress", "pdf")
    pages = _pages(_file(app, doc))
    assert len(pages) >= 2
    for number, text in enumerate(pages, 1):
        assert f"Reference {doc.reference} · Verification code {doc.verification_code}" in text
        assert f"Page {number} of {len(pages)}" in text


def test_verifying_a_progress_report_by_reference_answers_the_report_and_no_trainee(app, sql, demo, marked):
    doc = _built(app, sql, demo, "progress", "pdf")
    assert marked["people"][1].full_name in " ".join(_pages(_file(app, doc)))  # the report itself names them
    page = app.test_client().get(f"/verify/{doc.reference}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Progress report" in html and "Demo Training Institute" in html and "Acme — Forklift Q4" in html
    assert doc.sha256 in html and doc.verification_code in html
    assert "No: this is the latest build" in html
    assert [value for value in _names(marked) if value in html] == []


def test_verifying_the_pdf_bytes_finds_the_report_and_a_changed_byte_does_not(app, sql, demo, marked):
    doc = _built(app, sql, demo, "delivery", "pdf")
    genuine = _file(app, doc)
    anonymous = app.test_client()
    found = anonymous.post("/verify", data={"file": (io.BytesIO(genuine), "report.pdf")},
                           content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-match="true"' in found and doc.reference in found and "Delivery report" in found
    changed = bytearray(genuine)
    changed[-100] ^= 0x20
    refused = anonymous.post("/verify", data={"file": (io.BytesIO(bytes(changed)), "report.pdf")},
                             content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-match="false"' in refused and doc.reference not in refused


def test_a_progress_xlsx_heading_carries_the_reference_and_text_cells_are_neutralized(app, sql, demo, marked):
    doc = _built(app, sql, demo, "progress", "xlsx")
    assert doc.format.value == "xlsx"
    sheet = load_workbook(io.BytesIO(_file(app, doc))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(["Trainee", "Employee code", "Present", "Late", "Absent", "Excused", "Sessions missed",
                         "Attendance rate"])
    heading = rows[:header]
    assert ["Reference", doc.reference, "Verification code", doc.verification_code] in [r[:4] for r in heading]
    assert any(r[0] == f"Verify at http://testserver/verify/{doc.reference}" for r in heading)
    names = [r[0] for r in rows[header + 1:]]
    assert "'" + FORMULA in names
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.coordinate for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r"] == []
    verified = app.test_client().get(f"/verify/{doc.reference}").get_data(as_text=True)
    assert "Progress report" in verified and "XLSX" in verified


def test_a_newer_report_from_other_data_supersedes_the_older(app, sql, demo, marked):
    first = _built(app, sql, demo, "delivery", "pdf")
    mark(sql, marked["sessions"][-1:], {t.id: "LATE" for t in marked["people"]})
    second = _built(app, sql, demo, "delivery", "pdf")
    assert second.reference != first.reference and second.sha256 != first.sha256
    html = app.test_client().get(f"/verify/{first.reference}").get_data(as_text=True)
    assert f"a newer build ({second.reference})" in html


def test_reports_are_not_served_as_registers(client, api, app, sql, demo, marked):
    doc = _built(app, sql, demo, "progress", "pdf")
    admin = api("admin")
    assert client.get(f"/api/registers/{doc.id}", headers=admin).status_code == 404
    assert client.get(f"/api/registers/{doc.id}/download", headers=admin).status_code == 404
    status = client.get(f"/api/org/reports/{doc.id}", headers=api("org")).get_json()
    assert status["reference"] == doc.reference and status["verify_url"] == f"/verify/{doc.reference}"


def test_a_delivery_report_carries_the_providers_sign_off(app, sql, demo, marked):
    """Issue 22: once an admin signed a register of the cohort for the provider, the client's delivery report says
    who signed, when, and which register; before that it says it is not signed yet."""
    from core.registers import service
    from core.registers.commands import RequestRegister
    from core.signatures import sign_offs
    from core.signatures.commands import SignOffCommand

    unsigned = _squash_pages(_pages(_file(app, _built(app, sql, demo, "delivery", "pdf"))))
    assert "ProvidersignoffNotsignedyet." in unsigned.replace("-", "")
    admin = sql.get(User, demo["users"]["admin"])
    day = sql.get(ClassSession, marked["sessions"][0]).session_date
    register, _ = service.request_document(sql, admin, RequestRegister(
        kind="cohort", cohort_id=marked["cohort_id"], period_start=day, period_end=day))
    register = service.build_document(sql, app.extensions["storage"], register.id, SETTINGS)
    sign_offs.sign_off_document(sql, admin, register.id, SignOffCommand(full_name="Dalia Admin",
                                                                        password="demo-password"),
                                confirmed_at=None, ip_address="192.0.2.1")
    signed = _squash_pages(_pages(_file(app, _built(app, sql, demo, "delivery", "pdf"))))
    assert "SignedfortheproviderbyDaliaAdmin" in signed and f"(register{register.reference})." in signed


def _squash_pages(pages: list[str]) -> str:
    return "".join("".join(pages).split())
