"""The calendar API per role and filter, the calendar screens, and the iCalendar feeds."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from core import clock

WINDOW = "start=2031-03-01&end=2031-04-01"


@pytest.fixture
def schedule(app, client, demo, api):
    """Sessions on 3 March 2031 in three cohorts: the two demo cohorts and one no facilitator is assigned to."""
    from core.models import Cohort
    from web.extensions import db

    with app.app_context():
        hidden = Cohort(institution_id=demo["institution_id"], name="Hidden intake", start_date=dt.date(2031, 1, 1),
                        end_date=dt.date(2031, 12, 31))
        db.session.add(hidden)
        db.session.commit()
        hidden_id = hidden.id
    admin = api("admin")
    rooms = [client.post("/api/rooms", json={"name": f"Room {n}"}, headers=admin).json["id"] for n in (1, 2, 3)]
    teacher = demo["users"]["teacher"]
    ids = {}
    for (name, cohort_id), room in zip((("public", demo["public_cohort_id"]),
                                        ("corporate", demo["corporate_cohort_id"]),
                                        ("hidden", hidden_id)), rooms, strict=True):
        body = {"start_date": "2031-03-03", "end_date": "2031-03-03", "weekdays": [0],
                "slots": [{"start": "09:00", "end": "12:00", "room_id": room,
                           "instructor_id": teacher if name == "public" else None}]}
        ids[name] = client.post(f"/api/institution/cohorts/{cohort_id}/schedule", json=body,
                                headers=admin).json["created"][0]["id"]
    return {"ids": ids, "rooms": rooms, "hidden_cohort": hidden_id}


def events(client, headers, query: str = "") -> list[dict]:
    response = client.get(f"/api/institution/attendance/calendar?{WINDOW}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_admin_sees_every_cohort(client, api, schedule):
    assert {e["id"] for e in events(client, api("admin"))} == set(schedule["ids"].values())


def test_teacher_sees_only_assigned_cohorts(client, api, schedule):
    assert {e["id"] for e in events(client, api("teacher"))} == {schedule["ids"]["public"],
                                                                  schedule["ids"]["corporate"]}


def test_support_may_not_read_the_calendar(client, api, schedule):
    """Support views cohorts and trainees, nothing else (issue 11): no schedules."""
    assert client.get(f"/api/institution/attendance/calendar?{WINDOW}", headers=api("support")).status_code == 403


def test_regulator_sees_only_the_approved_cohort(client, api, schedule):
    assert [e["id"] for e in events(client, api("regulator"))] == [schedule["ids"]["public"]]


def test_org_member_may_not_read_the_calendar(client, api, schedule):
    assert client.get(f"/api/institution/attendance/calendar?{WINDOW}", headers=api("org")).status_code == 403


def test_filters_by_cohort_room_and_instructor(client, api, demo, schedule):
    admin = api("admin")
    assert [e["id"] for e in events(client, admin, f"&cohort={demo['corporate_cohort_id']}")] == \
        [schedule["ids"]["corporate"]]
    assert [e["id"] for e in events(client, admin, f"&room={schedule['rooms'][2]}")] == [schedule["ids"]["hidden"]]
    assert [e["id"] for e in events(client, admin, f"&instructor={demo['users']['teacher']}")] == \
        [schedule["ids"]["public"]]


def test_teacher_filtering_on_a_hidden_cohort_gets_nothing(client, api, schedule):
    assert events(client, api("teacher"), f"&cohort={schedule['hidden_cohort']}") == []


def test_event_fields(client, api, schedule):
    [event] = events(client, api("admin"), f"&room={schedule['rooms'][0]}")
    assert event["start"] == "2031-03-03T09:00:00+01:00" and event["end"] == "2031-03-03T12:00:00+01:00"
    assert event["type"] == "THEORY" and event["room"]["name"] == "Room 1" and event["locked"] is False
    assert event["cohort"]["name"] == "Welding — Intake 1" and event["instructor"]["name"] == "Tarek Teacher"
    assert (event["marked"], event["roster"]) == (0, 12)


def test_a_window_without_dates_is_422(client, api):
    assert client.get("/api/institution/attendance/calendar", headers=api("admin")).status_code == 422


def test_calendar_screen_renders_for_a_teacher(login):
    page = login("teacher").get("/institution/attendance/calendar")
    assert page.status_code == 200 and b"scheduling-calendar.js" in page.data


def test_sessions_screen_preview_then_apply(login, demo, schedule):
    admin = login("admin")
    form = {"start_date": "2031-03-10", "end_date": "2031-03-14", "weekdays": ["0", "2"], "slot1_start": "09:00",
            "slot1_end": "12:00", "slot1_type": "PRACTICAL", "slot1_room": str(schedule["rooms"][0]),
            "use_holidays": "1", "on_conflict": "skip"}
    page = admin.post(f"/admin/cohorts/{demo['public_cohort_id']}/sessions/preview", data=form)
    assert page.status_code == 200 and b"<strong>2</strong> to create" in page.data
    import html
    import re

    plan_json = html.unescape(re.search(rb'name="plan_json" value="([^"]+)"', page.data).group(1).decode())
    done = admin.post(f"/admin/cohorts/{demo['public_cohort_id']}/sessions/apply", data={"plan_json": plan_json})
    assert done.status_code == 302
    listing = admin.get(f"/admin/cohorts/{demo['public_cohort_id']}/sessions?q=PRACTICAL")
    assert listing.data.count(b"Mon 10 Mar 2031") == 1 and b"Wed 12 Mar 2031" in listing.data


def test_rooms_and_holidays_screens(login):
    admin = login("admin")
    assert admin.post("/admin/rooms", data={"name": "Annex", "capacity": "8"}).status_code == 302
    assert b"Annex" in admin.get("/admin/rooms?q=annex").data
    assert admin.post("/admin/holidays", data={"date": "2031-05-01", "name": "Labour Day"}).status_code == 302
    assert b"Labour Day" in admin.get("/admin/holidays?year=2031").data  # the list shows one year at a time


# ----------------------------------------------------------------------------------------------- iCalendar


@pytest.fixture
def in_2031():
    """Feeds cover the next 400 days: read them as if it were February 2031."""
    from core import clock

    with clock.frozen_at(dt.datetime(2031, 2, 1, tzinfo=dt.UTC)):
        yield


def _feed(client, headers, kind: str, subject_id: int) -> dict:
    response = client.post("/api/calendar-feeds", json={"kind": kind, "subject_id": subject_id}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _read(client, url: str) -> Calendar:
    response = client.get(url.replace("http://testserver", ""))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def test_facilitator_feed_parses_and_lists_their_sessions(client, api, demo, schedule, in_2031):
    with_times = _feed(client, api("teacher"), "facilitator", demo["users"]["teacher"])
    cal = _read(client, with_times["url"])
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert f"session-{schedule['ids']['public']}@testserver" in uids
    event = next(e for e in cal.walk("VEVENT") if str(e["uid"]) == f"session-{schedule['ids']['public']}@testserver")
    assert event.decoded("dtstart") == dt.datetime(2031, 3, 3, 8, tzinfo=dt.UTC)
    assert "Room 1" in str(event["location"])


def test_uids_stay_stable_across_edits(client, api, demo, schedule, in_2031):
    feed = _feed(client, api("admin"), "room", schedule["rooms"][0])
    sid = schedule["ids"]["public"]
    before = {str(e["uid"]): e for e in _read(client, feed["url"]).walk("VEVENT")}
    client.patch(f"/api/institution/class-sessions/{sid}", json={"start_time": "10:00", "end_time": "12:30"},
                 headers=api("admin"))
    after = {str(e["uid"]): e for e in _read(client, feed["url"]).walk("VEVENT")}
    assert before.keys() == after.keys() == {f"session-{sid}@testserver"}
    assert after[f"session-{sid}@testserver"].decoded("dtstart") == dt.datetime(2031, 3, 3, 9, tzinfo=dt.UTC)
    assert int(after[f"session-{sid}@testserver"]["sequence"]) >= int(before[f"session-{sid}@testserver"]["sequence"])


@pytest.mark.parametrize("rename", ["room", "cohort"])
def test_renaming_what_an_event_shows_bumps_its_sequence_and_last_modified(client, api, sql, demo, schedule, rename):
    from core.models import Cohort, Room

    feed = _feed(client, api("admin"), "room", schedule["rooms"][0])
    uid = f"session-{schedule['ids']['public']}@testserver"
    with clock.frozen_at(dt.datetime(2031, 2, 1, tzinfo=dt.UTC)):
        before = {str(e["uid"]): e for e in _read(client, feed["url"]).walk("VEVENT")}[uid]
        again = {str(e["uid"]): e for e in _read(client, feed["url"]).walk("VEVENT")}[uid]
    if rename == "room":
        sql.get(Room, schedule["rooms"][0]).name = "Room One (refitted)"
    else:
        sql.get(Cohort, demo["public_cohort_id"]).name = "Renamed cohort"
    sql.commit()
    with clock.frozen_at(dt.datetime(2031, 2, 2, tzinfo=dt.UTC)):
        after = {str(e["uid"]): e for e in _read(client, feed["url"]).walk("VEVENT")}[uid]
    assert int(again["sequence"]) == int(before["sequence"])  # nothing changed: nothing bumped
    assert int(after["sequence"]) == int(before["sequence"]) + 1
    assert after.decoded("last-modified") > before.decoded("last-modified")
    assert ("Room One (refitted)" in str(after["location"])) if rename == "room" else \
        ("Renamed cohort" in str(after["description"]))


def test_cancelled_sessions_stay_in_the_feed_as_cancelled(client, api, demo, schedule, in_2031):
    feed = _feed(client, api("admin"), "cohort", demo["corporate_cohort_id"])
    client.post(f"/api/institution/class-sessions/{schedule['ids']['corporate']}/cancel", headers=api("admin"))
    statuses = {str(e["uid"]): str(e["status"]) for e in _read(client, feed["url"]).walk("VEVENT")}
    assert statuses[f"session-{schedule['ids']['corporate']}@testserver"] == "CANCELLED"


def test_a_revoked_feed_is_gone(client, api, demo, schedule):
    teacher = api("teacher")
    feed = _feed(client, teacher, "cohort", demo["public_cohort_id"])
    assert client.delete(f"/api/calendar-feeds/{feed['id']}", headers=teacher).status_code == 204
    assert client.get(feed["url"].replace("http://testserver", "")).status_code == 404


def test_an_unknown_token_is_404(client, schedule):
    assert client.get("/calendar/feeds/cal_nope.ics").status_code == 404


def test_tokens_are_stored_hashed(app, client, api, demo, schedule):
    from sqlalchemy import select

    from core.models.sessions import CalendarFeedToken
    from web.extensions import db

    feed = _feed(client, api("teacher"), "facilitator", demo["users"]["teacher"])
    with app.app_context():
        stored = db.session.scalar(select(CalendarFeedToken.token_hash).where(CalendarFeedToken.id == feed["id"]))
    assert feed["token"] not in stored and len(stored) == 64


def test_teacher_may_not_subscribe_to_a_hidden_cohort_or_a_room(client, api, schedule):
    teacher = api("teacher")
    assert client.post("/api/calendar-feeds", json={"kind": "cohort", "subject_id": schedule["hidden_cohort"]},
                       headers=teacher).status_code == 404
    assert client.post("/api/calendar-feeds", json={"kind": "room", "subject_id": schedule["rooms"][0]},
                       headers=teacher).status_code == 403


def test_teacher_may_not_subscribe_to_another_facilitator(client, api, demo, schedule):
    assert client.post("/api/calendar-feeds", json={"kind": "facilitator", "subject_id": demo["users"]["teacher2"]},
                       headers=api("teacher")).status_code == 403
