"""Apologies in advance (issue 21): a learner sends one for sessions not yet started; a facilitator approves it
(EXCUSED with the reason and the file as evidence, audited) or declines it (nothing changes; the learner is told)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select

from core import clock
from core.models import Apology, AttendanceRecord, AuditEvent, ClassSession, EvidenceFile, Job
from tests.attendance_factories import demo_session

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SEND = "/api/me/apologies"


@pytest.fixture
def future(sql, demo) -> list[int]:
    """Two of the public cohort's sessions that have not started (the demo learner's cohort)."""
    return list(sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                          ClassSession.starts_at > clock.now())
                            .order_by(ClassSession.starts_at).limit(2)))


def _count(sql, model, *where) -> int:
    sql.expire_all()
    return sql.scalar(select(func.count()).select_from(model).where(*where))


def _send(client, api, session_ids, reason="Hospital appointment", **extra):
    return client.post(SEND, json={"session_ids": session_ids, "reason": reason, **extra}, headers=api("learner"))


def test_an_apology_is_pending_and_listed_for_the_learner_and_the_facilitator(client, api, future):
    sent = _send(client, api, future)
    assert sent.status_code == 201 and sent.json["status"] == "pending"
    assert [s["session_id"] for s in sent.json["sessions"]] == future
    assert [a["id"] for a in client.get(SEND, headers=api("learner")).json["items"]] == [sent.json["id"]]
    pending = client.get("/api/institution/apologies?status=pending", headers=api("teacher")).json
    assert [a["id"] for a in pending["items"]] == [sent.json["id"]] and pending["items"][0]["learner"]


def test_the_register_shows_pending_apologies(client, api, login, future):
    _send(client, api, future)
    page = login("teacher").get(f"/institution/attendance/sessions/{future[0]}")
    assert "Hospital appointment" in page.text and "/approve" in page.text


def test_approving_excuses_each_session_with_the_reason_and_the_file_as_evidence(client, api, sql, future):
    sent = client.post(SEND, data={"session_ids": ",".join(map(str, future)), "reason": "Hospital appointment",
                                   "file": (io.BytesIO(PNG), "letter.png")},
                       headers=api("learner"), content_type="multipart/form-data")
    assert sent.status_code == 201, sent.json
    approved = client.post(f"/api/apologies/{sent.json['id']}/approve", headers=api("teacher"))
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    records = sql.scalars(select(AttendanceRecord).where(AttendanceRecord.session_id.in_(future))).all()
    assert [(r.status, r.notes) for r in records] == [("EXCUSED", "Hospital appointment")] * 2
    evidence = sql.get(EvidenceFile, records[0].evidence_file_id)
    assert evidence.original_filename == "letter.png" and records[1].evidence_file_id == evidence.id
    assert _count(sql, AuditEvent, AuditEvent.action == "attendance.mark",
                  AuditEvent.entity_id.in_([r.id for r in records])) == 2
    mine = client.get("/api/me/attendance", headers=api("learner")).json["cohorts"][0]["sessions"]
    assert {s["status"] for s in mine if s["session_id"] in future} == {"EXCUSED"}


def test_declining_changes_no_mark_and_queues_the_mail(client, api, sql, future):
    sent = _send(client, api, future[:1])
    declined = client.post(f"/api/apologies/{sent.json['id']}/decline", json={"reason": "Exam day: you must come"},
                           headers=api("admin"))
    assert declined.status_code == 200 and declined.json["decision_reason"] == "Exam day: you must come"
    assert _count(sql, AttendanceRecord, AttendanceRecord.session_id == future[0]) == 0
    assert _count(sql, Job, Job.kind == "apologies.send_decision", Job.entity_id == sent.json["id"]) == 1


def test_an_apology_is_decided_once(client, api, future):
    sent = _send(client, api, future[:1])
    assert client.post(f"/api/apologies/{sent.json['id']}/approve", headers=api("teacher")).status_code == 200
    again = client.post(f"/api/apologies/{sent.json['id']}/decline", json={"reason": "no"}, headers=api("admin"))
    assert again.status_code == 409 and again.json["error"]["code"] == "already_decided"


def test_an_apology_for_a_started_session_is_refused_and_nothing_is_kept(client, api, sql, demo, future):
    started = demo_session(sql, demo["public_cohort_id"])
    r = _send(client, api, [future[0], started])
    assert r.status_code == 422 and r.json["error"]["code"] == "session_started"
    assert _count(sql, Apology) == 0


def test_someone_elses_session_is_404(client, api, sql, demo):
    corporate = sql.scalar(select(ClassSession.id).where(ClassSession.cohort_id == demo["corporate_cohort_id"],
                                                         ClassSession.starts_at > clock.now()).limit(1))
    r = _send(client, api, [corporate])
    assert r.status_code == 404 and _count(sql, Apology) == 0


def test_the_same_session_twice_is_a_conflict(client, api, future):
    assert _send(client, api, future[:1]).status_code == 201
    again = _send(client, api, future)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_apologised"


def test_a_file_that_is_not_a_document_is_refused_and_not_kept(client, api, sql, future, app):
    r = client.post(SEND, data={"session_ids": str(future[0]), "reason": "Ill",
                                "file": (io.BytesIO(b"#!/bin/sh\necho hi\n"), "note.pdf")},
                    headers=api("learner"), content_type="multipart/form-data")
    assert r.status_code == 422 and r.json["error"]["code"] == "unsupported_file_type"
    assert _count(sql, Apology) == 0 and _count(sql, EvidenceFile) == 0


@pytest.mark.parametrize("body", [
    {"session_ids": [], "reason": "x"},
    {"session_ids": [2_147_483_648], "reason": "x"},
    {"session_ids": [1], "reason": "a\u0000b"},
    {"session_ids": [1], "reason": "x" * 5000},
    {"session_ids": [1], "reason": "   "},
    {"session_ids": "1", "reason": "x"},
])
def test_bad_input_is_a_4xx_and_writes_nothing(client, api, sql, body):
    r = client.post(SEND, json=body, headers=api("learner"))
    assert 400 <= r.status_code < 500 and "error" in r.json
    assert _count(sql, Apology) == 0


def test_malformed_json_is_refused_in_json(client, api):
    r = client.post(SEND, data=b'{"session_ids": [1', headers={**api("learner"), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json["error"]["code"] == "invalid_json"


def test_staff_cannot_send_and_learners_cannot_decide(client, api, future):
    assert client.post(SEND, json={"session_ids": future, "reason": "x"}, headers=api("teacher")).status_code == 403
    sent = _send(client, api, future[:1])
    assert client.post(f"/api/apologies/{sent.json['id']}/approve", headers=api("learner")).status_code == 404
    assert client.get("/api/institution/apologies", headers=api("learner")).status_code == 404


def test_a_facilitator_of_another_cohort_does_not_see_it(client, api, future):
    sent = _send(client, api, future[:1])
    assert client.post(f"/api/apologies/{sent.json['id']}/approve", headers=api("teacher2")).status_code == 404
    assert client.get("/api/institution/apologies", headers=api("teacher2")).json["total"] == 0


def test_the_learner_sends_an_apology_from_me(login, sql, future):
    learner = login("learner")
    page = learner.get("/me")
    assert f'value="{future[0]}"' in page.text
    r = learner.post("/me/apologies", data={"session_ids": [str(future[0])], "reason": "Family wedding"})
    assert r.status_code == 302 and _count(sql, Apology) == 1
    assert "Family wedding" in learner.get("/me").text


def test_a_locked_session_refuses_the_approval_and_nothing_is_marked(client, api, sql, future):
    sent = _send(client, api, future)
    locked = client.post(f"/api/institution/class-sessions/{future[1]}/lock", json={"reason": "Audit"},
                         headers=api("admin"))
    assert locked.status_code == 200, locked.json
    r = client.post(f"/api/apologies/{sent.json['id']}/approve", headers=api("admin"))
    assert r.status_code == 423
    assert _count(sql, AttendanceRecord, AttendanceRecord.session_id.in_(future)) == 0
    assert sql.get(Apology, sent.json["id"]).status == "pending"


def _queries(app, client, url, headers) -> int:
    from web.extensions import db

    seen: list[int] = []

    def count(*_args):
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_list_runs_a_fixed_number_of_queries_whatever_the_page_size(app, client, api, sql, demo):
    upcoming = sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                         ClassSession.starts_at > clock.now())
                           .order_by(ClassSession.starts_at).limit(3)).all()
    for session_id in upcoming:
        assert _send(client, api, [session_id]).status_code == 201
    headers = api("teacher")
    client.get("/api/institution/apologies", headers=headers)  # the token's first use is recorded: not counted
    assert (_queries(app, client, "/api/institution/apologies?per_page=1", headers)
            == _queries(app, client, "/api/institution/apologies?per_page=3", headers))
