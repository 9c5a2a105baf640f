"""Personal data (issue 25): erasure with legal holds leaves no trace of a person outside held documents, the
corrections history, role x endpoint (other tenants 404), bad input never a 500 or a half-erasure."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from core.models import Enrolment, Learner, PersonalDataErasure, User
from core.registers import service, submissions
from core.registers.commands import RequestRegister, SubmitRegister
from tests.registers_factories import mark, past_session

SETTINGS = service.BuildSettings(base_url="http://testserver", processes=1)
NAME, NEW_NAME = "Zinedine Quarantaine", "Zinedine Q. Marchetti"
ID_NUMBER, EMAIL, PHONE = "ZQ998877", "zinedine.q@example.org", "+213550998877"
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def _person(client, api, demo) -> int:
    admin = api("admin")
    made = client.post("/api/learners", headers=admin, json={"full_name": NAME, "id_number": ID_NUMBER,
                                                              "email": EMAIL, "phone": PHONE})
    assert made.status_code == 201, made.get_json()
    learner_id = made.get_json()["id"]
    fixed = client.patch(f"/api/learners/{learner_id}", headers=admin,
                         json={"full_name": NEW_NAME, "reason": "Married name"})
    assert fixed.status_code == 200, fixed.get_json()
    enrolled = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/enrolments", headers=admin,
                           json={"learner_ids": [learner_id], "enrolled_on": "2026-11-01"})
    assert enrolled.status_code in (200, 201), enrolled.get_json()
    return learner_id


def _submitted_register(app, sql, demo, learner_id: int) -> dict:
    """A session three days past, the learner marked with a note naming them, its register built and submitted."""
    session_id, day = past_session(sql, demo["public_cohort_id"], days_ago=3)
    enrolment_id = sql.scalar(select(Enrolment.id).where(Enrolment.learner_id == learner_id))
    mark(sql, session_id, day, {enrolment_id: ("LATE", 5, f"{NEW_NAME} came by bus")})
    admin = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    submissions.submit(sql, admin, SubmitRegister(register_document_id=doc.id))
    return {"reference": doc.reference, "key": doc.storage_key, "session_id": session_id}


def _rates(client, api, demo) -> object:
    """The cohort's figures and each member's rate, names aside (the erased one's name changes, nothing else)."""
    cohort = client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}", headers=api("admin")).get_json()
    members = sorted((m.get("enrolment_id") or m.get("id"), m["attended"], m["counted"], m["attendance_rate"])
                     for m in cohort["members"])
    return members, {k: v for k, v in cohort.items() if k != "members"}


