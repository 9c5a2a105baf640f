"""A person's data export built by a real worker: the ZIP holds every kind of record they have (profile,
enrolment, marks with their audit trail, check-in, apology, evidence file, a document naming them, corrections,
the access log and the regulator's read of their register), and a readable PDF summary."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from pypdf import PdfReader
from sqlalchemy import select

from core import clock
from core.models import (
    AccessRequest,
    AccessRequestRead,
    AccessRequestStatus,
    Apology,
    AttendanceRecord,
    CheckInAttempt,
    Enrolment,
    EvidenceFile,
    Learner,
    User,
)
from core.registers import service
from core.registers.commands import RequestRegister
from tests.conftest import wait_for
from tests.registers_factories import past_session

SETTINGS = service.BuildSettings(base_url="http://testserver", processes=1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _everything(app, client, api, sql, demo) -> dict:
    """The demo's learner with an account, given one record of each kind."""
    learner = sql.scalar(select(Learner).where(Learner.user_id.is_not(None)))
    client.patch(f"/api/learners/{learner.id}", headers=api("admin"), json={"phone": "0550 11 22 33",
                                                                            "reason": "New number"})
    session_id, _day = past_session(sql, demo["public_cohort_id"], days_ago=0, hour=8)  # started, still open
    enrolment_id = sql.scalar(select(Enrolment.id).where(Enrolment.learner_id == learner.id))
    marked = client.post("/api/institution/attendance/mark", headers=api("admin"), json={
        "session_id": session_id, "records": [{"id": enrolment_id, "status": "LATE", "minutes_late": 4,
                                               "notes": "bus"}]})
    assert marked.status_code == 200, marked.get_json()
    stored = app.extensions["storage"].save_bytes(PNG, "evidence", ".png")
    evidence = EvidenceFile(storage_key=stored.key, original_filename="note.png", content_type="image/png",
                            size_bytes=stored.size, sha256=stored.sha256)
    sql.add(evidence)
    sql.flush()
    record = sql.scalar(select(AttendanceRecord).where(AttendanceRecord.session_id == session_id))
    if record is not None:
        record.evidence_file_id = evidence.id
    sql.add(Apology(institution_id=demo["institution_id"], user_id=learner.user_id, reason="Dentist"))
    sql.add(CheckInAttempt(session_id=session_id, user_id=learner.user_id, accepted=True, at=clock.now()))
    admin = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    grant = AccessRequest(regulator_id=demo["users"]["regulator"], institution_id=demo["institution_id"],
                          reason="audit", status=AccessRequestStatus.APPROVED,
                          expires_at=clock.now() + dt.timedelta(days=3))
    sql.add(grant)
    sql.flush()
    sql.add(AccessRequestRead(access_request_id=grant.id, regulator_id=demo["users"]["regulator"],
                              endpoint="registers.download", path=f"/registers/{doc.id}",
                              cohort_id=demo["public_cohort_id"], resource_type="register_document",
                              resource_id=doc.id))
    sql.commit()
    return {"learner": learner, "reference": doc.reference, "evidence_id": evidence.id}


def test_an_export_holds_every_kind_of_record_and_the_regulator_read(app, client, api, sql, demo, live_worker):
    made = _everything(app, client, api, sql, demo)
    learner = made["learner"]
    client.get(f"/api/learners/{learner.id}", headers=api("support"))  # a staff view: in the access log
    started = client.post(f"/api/people/learners/{learner.id}/data-export", headers=api("admin"))
    assert started.status_code == 202, started.get_json()
    status_url = started.get_json()["status_url"]
    done = wait_for(lambda: (b := client.get(status_url, headers=api("admin")).get_json())["status"] in
                    ("READY", "FAILED") and b, timeout=90)
    assert done["status"] == "READY", done
    zipped = client.get(done["download_url"], headers=api("admin"))
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(zipped.data))
    data = json.loads(archive.read("data.json"))
    assert data["person"]["full_name"] == learner.full_name
    late = [m for m in data["marks"] if m["status"] == "LATE" and m["notes"] == "bus"]
    assert data["enrolments"] and len(late) == 1
    assert late[0]["audit_trail"][0]["action"].startswith("attendance."), "every mark with its audit trail"
    assert data["check_ins"] and data["apologies"][0]["reason"] == "Dentist"
    assert [c["field"] for c in data["corrections"]] == ["phone_e164"]
    assert f"evidence/{made['evidence_id']}.png" in archive.namelist()
    assert any(d["reference"] == made["reference"] for d in data["documents"])
    assert f"documents/{made['reference']}.pdf" in archive.namelist()
    assert data["seen_by"]["regulators"][0]["what"] == "register_document"
    assert {"view", "export"} <= {s["action"] for s in data["seen_by"]["staff"]}
    summary = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read("summary.pdf"))).pages)
    assert "What we hold on you" in summary and learner.full_name in summary


def test_an_export_is_private_to_its_requester_and_admins(app, client, api, sql, demo, johannesburg, live_worker):
    learner = sql.scalar(select(Learner).where(Learner.user_id.is_not(None)))
    mine = client.post("/api/me/data-export", headers=api("learner"))
    assert mine.status_code == 202, mine.get_json()
    url = mine.get_json()["status_url"]
    done = wait_for(lambda: (b := client.get(url, headers=api("learner")).get_json())["status"] in
                    ("READY", "FAILED") and b, timeout=90)
    assert done["status"] == "READY"
    data = json.loads(zipfile.ZipFile(io.BytesIO(client.get(done["download_url"], headers=api("learner")).data))
                      .read("data.json"))
    assert data["linked_records"][0]["full_name"] == learner.full_name
    assert client.get(url, headers=api("teacher")).status_code in (403, 404)
    assert client.get(url, headers=johannesburg["headers"]).status_code == 404
    assert client.get(done["download_url"], headers=api("support")).status_code in (403, 404)
