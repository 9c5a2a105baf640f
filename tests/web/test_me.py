"""A learner's own record (issue 21): /me and /api/me/*, their own data only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.models import ClassSession, CorporateTrainee, Enrolment, Learner, User
from tests.attendance_factories import demo_session
from tests.registers_factories import mark


def _mine(sql, demo) -> int:
    """The demo learner's enrolment (learner@demo.example is the public cohort's first learner)."""
    return sql.scalar(select(Enrolment.id).join(Learner, Learner.id == Enrolment.learner_id).where(
        Learner.user_id == demo["users"]["learner"]))


def _past_sessions(sql, cohort_id: int, count: int) -> list[int]:
    return list(sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == cohort_id,
                                                          ClassSession.ends_at < clock.now())
                            .order_by(ClassSession.starts_at.desc()).limit(count)))


def test_my_attendance_gives_my_rate_the_required_rate_and_who_marked_each_session(client, api, sql, demo):
    me = _mine(sql, demo)
    for session_id, status in zip(_past_sessions(sql, demo["public_cohort_id"], 4),
                                  ["PRESENT", "ABSENT", "LATE", "PRESENT"], strict=True):
        mark(sql, session_id, sql.get(ClassSession, session_id).session_date,
             {me: (status, 5 if status == "LATE" else None, None)}, by=demo["users"]["teacher"])
    r = client.get("/api/me/attendance", headers=api("learner"))
    assert r.status_code == 200
    [cohort] = r.json["cohorts"]
    assert (cohort["cohort_id"], cohort["rate"], cohort["required_rate"], cohort["at_risk"]) == (
        demo["public_cohort_id"], 0.75, 0.8, True)
    marked = [s for s in cohort["sessions"] if s["status"]]
    assert len(marked) == 4 and {s["marked_by"] for s in marked} == {"Tarek Teacher"}


def test_my_sessions_are_those_of_my_cohorts_in_the_range(client, api, sql, demo):
    today = clock.today_in("Africa/Algiers")
    r = client.get(f"/api/me/sessions?from={today}&to={today + dt.timedelta(days=10)}", headers=api("learner"))
    assert r.status_code == 200 and r.json["items"]
    assert {s["cohort_id"] for s in r.json["items"]} == {demo["public_cohort_id"]}
    assert all(today.isoformat() <= s["date"] <= (today + dt.timedelta(days=10)).isoformat() for s in r.json["items"])


def test_a_reversed_or_endless_range_is_refused(client, api):
    assert client.get("/api/me/sessions?from=2026-11-20&to=2026-11-01", headers=api("learner")).status_code == 422
    assert client.get("/api/me/sessions?from=2020-01-01&to=2026-01-01", headers=api("learner")).status_code == 422
    assert client.get("/api/me/sessions?from=yesterday", headers=api("learner")).status_code == 422
    assert client.get("/api/me/sessions?from=2026-11-01%00", headers=api("learner")).status_code in (400, 422)


def test_one_account_sees_its_public_and_corporate_cohorts(client, api, sql, demo):
    trainee = sql.scalars(select(CorporateTrainee).where(CorporateTrainee.cohort_id == demo["corporate_cohort_id"])
                          .order_by(CorporateTrainee.id)).first()
    trainee.user_id = demo["users"]["learner"]
    sql.commit()
    cohorts = client.get("/api/me/attendance", headers=api("learner")).json["cohorts"]
    assert {c["cohort_id"] for c in cohorts} == {demo["public_cohort_id"], demo["corporate_cohort_id"]}


def test_the_me_page_shows_my_cohort_and_today(login, demo):
    page = login("learner").get("/me")
    assert page.status_code == 200
    assert "Welding — Intake 1" in page.text and "Today" in page.text and "<script>" not in page.text


def test_staff_have_no_me_page(client, api):
    assert client.get("/api/me/attendance", headers=api("teacher")).status_code == 403
    assert client.get("/api/me/sessions", headers=api("admin")).status_code == 403


def test_a_learner_gets_no_register_cohort_or_other_learners_data(client, api, sql, demo):
    headers = api("learner")
    session_id = demo_session(sql, demo["public_cohort_id"])
    for url in (f"/api/institution/class-sessions/{session_id}", f"/api/institution/cohorts/{demo['public_cohort_id']}",
                "/api/institution/learners", "/api/institution/apologies", "/api/users"):
        assert client.get(url, headers=headers).status_code == 404, url
    assert client.get("/api/me/evidence/1", headers=headers).status_code == 404


def test_a_learner_without_rows_sees_nothing(client, api, sql, demo):
    sql.execute(Learner.__table__.update().values(user_id=None))
    sql.commit()
    assert client.get("/api/me/attendance", headers=api("learner")).json == {"cohorts": []}
    assert sql.get(User, demo["users"]["learner"]).role == "learner"