def _traces(sql, values: list[str]) -> list[str]:
    """Every (table.column) of a text or JSON type whose rows hold one of the values."""
    columns = sql.execute(text(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND data_type = ANY(:types)"), {"types": list(TEXT_TYPES)}).all()
    found = []
    for table, column in columns:
        for value in values:
            hit = sql.execute(text(f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS text) LIKE :v LIMIT 1'),
                              {"v": f"%{value}%"}).first()
            if hit:
                found.append(f"{table}.{column}: {value}")
    return found


def _files_naming(root: Path, values: list[str], except_keys: set[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and str(path.relative_to(root)) not in except_keys:
            data = path.read_bytes()
            found += [f"{path}: {v}" for v in values if v.encode() in data]
    return found


def test_erasure_leaves_no_trace_but_keeps_the_submitted_register_which_still_verifies(app, client, api, sql, demo):
    learner_id = _person(client, api, demo)
    register = _submitted_register(app, sql, demo, learner_id)
    before = _rates(client, api, demo)
    answer = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"),
                         json={"reason": f"Asked by {NEW_NAME} in writing", "password": "demo-password"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["pseudonym"].startswith("Erased learner ") and not body["already_erased"]
    assert body["status"] == "HELD"
    assert [h["reference"] for h in body["held"] if h["type"] == "register_document"] == [register["reference"]]
    assert body["held"][0]["kept_until"] == "2036-11-17"
    values = [NAME, NEW_NAME, ID_NUMBER, EMAIL, PHONE]
    sql.expire_all()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert _traces(sql, values) == []
    assert _files_naming(Path(app.config["STORAGE_DIR"]), values, {register["key"]}) == []
    assert _rates(client, api, demo) == before  # marks stay: the cohort's rates are unchanged
    from core.audit_trail.verify import verify_chain

    trail = verify_chain(sql, demo["institution_id"])  # the scrubbed audit rows are a recorded redaction, no break
    assert trail.ok and trail.redacted, trail.broken
    learner = sql.get(Learner, learner_id)
    assert learner.full_name == body["pseudonym"] and learner.id_number is None and learner.email is None
    genuine = (Path(app.config["STORAGE_DIR"]) / register["key"]).read_bytes()
    verified = client.post("/verify", data={"file": (io.BytesIO(genuine), "register.pdf")},
                           content_type="multipart/form-data")
    assert verified.status_code == 200 and register["reference"].encode() in verified.data
    again = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"),
                        json={"reason": "again", "password": "demo-password"})
    assert again.status_code == 200 and again.get_json()["already_erased"] is True
    assert again.get_json()["pseudonym"] == body["pseudonym"]
    assert sql.scalar(select(PersonalDataErasure.id).where(PersonalDataErasure.person_id == learner_id)) == body["id"]


def test_corrections_keep_who_when_old_new_and_why(client, api, demo):
    learner_id = _person(client, api, demo)
    history = client.get(f"/api/people/learners/{learner_id}/corrections", headers=api("admin")).get_json()["items"]
    assert [(c["field"], c["old_value"], c["new_value"], c["reason"]) for c in history] == [
        ("full_name", NAME, NEW_NAME, "Married name")]
    assert history[0]["actor_id"] == demo["users"]["admin"]


def test_erasure_needs_a_fresh_password_and_changes_nothing_without_it(client, api, sql, demo):
    learner_id = _person(client, api, demo)
    refused = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"),
                          json={"reason": "asked", "password": "wrong-password"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "password_confirmation_required"
    assert sql.get(Learner, learner_id).full_name == NEW_NAME


@pytest.mark.parametrize("role, status", [("support", 403), ("teacher", 403), ("org", 403), ("learner", 404),
                                          ("regulator", 403)])
def test_only_admins_erase_or_export(client, api, demo, role, status):
    learner_id = _person(client, api, demo)
    for path in (f"/api/people/learners/{learner_id}/erasure", f"/api/people/learners/{learner_id}/data-export"):
        answer = client.post(path, headers=api(role), json={"reason": "x", "password": "demo-password"})
        assert answer.status_code == status, (path, answer.get_json())


def test_another_institutions_person_and_an_unknown_one_are_404(client, api, demo, johannesburg):
    learner_id = _person(client, api, demo)
    for headers, person in ((johannesburg["headers"], learner_id), (api("admin"), 999999)):
        for path in (f"/api/people/learners/{person}/erasure", f"/api/people/learners/{person}/data-export",
                     f"/api/people/learners/{person}/corrections"):
            answer = (client.get(path, headers=headers) if path.endswith("corrections")
                      else client.post(path, headers=headers, json={"reason": "x", "password": "demo-password"}))
            assert answer.status_code == 404, (path, answer.get_json())


@pytest.mark.parametrize("body", [{"reason": "a\u0000b", "password": "demo-password"},
                                  {"reason": "x" * 100_000, "password": "demo-password"},
                                  {"reason": "", "password": "demo-password"},
                                  {"reason": "ok", "password": "demo\u0000password"},
                                  {"password": "demo-password"}, [1, 2]])
def test_bad_erasure_input_is_a_clear_4xx_and_erases_nothing(client, api, sql, demo, body):
    learner_id = _person(client, api, demo)
    answer = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"), json=body)
    assert 400 <= answer.status_code < 500 and "error" in answer.get_json()
    assert sql.get(Learner, learner_id).full_name == NEW_NAME


def test_erasing_a_learner_closes_their_account(client, api, sql, demo):
    learner = sql.scalar(select(Learner).where(Learner.user_id.is_not(None)))
    account_id = learner.user_id
    answer = client.post(f"/api/people/learners/{learner.id}/erasure", headers=api("admin"),
                         json={"reason": "asked", "password": "demo-password"})
    assert answer.status_code == 200, answer.get_json()
    sql.expire_all()
    account = sql.get(User, account_id)
    assert account.active is False and account.password_hash is None and account.email.endswith("@erased.invalid")
    assert client.get("/api/me/attendance", headers={"Authorization": "Bearer gone"}).status_code == 401


def test_retention_settings_are_admins_and_validated(client, api, demo):
    got = client.get("/api/institution/retention", headers=api("admin")).get_json()
    assert (got["import_files_days"], got["evidence_years"], got["registers_years"]) == (90, 5, 10)
    put = client.put("/api/institution/retention", headers=api("admin"), json={"evidence_years": 6})
    assert put.status_code == 200 and put.get_json()["evidence_years"] == 6
    assert client.put("/api/institution/retention", headers=api("admin"), json={"evidence_years": 0}).status_code == 422
    assert client.get("/api/institution/retention", headers=api("support")).status_code == 403
    assert client.get("/api/institution/retention", headers=api("teacher")).status_code == 403


def test_the_processing_register_is_prefilled_editable_and_exported_as_pdf(client, api, demo):
    admin = api("admin")
    first = client.get("/api/institution/processing-register", headers=admin).get_json()
    assert first["prefilled"] and any("attendance" in e["purpose"] for e in first["entries"])
    saved = client.put("/api/institution/processing-register", headers=admin, json={
        "entries": [{"purpose": "Training records", "data_categories": ["names"], "data_subjects": ["learners"]}],
        "information_officer_name": "Amina Officer", "information_officer_email": "dpo@demo.example"})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["prefilled"] is False and saved.get_json()["information_officer_name"] == "Amina Officer"
    pdf = client.get("/api/institution/processing-register.pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Training records" in text and "Amina Officer" in text
    assert client.get("/api/institution/processing-register", headers=api("support")).status_code == 403
    assert client.get("/api/institution/breaches", headers=api("teacher")).status_code == 403


def test_the_officer_is_named_on_the_public_verify_page(app, client, api, sql, demo):
    client.put("/api/institution/processing-register", headers=api("admin"),
               json={"information_officer_name": "Amina Officer", "information_officer_email": "dpo@demo.example"})
    session_id, _day = past_session(sql, demo["public_cohort_id"], days_ago=3)
    admin = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    page = app.test_client().get(f"/verify/{doc.reference}")
    assert page.status_code == 200 and b"Amina Officer" in page.data and b"dpo@demo.example" in page.data


def test_a_breach_naming_another_tenants_cohort_is_refused(client, api, demo, johannesburg):
    answer = client.post("/api/institution/breaches", headers=johannesburg["headers"], json={
        "found_at": "2026-11-17T08:00:00+00:00", "description": "x", "cohort_ids": [demo["public_cohort_id"]]})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "unknown_cohort"
    naive = client.post("/api/institution/breaches", headers=api("admin"),
                        json={"found_at": "2026-11-17T08:00:00", "description": "x"})
    assert naive.status_code == 422


def test_files_go_after_commit_through_the_outbox_and_a_rerun_is_harmless(app, client, api, sql, demo, published):
    from core.models import AttendanceRecord, EvidenceFile
    from core.personal_data import erasure

    learner_id = _person(client, api, demo)
    session_id, day = past_session(sql, demo["public_cohort_id"], days_ago=3)
    enrolment_id = sql.scalar(select(Enrolment.id).where(Enrolment.learner_id == learner_id))
    mark(sql, session_id, day, {enrolment_id: ("EXCUSED", None, None)})
    storage = app.extensions["storage"]
    stored = storage.save_bytes(f"Sick note of {NEW_NAME}".encode(), "evidence", ".pdf")
    evidence = EvidenceFile(storage_key=stored.key, original_filename=f"{NEW_NAME}.pdf",
                            content_type="application/pdf", size_bytes=stored.size, sha256=stored.sha256)
    sql.add(evidence)
    sql.flush()
    sql.scalar(select(AttendanceRecord).where(AttendanceRecord.enrolment_id == enrolment_id)).evidence_file_id = \
        evidence.id
    sql.commit()
    answer = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"),
                         json={"reason": "asked", "password": "demo-password"}).get_json()
    assert answer["summary"]["evidence_files"] == 1 and answer["files_pending"] == 1
    assert ("personal_data.delete_files", (answer["id"],)) in published
    assert storage.path(stored.key).exists(), "the file waits for the commit and the job"
    assert erasure.delete_files(sql, storage, answer["id"]) == 1
    assert not storage.path(stored.key).exists()
    assert erasure.delete_files(sql, storage, answer["id"]) == 0
    record = sql.scalar(select(AttendanceRecord).where(AttendanceRecord.enrolment_id == enrolment_id))
    sql.refresh(record)
    assert record.status.value == "EXCUSED" and record.evidence_file_id is None  # the mark stays


@pytest.mark.parametrize("kind", ["trainees", "users"])
def test_trainees_and_users_are_erased_too(client, api, sql, demo, kind):
    from core.models import CorporateTrainee

    if kind == "trainees":
        row = sql.scalar(select(CorporateTrainee).where(CorporateTrainee.cohort_id == demo["corporate_cohort_id"]))
    else:
        row = sql.get(User, demo["users"]["teacher"])
    former = row.full_name
    answer = client.post(f"/api/people/{kind}/{row.id}/erasure", headers=api("admin"),
                         json={"reason": "asked", "password": "demo-password"})
    assert answer.status_code == 200, answer.get_json()
    sql.expire_all()
    assert sql.get(type(row), row.id).full_name == answer.get_json()["pseudonym"] != former
    if sql.get_bind().dialect.name == "postgresql":
        assert _traces(sql, [former]) == []


def test_a_sealed_register_is_held_and_signatures_go_after_commit(app, client, api, sql, demo, published):
    from core.models import LearnerSignature, RegisterDocument
    from core.personal_data import erasure

    learner_id = _person(client, api, demo)
    session_id, day = past_session(sql, demo["public_cohort_id"], days_ago=3)
    enrolment_id = sql.scalar(select(Enrolment.id).where(Enrolment.learner_id == learner_id))
    mark(sql, session_id, day, {enrolment_id: ("PRESENT", None, None)})
    storage = app.extensions["storage"]
    png = storage.save_bytes(b"\x89PNG signature of " + NEW_NAME.encode(), "signatures", ".png")
    sql.add(LearnerSignature(institution_id=demo["institution_id"], session_id=session_id, member_type="enrolment",
                             member_id=enrolment_id, storage_key=png.key, content_type="image/png",
                             size_bytes=png.size, sha256=png.sha256))
    admin = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    sql.get(RegisterDocument, doc.id).seal_fingerprint = "f" * 64  # sealed (core.seals), never submitted
    sql.commit()
    answer = client.post(f"/api/people/learners/{learner_id}/erasure", headers=api("admin"),
                         json={"reason": "asked", "password": "demo-password"}).get_json()
    assert [h["reference"] for h in answer["held"]] == [doc.reference]
    assert answer["summary"]["signatures"] == 1
    sql.expire_all()
    assert sql.get(RegisterDocument, doc.id).storage_key == doc.storage_key  # kept as issued
    erasure.delete_files(sql, storage, answer["id"])
    assert not storage.path(png.key).exists() and storage.path(doc.storage_key).exists()
