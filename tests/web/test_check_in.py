"""Self check-in through the API: the facilitator opens it and reads the code, learners check in by code or by
the QR's token; codes across the step boundary, replay, staff refused, a facilitator's mark wins, the
anti-sharing rules (one device two learners, second device, networks, geofence), and unmarked at close."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import clock
from core.access.passwords import hash_password
from core.checkin import codes
from core.checkin import service as checkin
from core.models import (
    AttendanceRecord,
    AuditEvent,
    CheckInAttempt,
    ClassSession,
    Enrolment,
    Learner,
    Role,
    SessionStatus,
    User,
)
from tests.attendance_factories import make_session, members
from tests.conftest import sign_in

ZONE = ZoneInfo("Africa/Algiers")
ME = "/api/me/check-in"
pytestmark = pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")


def status_url(session_id: int) -> str:
    return f"/api/institution/class-sessions/{session_id}/check-in"


@pytest.fixture
def session_id(app, sql, demo) -> int:
    """Today's 12:00–13:00 session of the public cohort (between the demo's morning and afternoon ones)."""
    return make_session(sql, demo["public_cohort_id"], dt.date(2026, 11, 17), dt.time(12), dt.time(13))


@pytest.fixture
def opened(client, api, session_id) -> dict[str, Any]:
    response = client.post(status_url(session_id), json={"open": True}, headers=api("teacher"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def learner(app, demo):
    c = app.test_client()
    assert sign_in(c, "learner@demo.example").status_code == 302
    return c


@pytest.fixture
def learner2(app, sql, demo):
    """A second learner of the public cohort with an account of their own."""
    second = sql.scalars(select(Learner).join(Enrolment, Enrolment.learner_id == Learner.id)
                         .where(Enrolment.cohort_id == demo["public_cohort_id"], Learner.user_id.is_(None))
                         .order_by(Learner.id)).first()
    user = User(institution_id=demo["institution_id"], email="learner2@demo.example", full_name=second.full_name,
                role=Role.LEARNER, password_hash=hash_password("demo-password"))
    sql.add(user)
    sql.flush()
    second.user_id = user.id
    sql.commit()
    c = app.test_client()
    assert sign_in(c, "learner2@demo.example").status_code == 302
    return c


def code_now(client, api, session_id) -> str:
    return client.get(status_url(session_id), headers=api("teacher")).get_json()["code"]


def records(sql, session_id: int) -> list[AttendanceRecord]:
    sql.rollback()
    return list(sql.scalars(select(AttendanceRecord).where(AttendanceRecord.session_id == session_id)))


def settings(client, api, **values: Any) -> None:
    body = {"one_device": False, "networks": [], "absent_at_close": False, **values}
    response = client.put("/api/institution/check-in-settings", json=body, headers=api("admin"))
    assert response.status_code == 200, response.get_json()


def test_opened_check_in_shows_a_six_digit_code_and_the_qr_url(opened):
    assert opened["open"] and len(opened["code"]) == 6 and f"/check-in/{opened['session_id']}-" in opened["url"]


def test_learner_checks_in_by_code_present_with_source_and_time(client, api, learner, opened, session_id):
    body = learner.post(ME, json={"code": opened["code"]}).get_json()
    row = next(t for t in client.get(f"/api/institution/class-sessions/{session_id}", headers=api("teacher"))
               .get_json()["trainees"] if t["status"])
    assert (body["status"], body["source"], row["source"], row["checked_in_at"][:16]) == (
        "PRESENT", "self_check_in", "self_check_in", "2026-11-17T11:05")


def test_check_in_is_audited_like_any_mark(sql, learner, opened, session_id):
    learner.post(ME, json={"code": opened["code"]})
    sql.rollback()
    event = sql.scalars(select(AuditEvent).where(AuditEvent.action == "attendance.mark")).one()
    assert event.context["source"] == "self_check_in" and event.after["status"] == "PRESENT"


@pytest.mark.clock_at("2026-11-17T12:25", zone="Africa/Algiers")
def test_check_in_after_the_grace_is_late_with_minutes(learner, opened):
    body = learner.post(ME, json={"code": opened["code"]}).get_json()
    assert (body["status"], body["minutes_late"]) == ("LATE", 25)


def test_learner_checks_in_by_the_qr_token(learner, opened):
    token = opened["url"].rsplit("/", 1)[1]
    assert learner.post(ME, json={"token": token}).get_json()["status"] == "PRESENT"


def test_qr_url_page_opens_for_the_learner(learner, opened):
    page = learner.get(opened["url"].split("localhost", 1)[1])
    assert page.status_code == 200 and b"check-in-form" in page.data


def test_code_of_the_previous_step_is_accepted_across_the_boundary(client, api, learner, session_id, sql):
    boundary = dt.datetime(2026, 11, 17, 11, 6, 0, tzinfo=dt.UTC)  # 12:06:00 in Algiers: a multiple of 20 s
    with clock.frozen_at(boundary - dt.timedelta(seconds=1)):
        code = client.post(status_url(session_id), json={"open": True}, headers=api("teacher")).get_json()["code"]
    with clock.frozen_at(boundary + dt.timedelta(seconds=19)):
        response = learner.post(ME, json={"code": code})
    assert response.status_code == 200 and len(records(sql, session_id)) == 1


def test_code_replayed_two_steps_later_is_expired_and_writes_nothing(client, api, learner, session_id, sql):
    boundary = dt.datetime(2026, 11, 17, 11, 6, 0, tzinfo=dt.UTC)
    with clock.frozen_at(boundary):
        code = client.post(status_url(session_id), json={"open": True}, headers=api("teacher")).get_json()["code"]
    with clock.frozen_at(boundary + dt.timedelta(seconds=40)):
        response = learner.post(ME, json={"code": code})
    assert (response.status_code, response.get_json()["error"]["code"], records(sql, session_id)) == (
        410, "check_in_code_expired", [])


def test_wrong_code_is_refused_recorded_and_shown_to_the_facilitator(client, api, learner, opened, session_id, sql):
    wrong = f"{(int(opened['code']) + 1) % 1000000:06d}"
    response = learner.post(ME, json={"code": wrong})
    shown = client.get(status_url(session_id), headers=api("teacher")).get_json()["refusals"]
    assert (response.status_code, response.get_json()["error"]["code"], records(sql, session_id)) == (
        422, "check_in_code_invalid", [])
    assert [r["reason"] for r in shown] == ["check_in_code_invalid"]


def test_forged_token_is_refused(learner, opened, sql, session_id):
    token = opened["url"].rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = learner.post(ME, json={"token": forged})
    assert (response.status_code, response.get_json()["error"]["code"], records(sql, session_id)) == (
        422, "check_in_code_invalid", [])


def test_code_of_another_session_is_refused(learner, opened, app, sql):
    other = codes.code_at(codes.session_secret(app.config["SECRET_KEY"], opened["session_id"] + 1000),
                          codes.step_of(clock.now()))
    response = learner.post(ME, json={"code": other})
    assert response.status_code == 422 and records(sql, opened["session_id"]) == []


def test_check_in_before_it_is_opened_is_refused(learner, session_id, sql):
    response = learner.post(ME, json={"code": "123456"})
    assert (response.status_code, response.get_json()["error"]["code"]) == (423, "check_in_closed")


def test_check_in_after_it_is_closed_is_refused(client, api, learner, opened, session_id, sql):
    client.post(status_url(session_id), json={"open": False}, headers=api("teacher"))
    response = learner.post(ME, json={"code": opened["code"]})
    assert (response.status_code, records(sql, session_id)) == (423, [])


def test_staff_accounts_are_refused(client, api, opened, sql, session_id):
    response = client.post(ME, json={"code": opened["code"]}, headers=api("teacher"))
    assert (response.status_code, records(sql, session_id)) == (403, [])


def test_cancelled_session_refuses_check_in(learner, opened, sql, session_id):
    sql.get(ClassSession, session_id).status = SessionStatus.CANCELLED
    sql.commit()
    response = learner.post(ME, json={"code": opened["code"]})
    assert response.status_code == 423 and records(sql, session_id) == []


def test_locked_session_refuses_check_in(learner, opened, sql, session_id):
    sql.get(ClassSession, session_id).is_locked = True
    sql.commit()
    response = learner.post(ME, json={"code": opened["code"]})
    assert (response.status_code, response.get_json()["error"]["code"], records(sql, session_id)) == (
        423, "session_locked", [])


def test_facilitator_mark_wins_over_a_later_check_in(client, api, learner, opened, sql, demo, session_id):
    first = members(sql, demo["public_cohort_id"])[0]  # the demo learner's enrolment
    client.post("/api/institution/attendance/mark", headers=api("teacher"),
                json={"session_id": session_id, "records": [{"enrolment_id": first, "status": "ABSENT"}]})
    body = learner.post(ME, json={"code": opened["code"]}).get_json()
    assert (body["status"], body["source"], body["already_marked"]) == ("ABSENT", "staff", True)


def test_facilitator_mark_overrides_a_check_in(client, api, learner, opened, sql, demo, session_id):
    learner.post(ME, json={"code": opened["code"]})
    first = members(sql, demo["public_cohort_id"])[0]
    client.post("/api/institution/attendance/mark", headers=api("teacher"),
                json={"session_id": session_id, "records": [{"enrolment_id": first, "status": "EXCUSED"}]})
    (record,) = records(sql, session_id)
    assert (record.status.value, record.source, record.checked_in_at is not None) == ("EXCUSED", "staff", True)


def test_checking_in_twice_writes_one_mark(learner, opened, sql, session_id):
    learner.post(ME, json={"code": opened["code"]})
    again = learner.post(ME, json={"code": opened["code"]}).get_json()
    assert again["already_marked"] and len(records(sql, session_id)) == 1


def test_facilitator_opens_only_from_15_minutes_before_the_start(client, api, sql, demo):
    later = make_session(sql, demo["public_cohort_id"], dt.date(2026, 11, 17), dt.time(16, 30), dt.time(17))
    response = client.post(status_url(later), json={"open": True}, headers=api("teacher"))
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "check_in_not_now")


def test_support_may_not_open_check_in(client, api, session_id):
    assert client.post(status_url(session_id), json={"open": True}, headers=api("support")).status_code == 403


# --- anti-sharing --------------------------------------------------------------------------------------------------

def test_one_device_checking_in_two_learners_is_refused_and_flagged(client, api, learner, learner2, opened, sql,
                                                                     session_id):
    settings(client, api, one_device=True)
    learner.set_cookie("check_in_device", "a" * 32)
    learner2.set_cookie("check_in_device", "a" * 32)
    learner.post(ME, json={"code": opened["code"]})
    response = learner2.post(ME, json={"code": code_now(client, api, session_id)})
    shown = client.get(status_url(session_id), headers=api("teacher")).get_json()
    assert (response.status_code, response.get_json()["error"]["code"], len(records(sql, session_id))) == (
        409, "check_in_device_shared", 1)
    assert [(r["reason"], r["flagged"]) for r in shown["refusals"]] == [("check_in_device_shared", True)]


def test_second_device_for_the_same_learner_is_refused(client, api, app, learner, opened, session_id, sql):
    settings(client, api, one_device=True)
    learner.set_cookie("check_in_device", "a" * 32)
    learner.post(ME, json={"code": opened["code"]})
    other_phone = app.test_client()
    sign_in(other_phone, "learner@demo.example")
    other_phone.set_cookie("check_in_device", "b" * 32)
    response = other_phone.post(ME, json={"code": code_now(client, api, session_id)})
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "check_in_second_device")


def test_devices_are_not_checked_when_the_rule_is_off(client, api, learner, learner2, opened, sql, session_id):
    learner.set_cookie("check_in_device", "a" * 32)
    learner2.set_cookie("check_in_device", "a" * 32)
    learner.post(ME, json={"code": opened["code"]})
    assert learner2.post(ME, json={"code": code_now(client, api, session_id)}).status_code == 200


def test_outside_the_network_list_is_refused(client, api, learner, opened, sql, session_id):
    settings(client, api, networks=["10.20.0.0/16"])
    response = learner.post(ME, json={"code": opened["code"]})  # the test client comes from 127.0.0.1
    assert (response.status_code, response.get_json()["error"]["code"], records(sql, session_id)) == (
        403, "check_in_network_refused", [])


def test_inside_the_network_list_is_accepted(client, api, learner, opened):
    settings(client, api, networks=["10.20.0.0/16", "127.0.0.0/8"])
    assert learner.post(ME, json={"code": opened["code"]}).status_code == 200


def test_outside_the_geofence_is_refused_with_the_distance(client, api, learner, opened, sql, session_id):
    settings(client, api, geofence_lat=36.7538, geofence_lon=3.0588, geofence_radius_m=200)
    response = learner.post(ME, json={"code": opened["code"], "latitude": 36.7628, "longitude": 3.0588})
    error = response.get_json()["error"]
    assert (response.status_code, error["code"], records(sql, session_id)) == (403, "check_in_outside_geofence", [])
    assert "1,001 m" in error["message"] and "200 m" in error["message"]


def test_without_a_position_the_geofence_asks_for_one(client, api, learner, opened):
    settings(client, api, geofence_lat=36.7538, geofence_lon=3.0588, geofence_radius_m=200)
    response = learner.post(ME, json={"code": opened["code"]})
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "check_in_location_required")


def test_inside_the_geofence_is_accepted(client, api, learner, opened):
    settings(client, api, geofence_lat=36.7538, geofence_lon=3.0588, geofence_radius_m=200)
    response = learner.post(ME, json={"code": opened["code"], "latitude": 36.7540, "longitude": 3.0590})
    assert response.status_code == 200


def test_settings_are_off_by_default(client, api):
    assert client.get("/api/institution/check-in-settings", headers=api("admin")).get_json() == {
        "one_device": False, "networks": [], "geofence_lat": None, "geofence_lon": None,
        "geofence_radius_m": None, "absent_at_close": False}


def test_teachers_may_not_change_the_settings(client, api):
    response = client.put("/api/institution/check-in-settings", json={"one_device": True}, headers=api("teacher"))
    assert response.status_code == 403


# --- unmarked at close -----------------------------------------------------------------------------------------

def _auto_count(sql, session_id: int) -> tuple[int, int]:
    sql.rollback()
    marks = sql.scalar(select(func.count()).select_from(AttendanceRecord).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.source == "auto"))
    audits = sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark"))
    return marks, audits


def test_unmarked_at_close_marks_the_rest_absent_and_a_second_run_changes_nothing(client, api, learner, opened,
                                                                                    sql, demo, session_id):
    settings(client, api, absent_at_close=True)
    learner.post(ME, json={"code": opened["code"]})
    client.post(status_url(session_id), json={"open": False}, headers=api("teacher"))
    first = checkin.mark_unmarked_at_close(sql)
    after_first = _auto_count(sql, session_id)
    second = checkin.mark_unmarked_at_close(sql)
    roster = len(members(sql, demo["public_cohort_id"]))
    assert (first["marked_absent"], after_first) == (roster - 1, (roster - 1, roster))
    assert (second["marked_absent"], _auto_count(sql, session_id)) == (0, after_first)


def test_unmarked_at_close_is_off_by_default(client, api, opened, sql, session_id):
    client.post(status_url(session_id), json={"open": False}, headers=api("teacher"))
    checkin.mark_unmarked_at_close(sql)
    assert records(sql, session_id) == []


def test_every_refusal_is_recorded(learner, opened, sql, session_id):
    learner.post(ME, json={"code": "000000" if opened["code"] != "000000" else "111111"})
    sql.rollback()
    assert sql.scalar(select(func.count()).select_from(CheckInAttempt).where(
        CheckInAttempt.accepted.is_(False))) == 1


# --- screens ---------------------------------------------------------------------------------------------------

def test_learner_checks_in_with_the_form_on_me(learner, opened, sql, session_id):
    page = learner.get("/me")
    assert b'id="check-in-form"' in page.data
    done = learner.post("/check-in", data={"code": opened["code"]})
    assert done.status_code == 200 and b"check-in-done" in done.data and len(records(sql, session_id)) == 1


def test_a_refused_form_check_in_says_why_on_the_page(learner, opened, sql, session_id):
    response = learner.post("/check-in", data={"code": "12345x"})
    assert response.status_code == 422 and b"check-in-error" in response.data and records(sql, session_id) == []


def test_facilitator_screen_shows_the_code_and_a_server_drawn_qr(login, opened, session_id):
    teacher = login("teacher")
    page = teacher.get(f"/institution/attendance/sessions/{session_id}/check-in")
    svg = teacher.get(f"/institution/attendance/sessions/{session_id}/check-in/qr.svg")
    assert page.status_code == 200 and b'id="code"' in page.data
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")


def test_admin_saves_the_settings_on_their_screen(login, client, api):
    admin = login("admin")
    form = {"one_device": "on", "networks": "10.0.0.0/8\n", "geofence_lat": "", "geofence_lon": "",
            "geofence_radius_m": ""}
    admin.post("/institution/check-in-settings", data=form)
    body = client.get("/api/institution/check-in-settings", headers=api("admin")).get_json()
    assert (body["one_device"], body["networks"]) == (True, ["10.0.0.0/8"])


def test_a_corporate_trainee_checks_in_to_their_cohorts_register(client, api, learner, sql, demo):
    from core.models import CorporateAttendanceRecord, CorporateTrainee

    trainee = sql.scalars(select(CorporateTrainee).where(CorporateTrainee.cohort_id == demo["corporate_cohort_id"])
                          .order_by(CorporateTrainee.id)).first()
    trainee.user_id = demo["users"]["learner"]
    sql.commit()
    corporate = make_session(sql, demo["corporate_cohort_id"], dt.date(2026, 11, 17), dt.time(12), dt.time(13))
    code = client.post(status_url(corporate), json={"open": True}, headers=api("admin")).get_json()["code"]
    assert learner.post(ME, json={"code": code}).status_code == 200
    sql.rollback()
    (record,) = sql.scalars(select(CorporateAttendanceRecord).where(CorporateAttendanceRecord.session_id == corporate))
    assert (record.trainee_id, record.source) == (trainee.id, "self_check_in")


def test_operators_run_the_unmarked_at_close_job_by_hand(app, client, api, opened, session_id, sql):
    settings(client, api, absent_at_close=True)
    client.post(status_url(session_id), json={"open": False}, headers=api("teacher"))
    result = app.test_cli_runner().invoke(args=["attendance", "absent-at-close"])
    assert result.exit_code == 0 and "marked absent: 12" in result.output
