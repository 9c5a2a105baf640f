"""Public cohorts, the cohort list with progress, enrolments and withdrawal, facilitators, instructor visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from core import clock
from core.models import ClassSession, Enrolment, Learner, User


def _cohort(client, h, name="Plumbing — Intake 3", **extra):
    q = client.get("/api/qualifications", headers=h).json["items"][0]
    r = client.post("/api/institution/cohorts", headers=h,
                    json={"name": name, "qualification_id": q["id"], "start_date": "2026-01-05",
                          "end_date": "2026-06-30", **extra})
    assert r.status_code == 201, r.json
    return r.json


def test_a_public_cohort_is_created_with_its_contract_fields(client, api):
    c = _cohort(client, api("admin"))
    assert (c["type"], c["status"], c["start_date"], c["trainee_count"], c["sessions_planned"]) == (
        "public", "ACTIVE", "2026-01-05", 0, 0)


def test_bad_cohort_input_is_a_clear_422(client, api):
    h = api("admin")
    r = client.post("/api/institution/cohorts", headers=h, json={"name": "", "qualification_id": 999999})
    assert r.status_code == 422 and {d["field"] for d in r.json["error"]["details"]} == {"name"}
    q = client.get("/api/qualifications", headers=h).json["items"][0]
    r = client.post("/api/institution/cohorts", headers=h, json={"name": "X", "qualification_id": q["id"],
                                                                 "start_date": "2026-02-01", "end_date": "2026-01-01"})
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "end_date"


@pytest.mark.clock_at("2026-11-17T10:30", zone="Africa/Algiers")
def test_the_cohort_list_has_both_kinds_with_progress(client, api, demo):
    items = {c["id"]: c for c in client.get("/api/institution/cohorts", headers=api("admin")).json["items"]}
    public, corporate = items[demo["public_cohort_id"]], items[demo["corporate_cohort_id"]]
    assert (public["type"], corporate["type"]) == ("public", "corporate")
    assert public["trainee_count"] == 12 and corporate["trainee_count"] == 10
    # Tuesday 10:30: the five weekdays before today held; today's 09:00–12:00 is under way, not held.
    assert public["sessions_planned"] == 10 and public["sessions_held"] == 5
    assert public["unmarked_sessions"] == public["sessions_held"]  # the demo marks nothing by session
    assert public["qualification"]["code"] == "WLD-101"


def test_the_cohort_list_filters(client, api, demo):
    h = api("admin")
    assert [c["type"] for c in client.get("/api/institution/cohorts?type=corporate", headers=h).json["items"]] \
        == ["corporate"]
    assert client.get("/api/institution/cohorts?q=welding", headers=h).json["total"] == 1
    teacher = demo["users"]["teacher2"]
    assert client.get(f"/api/institution/cohorts?facilitator={teacher}", headers=h).json["total"] == 0


def test_the_list_runs_a_fixed_number_of_queries_whatever_the_page_size(app, client, api):
    h = api("admin")
    for n in range(6):
        _cohort(client, h, name=f"Intake {n}")
    from web.extensions import db

    counts = []
    for per_page in (1, 8):
        seen = []

        def count(*_args, seen=seen):
            seen.append(1)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/api/institution/cohorts?per_page={per_page}", headers=h).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_status_moves_active_completed_archived_and_not_back(client, api):
    h = api("admin")
    c = _cohort(client, h)
    url = f"/api/institution/cohorts/{c['id']}"
    assert client.patch(url, json={"status": "ARCHIVED"}, headers=h).status_code == 422
    assert client.patch(url, json={"status": "COMPLETED"}, headers=h).json["status"] == "COMPLETED"
    assert client.patch(url, json={"status": "ARCHIVED"}, headers=h).json["status"] == "ARCHIVED"
    assert client.patch(url, json={"status": "ACTIVE"}, headers=h).status_code == 422


def test_enrolment_answers_which_were_enrolled_and_which_already_were(client, api, demo, sql):
    h = api("admin")
    c = _cohort(client, h)
    learner_ids = sorted(sql.scalars(select(Learner.id)).all())[:3]
    first = client.post(f"/api/institution/cohorts/{c['id']}/enrolments", json={"learner_ids": learner_ids[:2]},
                        headers=h).json
    second = client.post(f"/api/institution/cohorts/{c['id']}/enrolments", json={"learner_ids": learner_ids},
                         headers=h).json
    assert [e["learner_id"] for e in first["enrolled"]] == learner_ids[:2]
    assert [e["learner_id"] for e in second["enrolled"]] == learner_ids[2:]
    assert [e["learner_id"] for e in second["already_enrolled"]] == learner_ids[:2]
    items = client.get(f"/api/institution/cohorts/{c['id']}/enrolments", headers=h).json["items"]
    assert set(items[0]) >= {"id", "learner_id", "status", "enrolled_on"} and len(items) == 3


def test_a_withdrawn_learner_leaves_later_registers_and_stays_on_earlier_ones(client, api, demo, sql):
    h = api("admin")
    sessions = sql.scalars(select(ClassSession).where(ClassSession.cohort_id == demo["public_cohort_id"])
                           .order_by(ClassSession.starts_at)).all()
    enrolment = sql.scalars(select(Enrolment).where(Enrolment.cohort_id == demo["public_cohort_id"])
                            .order_by(Enrolment.id)).first()
    cut = sessions[3].session_date
    r = client.post(f"/api/enrolments/{enrolment.id}/withdraw", json={"date": cut.isoformat(), "reason": "Moved"},
                    headers=h)
    assert r.status_code == 200 and (r.json["status"], r.json["withdrawn_on"]) == ("WITHDRAWN", cut.isoformat())

    def on_register(session_id):
        rows = client.get(f"/api/institution/class-sessions/{session_id}", headers=h).json["trainees"]
        return any(row["enrolment_id"] == enrolment.id and row["active"] for row in rows)

    assert on_register(sessions[2].id) and not on_register(sessions[3].id) and not on_register(sessions[-1].id)


def test_sessions_outside_an_enrolment_do_not_count_in_rates(client, api, demo, sql):
    h = api("admin")
    sessions = sql.scalars(select(ClassSession).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                      ClassSession.ends_at < clock.now())
                           .order_by(ClassSession.starts_at)).all()
    enrolment = sql.scalars(select(Enrolment).where(Enrolment.cohort_id == demo["public_cohort_id"])
                            .order_by(Enrolment.id)).first()
    for s, status in ((sessions[0], "ABSENT"), (sessions[1], "PRESENT")):
        with clock.frozen_at(s.ends_at + dt.timedelta(minutes=5)):  # marked on the day, before the cut-off
            r = client.post("/api/institution/attendance/mark", headers=h, json={
                "session_id": s.id, "records": [{"enrolment_id": enrolment.id, "status": status}]})
        assert r.status_code == 200, r.json
    client.post(f"/api/enrolments/{enrolment.id}/withdraw", json={"date": sessions[1].session_date.isoformat()},
                headers=h)
    detail = client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}", headers=h).json
    (member,) = [m for m in detail["members"] if m["id"] == enrolment.id]
    assert (member["attended"], member["counted"], member["attendance_rate"]) == (0, 1, 0.0)


def test_facilitators_are_teachers_of_the_institution(client, api, demo):
    h = api("admin")
    url = f"/api/institution/cohorts/{demo['public_cohort_id']}/facilitators"
    r = client.put(url, json={"user_ids": [demo["users"]["teacher2"]]}, headers=h)
    assert r.status_code == 200 and [f["id"] for f in r.json["items"]] == [demo["users"]["teacher2"]]
    assert client.put(url, json={"user_ids": [demo["users"]["admin"]]}, headers=h).status_code == 422
    assert client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}",
                      headers=api("teacher2")).status_code == 200


def test_the_instructor_of_a_session_sees_and_marks_it_without_being_assigned(client, api, demo, sql):
    teacher2 = demo["users"]["teacher2"]
    session = sql.scalars(select(ClassSession).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                     ClassSession.ends_at < clock.now())).first()
    h2 = api("teacher2")
    assert client.get(f"/api/institution/class-sessions/{session.id}", headers=h2).status_code == 404
    session.instructor_id = teacher2
    sql.commit()
    register = client.get(f"/api/institution/class-sessions/{session.id}", headers=h2)
    assert register.status_code == 200
    first = register.json["trainees"][0]["enrolment_id"]
    with clock.frozen_at(session.ends_at + dt.timedelta(minutes=5)):  # on the day, before the cut-off
        r = client.post("/api/institution/attendance/mark", headers=h2,
                        json={"session_id": session.id, "records": [{"enrolment_id": first, "status": "PRESENT"}]})
    assert r.status_code == 200, r.json
    assert client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}", headers=h2).status_code == 404


def test_the_instructor_sees_the_session_on_the_teacher_page(login, demo, sql):
    teacher2 = sql.scalar(select(User).where(User.id == demo["users"]["teacher2"]))
    today = sql.scalars(select(ClassSession).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                   ClassSession.session_date >= clock.today_in("Africa/Algiers"))
                        .order_by(ClassSession.starts_at)).first()
    today.instructor_id = teacher2.id
    sql.commit()
    page = login("teacher2").get("/teacher").get_data(as_text=True)
    assert f"/institution/attendance/sessions/{today.id}" in page


def test_cohort_screens_render(login, demo):
    c = login("admin")
    for url in ("/institution/attendance/cohorts", f"/institution/attendance/cohorts/{demo['public_cohort_id']}",
                f"/institution/attendance/cohorts/{demo['corporate_cohort_id']}", "/admin/learners",
                "/admin/users", "/admin/qualifications", "/admin/learners/import"):
        assert c.get(url).status_code == 200, url


def test_the_create_screen_makes_a_cohort_and_enrols_typed_ids(login, demo, sql):
    c = login("admin")
    q = sql.scalars(select(Learner.id).order_by(Learner.id)).all()[:2]
    from core.models import Qualification

    qual = sql.scalars(select(Qualification.id)).first()
    r = c.post("/institution/attendance/cohorts", data={"name": "Screen cohort", "qualification_id": qual,
                                                        "start_date": "", "end_date": ""})
    assert r.status_code == 302
    cohort_url = r.headers["Location"]
    r = c.post(cohort_url + "/enrolments", data={"learner_ids": f"{q[0]}, {q[1]}"})
    assert r.status_code == 302
    assert "2 enrolled, 0 already enrolled." in c.get(cohort_url).get_data(as_text=True)


def test_enrolled_on_defaults_to_the_cohort_start(client, api):
    h = api("admin")
    start = clock.today_in("Africa/Algiers") + dt.timedelta(days=30)
    c = _cohort(client, h, start_date=start.isoformat(), end_date=None)
    learner = client.post("/api/learners", json={"full_name": "Late Starter"}, headers=h).json
    r = client.post(f"/api/institution/cohorts/{c['id']}/enrolments", json={"learner_ids": [learner["id"]]},
                    headers=h).json
    assert r["enrolled"][0]["enrolled_on"] == c["start_date"]
