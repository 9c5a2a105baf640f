"""The scheduling JSON API: generator (dry run, apply, re-apply), single sessions, rooms and holidays, per role."""

from __future__ import annotations

import datetime as dt

import pytest

MON = dt.date(2031, 3, 3)


def plan(room_id: int | None, **kw) -> dict:
    body = {"start_date": MON.isoformat(), "end_date": (MON + dt.timedelta(days=4)).isoformat(),
            "weekdays": ["mon", "tue", "wed", "thu", "fri"],
            "slots": [{"start": "09:00", "end": "12:00", "session_type": "THEORY", "room_id": room_id}]}
    body.update(kw)
    return body


@pytest.fixture
def admin(api):
    return api("admin")


@pytest.fixture
def room_id(client, admin):
    return client.post("/api/rooms", json={"name": "Lab 9", "capacity": 40, "location": "Block 3"},
                       headers=admin).json["id"]


def schedule_url(cohort_id: int) -> str:
    return f"/api/institution/cohorts/{cohort_id}/schedule"


def test_dry_run_returns_the_plan_and_writes_nothing(client, demo, admin, room_id):
    body = client.post(schedule_url(demo["public_cohort_id"]), json={**plan(room_id), "dry_run": True},
                       headers=admin).json
    assert body["to_create_count"] == 5 and body["conflicts"] == []
    assert body["sessions"][0]["starts_at"] == "2031-03-03T09:00:00+01:00"
    listed = client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}/sessions?q=Lab 9", headers=admin).json
    assert listed["total"] == 0


def test_apply_answers_201_with_the_created_sessions(client, demo, admin, room_id):
    response = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id), headers=admin)
    assert response.status_code == 201
    assert response.json["created_count"] == 5 and all(s["id"] for s in response.json["created"])


def test_reapplying_creates_nothing_twice(client, demo, admin, room_id):
    client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id), headers=admin)
    again = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id), headers=admin)
    assert again.status_code == 200
    assert (again.json["created_count"], again.json["already_scheduled_count"]) == (0, 5)


def test_refuse_answers_409_listing_the_conflicts(client, demo, admin, room_id):
    client.post(schedule_url(demo["corporate_cohort_id"]), json=plan(room_id, end_date=MON.isoformat()), headers=admin)
    response = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id, on_conflict="refuse"),
                           headers=admin)
    assert response.status_code == 409
    assert response.json["error"]["details"]["conflicts"][0]["clashes"][0]["resource_name"] == "Lab 9"


def test_a_bad_plan_is_422_with_every_problem(client, demo, admin):
    response = client.post(schedule_url(demo["public_cohort_id"]), headers=admin, json={
        "slots": [{"start": "25:00", "end": "12:00", "session_type": "NAP"}], "weekdays": ["funday"]})
    assert response.status_code == 422
    fields = {d["field"] for d in response.json["error"]["details"]}
    assert {"slots[0].start", "slots[0].session_type", "weekdays"} <= fields


def test_an_unknown_room_is_422(client, demo, admin):
    response = client.post(schedule_url(demo["public_cohort_id"]), json=plan(999999), headers=admin)
    assert response.status_code == 422 and "room" in response.json["error"]["details"][0]["message"]


def test_teacher_may_not_schedule(client, demo, api, room_id):
    assert client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id),
                       headers=api("teacher")).status_code == 403


def test_patch_onto_a_busy_room_is_409_naming_the_clash(client, demo, admin, room_id):
    other = client.post(schedule_url(demo["corporate_cohort_id"]), json=plan(room_id, end_date=MON.isoformat()),
                        headers=admin).json["created"][0]
    mine = client.post(schedule_url(demo["public_cohort_id"]),
                       json=plan(room_id, start_date="2031-03-04", end_date="2031-03-04"), headers=admin).json
    response = client.patch(f"/api/institution/class-sessions/{mine['created'][0]['id']}",
                            json={"date": MON.isoformat()}, headers=admin)
    assert response.status_code == 409
    assert f"session {other['id']}" in response.json["error"]["message"]
    assert "Lab 9" in response.json["error"]["message"]


def test_patch_moves_a_session(client, demo, admin, room_id):
    sid = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id, end_date=MON.isoformat()),
                      headers=admin).json["created"][0]["id"]
    body = client.patch(f"/api/institution/class-sessions/{sid}", json={"start_time": "14:00", "end_time": "15:30"},
                        headers=admin).json
    assert (body["start_time"], body["starts_at"]) == ("14:00", "2031-03-03T14:00:00+01:00")


def test_patch_of_a_locked_session_is_423(app, client, demo, admin, room_id):
    from core.models import ClassSession
    from web.extensions import db

    sid = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id, end_date=MON.isoformat()),
                      headers=admin).json["created"][0]["id"]
    with app.app_context():
        db.session.get(ClassSession, sid).is_locked = True
        db.session.commit()
    assert client.patch(f"/api/institution/class-sessions/{sid}", json={"date": "2031-03-05"},
                        headers=admin).status_code == 423


def test_cancel(client, demo, admin, room_id):
    sid = client.post(schedule_url(demo["public_cohort_id"]), json=plan(room_id, end_date=MON.isoformat()),
                      headers=admin).json["created"][0]["id"]
    response = client.post(f"/api/institution/class-sessions/{sid}/cancel", json={"reason": "strike"}, headers=admin)
    assert response.status_code == 200 and response.json["status"] == "CANCELLED"


def test_rooms_list_create_and_patch(client, admin, room_id, api):
    assert client.patch(f"/api/rooms/{room_id}", json={"capacity": 12}, headers=admin).json["capacity"] == 12
    names = [r["name"] for r in client.get("/api/rooms?q=lab", headers=api("teacher")).json["items"]]
    assert names == ["Lab 9"]


def test_duplicate_room_is_409(client, admin, room_id):
    assert client.post("/api/rooms", json={"name": "Lab 9"}, headers=admin).status_code == 409


def test_teacher_cannot_create_rooms(client, api):
    assert client.post("/api/rooms", json={"name": "Mine"}, headers=api("teacher")).status_code == 403


def test_holidays_create_list_delete(client, admin):
    created = client.post("/api/holidays", json={"date": "2031-03-04", "name": "Spring day"}, headers=admin)
    assert created.status_code == 201
    own = "/api/holidays?year=2031&source=institution"  # the country's public holidays are listed too
    assert [h["date"] for h in client.get(own, headers=admin).json["items"]] == ["2031-03-04"]
    assert client.delete(f"/api/holidays/{created.json['id']}", headers=admin).status_code == 204
    assert client.get(own, headers=admin).json["total"] == 0


def test_generator_skips_holidays_from_the_api(client, demo, admin, room_id):
    client.post("/api/holidays", json={"date": "2031-03-04", "name": "Spring day"}, headers=admin)
    body = client.post(schedule_url(demo["public_cohort_id"]), json={**plan(room_id), "dry_run": True},
                       headers=admin).json
    assert "2031-03-04" not in {s["date"] for s in body["sessions"]} and body["to_create_count"] == 4


def test_capacity_warning_in_the_preview(client, demo, admin):
    small = client.post("/api/rooms", json={"name": "Tiny", "capacity": 2}, headers=admin).json["id"]
    body = client.post(schedule_url(demo["public_cohort_id"]), json={**plan(small), "dry_run": True},
                       headers=admin).json
    assert body["warnings"][0]["code"] == "room_capacity"
