"""The attendance API: the register, marking (validation, idempotency, conflicts), locking, evidence, history."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import clock
from core.models import AttendanceRecord, AuditEvent, ClassSession, CorporateAttendanceRecord
from tests.attendance_factories import make_session, members

MARK = "/api/institution/attendance/mark"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _noon_in_algiers():
    """A fixed clock (today, 12:00 in the demo institution's zone): the 07:00 sessions below have started and
    are hours from their cut-off, whatever time the suite runs."""
    today = clock.today_in("Africa/Algiers")
    with clock.frozen_at(dt.datetime.combine(today, dt.time(12), tzinfo=ZoneInfo("Africa/Algiers"))):
        yield


@pytest.fixture
def public_session(app, sql, demo):
    return make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers"), dt.time(7), dt.time(8))


@pytest.fixture
def corporate_session(app, sql, demo):
    return make_session(sql, demo["corporate_cohort_id"], clock.today_in("Africa/Algiers"), dt.time(7),
                        dt.time(8))


def _count(sql, model, **where):
    sql.expire_all()
    sql.rollback()
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return sql.scalar(stmt)


def test_register_lists_every_public_trainee_unmarked(api, client, public_session):
    response = client.get(f"/api/institution/class-sessions/{public_session}", headers=api("teacher"))
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["Server-Timing"])  # web/timing.py: what benches read
    body = response.get_json()
    assert body["key"] == "enrolment_id"
    assert len(body["trainees"]) == 12
    assert {t["status"] for t in body["trainees"]} == {None}
    assert body["counts"]["UNMARKED"] == 12 and body["session"]["is_locked"] is False


def test_mark_writes_records_and_returns_the_register(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    response = client.post(MARK, headers=api("teacher"), json={"session_id": public_session, "records": [
        {"enrolment_id": ids[0], "status": "PRESENT"},
        {"enrolment_id": ids[1], "status": "LATE", "minutes_late": 12, "notes": "bus"},
    ]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    by_id = {t["id"]: t for t in body["trainees"]}
    assert by_id[ids[1]]["status"] == "LATE" and by_id[ids[1]]["minutes_late"] == 12
    assert by_id[ids[1]]["marked_by"] == "Tarek Teacher" and by_id[ids[1]]["version"] == 1
    assert sorted(body["changed"]) == sorted(ids[:2]) and body["conflicts"] == []
    assert body["counts"]["PRESENT"] == 1 and body["counts"]["LATE"] == 1


def test_sending_the_same_body_twice_changes_nothing_the_second_time(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    payload = {"session_id": public_session, "records": [{"enrolment_id": i, "status": "ABSENT"} for i in ids[:5]]}
    headers = api("teacher")
    first = client.post(MARK, headers=headers, json=payload).get_json()
    audits = _count(sql, AuditEvent, action="attendance.mark")
    second = client.post(MARK, headers=headers, json={**payload, "full_register": True}).get_json()
    assert len(first["changed"]) == 5 and second["changed"] == []
    assert {t["version"] for t in second["trainees"] if t["status"]} == {1}
    assert _count(sql, AuditEvent, action="attendance.mark") == audits == 5


def test_a_change_bumps_the_version_and_audits_from_and_to(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session,
                                             "records": [{"enrolment_id": ids[0], "status": "ABSENT"}]})
    body = client.post(MARK, headers=headers, json={"session_id": public_session, "records": [
        {"enrolment_id": ids[0], "status": "LATE", "minutes_late": 5}]}).get_json()
    assert next(t for t in body["trainees"] if t["id"] == ids[0])["version"] == 2
    history = client.get(f"/api/institution/class-sessions/{public_session}/trainees/{ids[0]}/history",
                         headers=headers).get_json()["items"]
    assert [(h["from"] or {}).get("status") for h in history] == [None, "ABSENT"]
    assert [h["to"]["status"] for h in history] == ["ABSENT", "LATE"] and history[1]["by"] == "Tarek Teacher"


def test_invalid_records_are_each_listed_and_nothing_is_written(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    other = members(sql, demo["corporate_cohort_id"])[0]
    response = client.post(MARK, headers=api("teacher"), json={"session_id": public_session, "records": [
        {"enrolment_id": ids[0], "status": "PRESENT"},          # fine
        {"enrolment_id": ids[1], "status": "HERE"},             # bad status
        {"enrolment_id": ids[2], "status": "PRESENT", "minutes_late": 3},  # minutes only for LATE
        {"enrolment_id": ids[3], "status": "LATE", "minutes_late": 601},   # out of range
        {"enrolment_id": 999_999, "status": "PRESENT"},         # not on the register
        {"enrolment_id": ids[4], "status": "ABSENT", "notes": "x" * 501},  # too long
        {"trainee_id": other, "status": "PRESENT"},             # corporate key on a public cohort
    ]})
    assert response.status_code == 422
    errors = response.get_json()["error"]["details"]["records"]
    assert sorted({e["index"] for e in errors}) == [1, 2, 3, 4, 5, 6]
    assert {e["reason"] for e in errors} >= {"invalid_status", "only_for_late", "out_of_range", "not_in_cohort",
                                             "too_long", "wrong_cohort_type"}
    assert _count(sql, AttendanceRecord, session_id=public_session) == 0


def test_missing_or_malformed_body_is_a_clean_422(api, client):
    headers = api("teacher")
    assert client.post(MARK, headers=headers, json={}).status_code == 422
    assert client.post(MARK, headers=headers, json={"session_id": "x"}).status_code == 422
    assert client.post(MARK, headers=headers, data="not json", content_type="application/json").status_code == 422


def test_stale_expected_version_is_reported_and_not_overwritten(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session,
                                             "records": [{"enrolment_id": ids[0], "status": "ABSENT"}]})
    client.post(MARK, headers=api("admin"), json={"session_id": public_session,
                                                  "records": [{"enrolment_id": ids[0], "status": "EXCUSED"}]})
    body = client.post(MARK, headers=headers, json={"session_id": public_session, "records": [
        {"enrolment_id": ids[0], "status": "PRESENT", "expected_version": 1},
        {"enrolment_id": ids[1], "status": "PRESENT", "expected_version": 0},
    ], "full_register": True}).get_json()
    assert [c["enrolment_id"] for c in body["conflicts"]] == [ids[0]]
    assert body["conflicts"][0]["current"]["status"] == "EXCUSED" and body["conflicts"][0]["current_version"] == 2
    by_id = {t["id"]: t for t in body["trainees"]}
    assert by_id[ids[0]]["status"] == "EXCUSED" and by_id[ids[1]]["status"] == "PRESENT"


def test_mark_all_present_fills_only_unmarked_trainees(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session,
                                             "records": [{"enrolment_id": ids[0], "status": "ABSENT"}]})
    body = client.post(MARK, headers=headers, json={
        "session_id": public_session, "mark_all_present": True, "full_register": True,
        "records": [{"enrolment_id": ids[1], "status": "LATE", "minutes_late": 4}]}).get_json()
    statuses = {t["id"]: t["status"] for t in body["trainees"]}
    assert statuses[ids[0]] == "ABSENT" and statuses[ids[1]] == "LATE"
    assert [statuses[i] for i in ids[2:]] == ["PRESENT"] * 10
    assert body["counts"] == {"PRESENT": 10, "ABSENT": 1, "LATE": 1, "EXCUSED": 0, "UNMARKED": 0}


def test_corporate_cohort_marks_trainees_in_the_corporate_table(api, client, sql, demo, corporate_session):
    ids = members(sql, demo["corporate_cohort_id"])
    headers = api("teacher")
    register = client.get(f"/api/institution/class-sessions/{corporate_session}", headers=headers).get_json()
    assert register["key"] == "trainee_id" and len(register["trainees"]) == 10
    response = client.post(MARK, headers=headers, json={"session_id": corporate_session, "mark_all_present": True,
                                                         "records": [{"trainee_id": ids[0], "status": "ABSENT"}]})
    assert response.status_code == 200
    assert _count(sql, CorporateAttendanceRecord, session_id=corporate_session) == 10
    assert _count(sql, AttendanceRecord, session_id=corporate_session) == 0
    wrong = client.post(MARK, headers=headers, json={"session_id": corporate_session,
                                                     "records": [{"enrolment_id": 1, "status": "ABSENT"}]})
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["details"]["records"][0]["reason"] == "wrong_cohort_type"


def test_locked_session_refuses_marks_with_423(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    assert client.post(f"/api/institution/class-sessions/{public_session}/lock", headers=api("admin"),
                       json={"reason": "Register signed off"}).status_code == 200
    response = client.post(MARK, headers=api("teacher"), json={
        "session_id": public_session, "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]})
    assert response.status_code == 423
    assert "locked" in response.get_json()["error"]["message"].lower()
    assert _count(sql, AttendanceRecord, session_id=public_session) == 0


def test_lock_and_unlock_need_a_reason_and_are_audited(api, client, sql, public_session):
    headers = api("admin")
    url = f"/api/institution/class-sessions/{public_session}"
    assert client.post(f"{url}/lock", headers=headers, json={}).status_code == 422
    assert client.post(f"{url}/lock", headers=headers, json={"reason": "  "}).status_code == 422
    locked = client.post(f"{url}/lock", headers=headers, json={"reason": "Signed"}).get_json()["session"]
    assert locked["is_locked"] and locked["lock_reason"] == "Signed"
    assert client.post(f"{url}/unlock", headers=headers, json={}).status_code == 422
    later = (clock.now() + dt.timedelta(days=2)).isoformat()
    unlocked = client.post(f"{url}/unlock", headers=headers,
                           json={"reason": "Late correction", "relock_after": later}).get_json()["session"]
    assert unlocked["is_locked"] is False and unlocked["relock_after"] is not None
    actions = sql.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "class_session",
                                                                 AuditEvent.entity_id == public_session)
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["session.lock", "session.unlock"]


def test_facilitators_cannot_lock_or_unlock(api, client, public_session):
    headers = api("teacher")
    url = f"/api/institution/class-sessions/{public_session}"
    assert client.post(f"{url}/lock", headers=headers, json={"reason": "x"}).status_code == 403
    assert client.post(f"{url}/unlock", headers=headers, json={"reason": "x"}).status_code == 403


@pytest.mark.parametrize(("name", "get_status", "mark_status"), [
    ("super", 200, 200), ("admin", 200, 200), ("teacher", 200, 200), ("teacher2", 404, 404),
    ("support", 403, 403), ("org", 403, 403), ("regulator", 200, 403),
])
def test_permission_per_role_on_a_public_register(api, client, sql, demo, public_session, name, get_status,
                                                  mark_status):
    ids = members(sql, demo["public_cohort_id"])
    headers = api(name)
    assert client.get(f"/api/institution/class-sessions/{public_session}", headers=headers).status_code == get_status
    response = client.post(MARK, headers=headers, json={"session_id": public_session,
                                                        "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]})
    assert response.status_code == mark_status


def test_regulator_sees_only_cohorts_their_approved_request_covers(api, client, corporate_session):
    # The demo regulator's request covers the public cohort only.
    assert client.get(f"/api/institution/class-sessions/{corporate_session}",
                      headers=api("regulator")).status_code == 404


def test_legacy_daily_records_are_never_touched(api, client, sql, demo):
    legacy_before = sql.execute(
        select(AttendanceRecord.id, AttendanceRecord.enrolment_id, AttendanceRecord.record_date,
               AttendanceRecord.status, AttendanceRecord.version, AttendanceRecord.updated_at)
        .where(AttendanceRecord.session_id.is_(None)).order_by(AttendanceRecord.id)).all()
    assert len(legacy_before) == 4
    # A session on the very date of the legacy records, for the same enrolments.
    session_id = make_session(sql, demo["public_cohort_id"], legacy_before[0].record_date, dt.time(7),
                              dt.time(8))
    ids = members(sql, demo["public_cohort_id"])
    with clock.frozen_at(dt.datetime.combine(legacy_before[0].record_date, dt.time(12), tzinfo=dt.UTC)):
        response = client.post(MARK, headers=api("teacher"), json={
            "session_id": session_id, "mark_all_present": True,
            "records": [{"enrolment_id": ids[0], "status": "ABSENT"}]})
    assert response.status_code == 200
    sql.expire_all()
    legacy_after = sql.execute(
        select(AttendanceRecord.id, AttendanceRecord.enrolment_id, AttendanceRecord.record_date,
               AttendanceRecord.status, AttendanceRecord.version, AttendanceRecord.updated_at)
        .where(AttendanceRecord.session_id.is_(None)).order_by(AttendanceRecord.id)).all()
    assert legacy_after == legacy_before
    assert _count(sql, AttendanceRecord, session_id=session_id) == 12


def test_daily_view_shows_legacy_and_session_records(login, api, client, sql, demo):
    legacy_day = sql.scalar(select(AttendanceRecord.record_date).where(AttendanceRecord.session_id.is_(None)))
    session_id = make_session(sql, demo["public_cohort_id"], legacy_day, dt.time(7), dt.time(8))
    ids = members(sql, demo["public_cohort_id"])
    with clock.frozen_at(dt.datetime.combine(legacy_day, dt.time(12), tzinfo=dt.UTC)):
        client.post(MARK, headers=api("teacher"), json={"session_id": session_id,
                                                        "records": [{"enrolment_id": ids[5], "status": "EXCUSED"}]})
    page = login("teacher").get(f"/institution/attendance?date={legacy_day.isoformat()}").get_data(as_text=True)
    assert page.count(">recorded by day</span>") >= 4  # four legacy rows, each badged
    assert "Attendance recorded by day, before sessions existed" in page  # the legend says what it means
    assert "EXCUSED" in page and "07:00" in page


def test_evidence_upload_checks_content_and_serves_only_to_who_may_see(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session,
                                             "records": [{"enrolment_id": ids[0], "status": "EXCUSED"}]})
    url = f"/api/institution/class-sessions/{public_session}/trainees/{ids[0]}/evidence"
    fake = client.post(url, headers=headers, data={"file": (io.BytesIO(b"MZ not a pdf"), "note.pdf")})
    assert fake.status_code == 422 and fake.get_json()["error"]["code"] == "unsupported_file_type"
    ok = client.post(url, headers=headers, data={"file": (io.BytesIO(PDF), "sick-note.pdf")})
    assert ok.status_code == 201, ok.get_json()
    download = ok.get_json()["url"]
    got = client.get(download, headers=headers)
    assert got.status_code == 200 and got.data == PDF and got.mimetype == "application/pdf"
    got.close()
    assert client.get(download, headers=api("teacher2")).status_code == 404
    assert client.get(download, headers=api("support")).status_code == 403
    register = client.get(f"/api/institution/class-sessions/{public_session}", headers=headers).get_json()
    assert next(t for t in register["trainees"] if t["id"] == ids[0])["has_evidence"] is True


def test_evidence_over_the_size_limit_is_refused(app, api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session,
                                             "records": [{"enrolment_id": ids[0], "status": "EXCUSED"}]})
    previous = app.config["EVIDENCE_MAX_MB"]
    app.config["EVIDENCE_MAX_MB"] = 1
    try:
        big = PNG + b"\x00" * (1024 * 1024 + 10)
        response = client.post(f"/api/institution/class-sessions/{public_session}/trainees/{ids[0]}/evidence",
                               headers=headers, data={"file": (io.BytesIO(big), "scan.png")})
    finally:
        app.config["EVIDENCE_MAX_MB"] = previous
    assert response.status_code == 413


def test_export_csv_neutralizes_formulas(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    client.post(MARK, headers=headers, json={"session_id": public_session, "records": [
        {"enrolment_id": ids[0], "status": "ABSENT", "notes": "=HYPERLINK(\"http://x\")"}]})
    csv_text = client.get(f"/institution/attendance/sessions/{public_session}/export.csv",
                          headers=headers).get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text


def test_register_screen_renders_and_is_read_only_when_locked(login, api, client, sql, public_session):
    teacher = login("teacher")
    page = teacher.get(f"/institution/attendance/sessions/{public_session}").get_data(as_text=True)
    assert "Mark all present" in page and "register.js" in page
    client.post(f"/api/institution/class-sessions/{public_session}/lock", headers=api("admin"),
                json={"reason": "done"})
    locked = teacher.get(f"/institution/attendance/sessions/{public_session}").get_data(as_text=True)
    assert "Mark all present" not in locked and "read-only" in locked


def test_screen_marks_need_the_csrf_header(app, login, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    teacher = login("teacher")
    page = teacher.get(f"/institution/attendance/sessions/{public_session}").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    body = {"session_id": public_session, "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]}
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert teacher.post(MARK, json=body).status_code == 400
        assert teacher.post(MARK, json=body, headers={"X-CSRFToken": token}).status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_cancelled_session_cannot_be_marked(api, client, sql, demo):
    from core.models import SessionStatus

    session_id = make_session(sql, demo["public_cohort_id"], clock.today_in("Africa/Algiers"), dt.time(6),
                              dt.time(7), status=SessionStatus.CANCELLED)
    ids = members(sql, demo["public_cohort_id"])
    response = client.post(MARK, headers=api("teacher"), json={
        "session_id": session_id, "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]})
    assert response.status_code == 409
    assert sql.get(ClassSession, session_id).is_locked is False


def test_a_register_past_its_cut_off_is_locked_alike_on_the_screen_the_api_and_the_calendar(
        api, login, client, sql, demo):
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=3)
    session_id = make_session(sql, demo["public_cohort_id"], day, dt.time(7), dt.time(8))
    headers = api("teacher")
    register = client.get(f"/api/institution/class-sessions/{session_id}", headers=headers).get_json()
    events = client.get(f"/api/institution/attendance/calendar?start={day}&end={day + dt.timedelta(days=1)}",
                        headers=headers).get_json()["items"]
    page = login("teacher").get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    refused = client.post(MARK, headers=headers, json={"session_id": session_id, "records": [
        {"enrolment_id": members(sql, demo["public_cohort_id"])[0], "status": "PRESENT"}]})
    assert register["session"]["is_locked"] is True and register["permissions"]["mark"] is False
    assert [e["locked"] for e in events if e["id"] == session_id] == [True]
    assert 'id="locked-banner"' in page and 'id="mark-all-present"' not in page
    assert refused.status_code == 423 and refused.get_json()["error"]["code"] == "session_locked"
    assert refused.get_json()["error"]["details"]["cutoff_at"] == register["session"]["auto_lock_at"]


def test_present_for_a_session_not_started_is_422_and_excused_is_saved(api, client, sql, demo):
    day = clock.today_in("Africa/Algiers") + dt.timedelta(days=8)
    session_id = make_session(sql, demo["public_cohort_id"], day, dt.time(7), dt.time(8))
    ids = members(sql, demo["public_cohort_id"])
    headers = api("admin")
    early = client.post(MARK, headers=headers, json={"session_id": session_id,
                                                      "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]})
    apology = client.post(MARK, headers=headers, json={"session_id": session_id, "records": [
        {"enrolment_id": ids[1], "status": "EXCUSED", "notes": "Wedding"}]})
    assert early.status_code == 422 and early.get_json()["error"]["code"] == "session_not_started"
    assert apology.status_code == 200 and apology.get_json()["changed"] == [ids[1]]


def test_a_mark_answers_only_what_changed_unless_the_full_register_is_asked(api, client, sql, demo, public_session):
    ids = members(sql, demo["public_cohort_id"])
    headers = api("teacher")
    body = {"session_id": public_session, "records": [{"enrolment_id": ids[0], "status": "PRESENT"}]}
    changes = client.post(MARK, headers=headers, json=body).get_json()
    full = client.post(MARK, headers=headers, json={**body, "full_register": True}).get_json()
    assert changes["register"] == "changes" and [t["id"] for t in changes["trainees"]] == [ids[0]]
    assert changes["counts"]["PRESENT"] == 1 and changes["trainees"][0]["version"] == 1
    assert full["register"] == "full" and len(full["trainees"]) == 12 and "session" in full
