"""A PDF register is built by a real worker (WeasyPrint) into private storage and served to who may see it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from pypdf import PdfReader

from core import clock
from tests.attendance_factories import make_session, members
from tests.registers_factories import wait_until_built


def test_admin_requests_a_pdf_register_and_a_worker_builds_it(app, live_worker, client, api, sql, demo):
    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers") - dt.timedelta(days=1),
                              dt.time(18), dt.time(19))
    ids = members(sql, demo["public_cohort_id"])
    client.post("/api/institution/attendance/mark", headers=api("teacher"), json={
        "session_id": session_id, "mark_all_present": True,
        "records": [{"enrolment_id": ids[0], "status": "LATE", "minutes_late": 5}]})
    admin = api("admin")
    started = client.post(f"/api/institution/class-sessions/{session_id}/register-documents", headers=admin)
    # A warm worker may have claimed it already by the time the answer reads the row back.
    assert started.status_code == 202 and started.get_json()["status"] in ("PENDING", "BUILDING")
    done = wait_until_built(client, started.get_json()["status_url"], admin)
    assert done["status"] == "READY", done
    pdf = client.get(done["download_url"], headers=api("teacher"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert hashlib.sha256(pdf.data).hexdigest() == done["sha256"]
    # Read the register back: every trainee is on it with their mark.
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Yacine Belkacem" in text and "Samira Djebbar" in text
    assert "Late" in text and "Present" in text
    pdf.close()
    assert client.get(done["download_url"], headers=api("teacher2")).status_code == 404


def test_a_facilitator_of_another_cohort_cannot_request_its_register(client, api, sql, demo):
    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers"), dt.time(18),
                              dt.time(19))
    response = client.post(f"/api/institution/class-sessions/{session_id}/register-documents", headers=api("teacher2"))
    assert response.status_code == 404
    assert client.post(f"/api/institution/class-sessions/{session_id}/register-documents",
                       headers=api("teacher")).status_code == 202  # their own cohort's facilitator may
