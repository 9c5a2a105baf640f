"""Delivery and progress reports, requested through the API, built by a real worker, read back (pypdf,
openpyxl): the figures match the database, names are only the organization's own employees."""

from __future__ import annotations

import io
import time

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import delete, select, update

from core.demo import CORPORATE_NAMES
from core.models import CorporateTrainee, OrganizationGrant
from tests.portal_factories import built_report, mark, past_sessions, second_organization, trainees


@pytest.fixture
def marked(sql, demo):
    cohort_id = demo["corporate_cohort_id"]
    people = trainees(sql, cohort_id)
    # A name a spreadsheet would run as a formula, unless neutralized.
    sql.execute(update(CorporateTrainee).where(CorporateTrainee.id == people[-1].id)
                .values(full_name='=HYPERLINK("http://evil.example","Houda")'))
    sql.commit()
    sessions = past_sessions(sql, cohort_id)
    statuses = {t.id: "PRESENT" for t in people}
    statuses[people[0].id] = "ABSENT"
    mark(sql, sessions[:-1], statuses)
    mark(sql, sessions[-1:], dict.fromkeys(statuses, "LATE"))
    return {"cohort_id": cohort_id, "sessions": sessions, "people": people}


def _built(client, headers, cohort_id, kind, fmt) -> dict:
    return built_report(client, headers, cohort_id, kind=kind, format=fmt)


def test_a_delivery_report_pdf_gives_delivered_versus_planned_hours_and_rates(client, api, live_worker, marked):
    headers = api("org")
    report = _built(client, headers, marked["cohort_id"], "delivery", "pdf")
    download = client.get(report["download_url"], headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "delivery-report-" in download.headers["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(download.data)).pages)
    detail = client.get(f"/api/org/programs/{marked['cohort_id']}", headers=headers).get_json()
    p = detail["programme"]
    assert "Delivery report" in text and "Acme — Forklift Q4" in text and "Acme Logistics" in text
    assert f"{p['sessions_held']} / {p['sessions_planned']}" in text
    assert str(detail["hours_delivered"]) in text
    assert "90.0%" in text and "100.0%" in text  # one absent of ten on most sessions; all late on the last
    assert text.count("delivered") >= len(marked["sessions"])
    assert [n for n in CORPORATE_NAMES if n in text] == []  # the delivery report names nobody


def test_a_progress_report_xlsx_lists_each_employee_neutralized(client, api, live_worker, marked):
    headers = api("org")
    report = _built(client, headers, marked["cohort_id"], "progress", "xlsx")
    download = client.get(report["download_url"], headers=headers)
    assert download.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(download.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(["Trainee", "Employee code", "Present", "Late", "Absent", "Excused", "Sessions missed",
                         "Attendance rate"])
    table = {r[0]: r for r in rows[header + 1:]}
    expected_names = {t.full_name for t in marked["people"][:-1]} | {'\'=HYPERLINK("http://evil.example","Houda")'}
    assert set(table) == expected_names
    held = len(marked["sessions"])
    farid = table[marked["people"][0].full_name]
    assert farid[2:7] == [0, 1, held - 1, 0, held - 1] and farid[7] == pytest.approx(1 / held, abs=1e-4)
    assert table[marked["people"][1].full_name][7] == 1.0
    assert sheet.cell(row=header + 2, column=8).number_format == "0.0%"


def test_a_progress_report_pdf_names_only_the_organizations_employees(client, api, live_worker, sql, demo, marked):
    globex = second_organization(sql, demo["institution_id"])
    report = _built(client, api("org"), marked["cohort_id"], "progress", "pdf")
    pdf = client.get(report["download_url"], headers=api("org")).data
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    for person in marked["people"][:-1]:
        assert person.full_name in text and person.employee_code in text
        assert person.email not in text and person.phone_e164 not in text
    assert "Zora Outsider" not in text and "Yanis Elsewhere" not in text
    other = client.get(report["status_url"], headers=_member(sql, globex))
    assert other.status_code == 404


def _member(sql, globex) -> dict[str, str]:
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User

    sql.add(OrganizationGrant(organization_id=globex["organization_id"], permission="corporate_reports.view"))
    sql.commit()
    token = create_api_token(sql, sql.get(User, globex["member_id"]), CreateApiToken(name="t"))
    return {"Authorization": f"Bearer {token}"}


def test_reports_stop_with_the_grant(client, api, live_worker, sql, demo, marked):
    headers = api("org")
    report = _built(client, headers, marked["cohort_id"], "delivery", "xlsx")
    sql.execute(delete(OrganizationGrant))
    sql.commit()
    assert client.get(report["download_url"], headers=headers).status_code == 403
    assert client.get(report["status_url"], headers=headers).status_code == 403


def test_the_screen_requests_a_report_and_lists_it(login, live_worker, sql, marked):
    from core.models import RegisterDocument

    browser = login("org")
    done = browser.post(f"/org/programs/{marked['cohort_id']}/reports", data={"kind": "delivery", "format": "pdf"},
                        follow_redirects=True)
    assert done.status_code == 200 and b"The report is being built" in done.data
    assert b'id="report-list"' in done.data and b"data-status-url=" in done.data
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # let the worker finish before the tables are emptied
        sql.rollback()
        if sql.scalar(select(RegisterDocument.status)).value == "READY":
            break
        time.sleep(0.3)
    assert b"Download" in browser.get(f"/org/programs/{marked['cohort_id']}").data
