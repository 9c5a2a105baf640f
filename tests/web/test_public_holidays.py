"""Public holidays of the institution's country are there from the start (issue 27 point 18): listed by
GET /api/holidays?year= with the institution's own, shown on the calendar, skipped by the planner unless the
plan says otherwise."""

from __future__ import annotations

import pytest

from core.models import Institution


@pytest.fixture
def johannesburg_admin(app, demo):
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User
    from web.extensions import db

    with app.app_context():
        inst = Institution(name="Jozi Skills", slug="jozi", time_zone="Africa/Johannesburg")
        db.session.add(inst)
        db.session.flush()
        admin = User(institution_id=inst.id, email="admin@jozi.example", full_name="Jo Admin", role="admin")
        db.session.add(admin)
        db.session.commit()
        token = create_api_token(db.session, admin, CreateApiToken(name="t"))
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


def _holidays(client, headers, query="year=2026"):
    r = client.get(f"/api/holidays?{query}", headers=headers)
    assert r.status_code == 200, r.json
    return r.json


def test_a_south_african_institution_has_south_africas_public_holidays(client, johannesburg_admin):
    items = _holidays(client, johannesburg_admin)["items"]
    assert {"date": "2026-06-16", "name": "Youth Day", "source": "public", "id": None} in items
    assert "2026-07-05" not in {h["date"] for h in items}  # Algeria's Independence Day is not South Africa's


def test_an_algerian_institution_has_algerias_public_holidays(client, api):
    items = _holidays(client, api("admin"))["items"]
    assert {"date": "2026-07-05", "name": "Independence Day", "source": "public", "id": None} in items
    assert "2026-06-16" not in {h["date"] for h in items if h["name"] == "Youth Day"}


def test_names_follow_the_request_language_where_the_library_has_them(client, api):
    items = _holidays(client, {**api("admin"), "Accept-Language": "fr"})["items"]
    assert any(h["date"] == "2026-07-05" and "Indépendance" in h["name"] for h in items)


def test_the_institutions_own_days_are_listed_with_the_public_ones(client, api):
    h = api("admin")
    made = client.post("/api/holidays", json={"date": "2026-07-06", "name": "Provider day"}, headers=h).json
    items = _holidays(client, h)["items"]
    dates = [i["date"] for i in items]
    assert dates == sorted(dates)
    assert {"date": "2026-07-06", "name": "Provider day", "source": "institution", "id": made["id"]} in items
    only_public = _holidays(client, h, "year=2026&source=public")["items"]
    assert only_public and {i["source"] for i in only_public} == {"public"}


def test_holidays_page_like_every_list(client, api):
    body = _holidays(client, api("admin"), "year=2026&per_page=5&page=2")
    assert (body["page"], body["per_page"], len(body["items"])) == (2, 5, 5) and body["total"] > 10


def test_the_planner_skips_public_holidays_unless_told_otherwise(client, api, demo):
    h = api("admin")
    plan = {"start_date": "2031-06-30", "end_date": "2031-07-11", "weekdays": ["fri", "sat"],
            "slots": [{"start": "09:00", "end": "12:00", "session_type": "THEORY"}], "dry_run": True}
    url = f"/api/institution/cohorts/{demo['public_cohort_id']}/schedule"
    skipping = {s["date"] for s in client.post(url, json=plan, headers=h).json["sessions"]}
    keeping = {s["date"] for s in client.post(url, json={**plan, "use_public_holidays": False},
                                              headers=h).json["sessions"]}
    assert "2031-07-05" not in skipping and "2031-07-05" in keeping  # Independence Day, a Saturday in 2031


def test_the_calendar_shows_the_holidays_of_its_window(client, api):
    r = client.get("/api/institution/attendance/calendar?start=2026-07-01&end=2026-07-31", headers=api("teacher"))
    assert r.status_code == 200
    assert {"date": "2026-07-05", "name": "Independence Day", "source": "public"} in r.json["holidays"]


def test_the_holidays_screen_lists_public_holidays_for_the_year(login):
    page = login("admin").get("/admin/holidays?year=2026").get_data(as_text=True)
    assert "Independence Day" in page and "public holiday" in page
