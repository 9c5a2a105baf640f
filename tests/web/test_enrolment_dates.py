"""Enrolling without internal ids, and the enrolment date (issue 27 point 2): by ID number with unknown ones
reported; `enrolled_on` by default the later of the cohort's start and today, settable, correctable by PATCH;
attendance rates count every session on or after it, marks backfilled before a corrected date included."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import clock
from core.models import Enrolment, Institution, Learner
from tests.attendance_factories import make_session
from tests.registers_factories import mark

NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)  # a Monday, 11:00 in Algiers


def _cohort(client, h, start="2026-03-02", end="2026-06-30"):
    q = client.get("/api/qualifications", headers=h).json["items"][0]
    r = client.post("/api/institution/cohorts", headers=h, json={"name": "Welding — Intake 1", "qualification_id":
                                                                 q["id"], "start_date": start, "end_date": end})
    assert r.status_code == 201, r.json
    return r.json["id"]


def _learner(client, h, name, id_number):
    r = client.post("/api/learners", json={"full_name": name, "id_number": id_number}, headers=h)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _enrol(client, h, cohort_id, **body):
    return client.post(f"/api/institution/cohorts/{cohort_id}/enrolments", json=body, headers=h)


def _member(client, h, cohort_id, enrolment_id):
    detail = client.get(f"/api/institution/cohorts/{cohort_id}", headers=h).json
    (member,) = [m for m in detail["members"] if m["id"] == enrolment_id]
    return member["attended"], member["counted"]


def test_learners_are_enrolled_by_id_number_and_unknown_ones_reported(client, api):
    h = api("admin")
    cohort = _cohort(client, h)
    ids = [_learner(client, h, "Sipho Dlamini", "9001015800081"),
           _learner(client, h, "Lerato Mokoena", "9102026800082")]
    r = _enrol(client, h, cohort, id_numbers=["9001015800081", "0000000000000", "9102026800082"])
    assert r.status_code == 200, r.json
    assert sorted(e["learner_id"] for e in r.json["enrolled"]) == sorted(ids)
    assert r.json["unknown_id_numbers"] == ["0000000000000"]


def test_another_institutions_id_numbers_are_unknown_here(client, api, sql, demo):
    inst = Institution(name="Elsewhere", slug="elsewhere", time_zone="Africa/Johannesburg")
    sql.add(inst)
    sql.flush()
    sql.add(Learner(institution_id=inst.id, full_name="Outsider", id_number="OUT-1"))
    sql.commit()
    r = _enrol(client, api("admin"), _cohort(client, api("admin")), id_numbers=["OUT-1"])
    assert r.status_code == 200 and r.json["enrolled"] == [] and r.json["unknown_id_numbers"] == ["OUT-1"]


def test_an_enrolment_names_somebody(client, api):
    h = api("admin")
    assert _enrol(client, h, _cohort(client, h)).status_code == 422


def test_pasted_id_numbers_enrol_from_the_cohort_page(client, api, login):
    h = api("admin")
    cohort = _cohort(client, h)
    _learner(client, h, "Sipho Dlamini", "9001015800081")
    browser = login("admin")
    page = browser.get(f"/institution/attendance/cohorts/{cohort}").get_data(as_text=True)
    assert 'id="enrol-form"' in page and 'name="id_numbers"' in page and "enrol.js" in page
    r = browser.post(f"/institution/attendance/cohorts/{cohort}/enrolments",
                     data={"id_numbers": "9001015800081\nNOPE-1", "enrolled_on": ""})
    assert r.status_code == 302
    page = browser.get(f"/institution/attendance/cohorts/{cohort}").get_data(as_text=True)
    assert "1 enrolled, 0 already enrolled." in page and "NOPE-1" in page and "Sipho Dlamini" in page


@pytest.mark.parametrize(("start", "expected"), [("2026-03-02", "2026-03-16"), ("2026-04-06", "2026-04-06")])
def test_enrolled_on_defaults_to_the_later_of_the_cohort_start_and_today(client, api, start, expected):
    h = api("admin")
    with clock.frozen_at(NOW):
        cohort = _cohort(client, h, start=start)
        r = _enrol(client, h, cohort, id_numbers=[], learner_ids=[_learner(client, h, "A", "A-1")])
    assert r.json["enrolled"][0]["enrolled_on"] == expected


def test_enrolled_on_may_be_given_and_corrected(client, api, sql):
    h = api("admin")
    cohort = _cohort(client, h)
    r = _enrol(client, h, cohort, learner_ids=[_learner(client, h, "A", "A-1")], enrolled_on="2026-03-02")
    enrolment = r.json["enrolled"][0]
    assert enrolment["enrolled_on"] == "2026-03-02"
    r = client.patch(f"/api/enrolments/{enrolment['id']}", json={"enrolled_on": "2026-03-09"}, headers=h)
    assert r.status_code == 200 and r.json["enrolled_on"] == "2026-03-09"
    assert sql.get(Enrolment, enrolment["id"]).enrolled_on == dt.date(2026, 3, 9)


def test_enrolled_on_cannot_follow_the_withdrawal_or_the_cohort_end(client, api):
    h = api("admin")
    cohort = _cohort(client, h)
    e = _enrol(client, h, cohort, learner_ids=[_learner(client, h, "A", "A-1")], enrolled_on="2026-03-02").json
    enrolment = e["enrolled"][0]["id"]
    client.post(f"/api/enrolments/{enrolment}/withdraw", json={"date": "2026-04-01"}, headers=h)
    r = client.patch(f"/api/enrolments/{enrolment}", json={"enrolled_on": "2026-04-02"}, headers=h)
    assert r.status_code == 422 and r.json["error"]["code"] == "date_after_withdrawal"
    r = client.patch(f"/api/enrolments/{enrolment}", json={"enrolled_on": "2026-07-01"}, headers=h)
    assert r.status_code == 422 and r.json["error"]["code"] == "date_after_end"


def test_rates_count_every_session_from_the_enrolment_date_backfilled_marks_included(client, api, sql):
    h = api("admin")
    cohort = _cohort(client, h)
    early, late = dt.date(2026, 3, 3), dt.date(2026, 3, 10)
    early_session, late_session = make_session(sql, cohort, early), make_session(sql, cohort, late)
    r = _enrol(client, h, cohort, learner_ids=[_learner(client, h, "A", "A-1")], enrolled_on=late.isoformat())
    enrolment = r.json["enrolled"][0]["id"]
    mark(sql, late_session, late, {enrolment: ("PRESENT", None, None)})
    mark(sql, early_session, early, {enrolment: ("ABSENT", None, None)})  # a mark from before the enrolment date
    assert _member(client, h, cohort, enrolment) == (1, 1)
    r = client.patch(f"/api/enrolments/{enrolment}", json={"enrolled_on": early.isoformat()}, headers=h)
    assert r.status_code == 200
    assert _member(client, h, cohort, enrolment) == (1, 2)


def test_a_mark_backfilled_through_the_register_counts_once_the_date_is_corrected(client, api, sql):
    h = api("admin")
    cohort = _cohort(client, h)
    early = dt.date(2026, 3, 3)
    session_id = make_session(sql, cohort, early)
    r = _enrol(client, h, cohort, learner_ids=[_learner(client, h, "A", "A-1")], enrolled_on="2026-03-10")
    enrolment = r.json["enrolled"][0]["id"]
    with clock.frozen_at(dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)):  # after it ended, before its cut-off
        r = client.post("/api/institution/attendance/mark", headers=h, json={
            "session_id": session_id, "records": [{"enrolment_id": enrolment, "status": "PRESENT"}]})
    assert r.status_code == 200, r.json
    assert _member(client, h, cohort, enrolment) == (0, 0)
    client.patch(f"/api/enrolments/{enrolment}", json={"enrolled_on": early.isoformat()}, headers=h)
    assert _member(client, h, cohort, enrolment) == (1, 1)


def test_another_institutions_enrolment_cannot_be_patched(client, api, demo, sql):
    enrolment = sql.scalars(select(Enrolment.id).where(Enrolment.cohort_id == demo["public_cohort_id"])).first()
    assert client.patch(f"/api/enrolments/{enrolment}", json={"enrolled_on": "2026-03-02"},
                        headers=api("teacher")).status_code == 403
