"""Organizations, agreements and corporate cohorts through the API and the screens."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import clock
from core.models import ClassSession, Cohort, SessionStatus


def _org(client, headers, name="Globex"):
    r = client.post("/api/organizations", json={"name": name, "contact_phone": "0555 12 34 56"}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def _agreement(client, headers, org_id, status="ACTIVE", ref="GLX-1"):
    r = client.post(f"/api/organizations/{org_id}/agreements",
                    json={"reference": ref, "title": "Safety 2026", "status": status}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json


def test_organization_is_created_with_normalized_contact_phone(client, api):
    assert _org(client, api("admin"))["contact_phone"] == "+213555123456"


def test_organization_list_is_paged_and_searchable(client, api):
    h = api("admin")
    _org(client, h, "Globex")
    body = client.get("/api/organizations?q=glob", headers=h).json
    assert [o["name"] for o in body["items"]] == ["Globex"] and body["total"] == 1 and body["page"] == 1


def test_duplicate_organization_is_a_conflict(client, api):
    h = api("admin")
    _org(client, h)
    assert client.post("/api/organizations", json={"name": "Globex"}, headers=h).status_code == 409


def test_organization_without_name_is_a_clear_422(client, api):
    r = client.post("/api/organizations", json={}, headers=api("admin"))
    assert r.status_code == 422 and [d["field"] for d in r.json["error"]["details"]] == ["name"]


def test_agreements_filter_by_status(client, api, demo):
    h = api("admin")
    _agreement(client, h, demo["organization_id"], status="DRAFT", ref="DRAFT-1")
    refs = [a["reference"] for a in client.get("/api/corporate-agreements?status=ACTIVE", headers=h).json["items"]]
    assert refs == ["ACME-2026-001"]


def test_agreement_status_changes_follow_the_allowed_transitions(client, api, demo):
    h = api("admin")
    a = _agreement(client, h, demo["organization_id"], status="DRAFT", ref="D-2")
    assert client.post(f"/api/corporate-agreements/{a['id']}/status", json={"status": "ACTIVE"},
                       headers=h).json["status"] == "ACTIVE"
    assert client.post(f"/api/corporate-agreements/{a['id']}/status", json={"status": "DRAFT"},
                       headers=h).status_code == 422


def test_cohort_is_created_from_an_active_agreement(client, api, demo):
    r = client.post(f"/api/corporate-agreements/{demo['agreement_id']}/cohorts", headers=api("admin"), json={
        "name": "Acme — Safety", "contact_phone": "0661 23 45 67", "expected_trainee_count": "25",
        "proposal_reference": "P-9", "request_reference": "R-3", "start_date": "2026-12-01"})
    assert r.status_code == 201, r.json
    assert (r.json["cohort_type"], r.json["organization_id"], r.json["contact_phone"], r.json["expected_trainee_count"],
            r.json["start_date"]) == ("corporate", demo["organization_id"], "+213661234567", 25, "2026-12-01")


def test_cohort_name_and_dates_default_from_the_agreement(client, api, demo):
    r = client.post(f"/api/corporate-agreements/{demo['agreement_id']}/cohorts", headers=api("admin"), json={})
    assert r.status_code == 201 and r.json["name"] == "Acme Logistics — Forklift upskilling 2026"
    assert r.json["start_date"] is not None


def test_cohort_from_a_non_active_agreement_is_refused_with_422(client, api, demo):
    h = api("admin")
    a = _agreement(client, h, demo["organization_id"], status="DRAFT", ref="D-3")
    r = client.post(f"/api/corporate-agreements/{a['id']}/cohorts", json={"name": "x"}, headers=h)
    assert r.status_code == 422 and r.json["error"]["code"] == "agreement_not_active"


def test_bad_contact_phone_is_refused(client, api, demo):
    r = client.post(f"/api/corporate-agreements/{demo['agreement_id']}/cohorts", headers=api("admin"),
                    json={"contact_phone": "021 12 34 56"})
    assert r.status_code == 422 and [d["field"] for d in r.json["error"]["details"]] == ["contact_phone"]


def test_cohort_list_shows_trainee_and_session_counts(client, api, demo):
    items = client.get("/api/corporate-cohorts", headers=api("admin")).json["items"]
    (acme,) = [c for c in items if c["id"] == demo["corporate_cohort_id"]]
    assert acme["trainee_count"] == 10 and acme["session_count"] == 10


def test_cohort_is_edited(client, api, demo):
    r = client.patch(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}", headers=api("admin"),
                     json={"notes": "Night shift", "expected_trainee_count": 12})
    assert (r.json["notes"], r.json["expected_trainee_count"], r.json["name"]) == ("Night shift", 12,
                                                                                  "Acme — Forklift Q4")


@pytest.mark.clock_at("2026-11-17T10:30", zone="Africa/Algiers")
def test_cancel_cancels_future_sessions_and_keeps_past_ones(client, api, demo, db_session):
    r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/cancel", headers=api("admin"))
    assert r.status_code == 200 and r.json["status"] == "CANCELLED"
    sessions = db_session.scalars(select(ClassSession).where(ClassSession.cohort_id == demo["corporate_cohort_id"]))
    now = clock.now()
    by_time = {(s.starts_at > now, s.status) for s in sessions}
    assert by_time == {(True, SessionStatus.CANCELLED), (False, SessionStatus.SCHEDULED)}
    assert r.json["sessions_cancelled"] == 5  # the corporate demo cohort's 13:00 today and the next four weekdays


def test_support_views_but_cannot_create(client, api, demo):
    h = api("support")
    assert client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}", headers=h).status_code == 200
    assert client.post(f"/api/corporate-agreements/{demo['agreement_id']}/cohorts", json={},
                       headers=h).status_code == 403


def test_teacher_sees_only_assigned_corporate_cohorts(client, api, demo):
    ids = [c["id"] for c in client.get("/api/corporate-cohorts", headers=api("teacher2")).json["items"]]
    assert ids == []
    assert client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}",
                      headers=api("teacher2")).status_code == 404
    assert client.get(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}",
                      headers=api("teacher")).status_code == 200


def test_a_public_cohort_is_not_a_corporate_one(client, api, demo):
    assert client.get(f"/api/corporate-cohorts/{demo['public_cohort_id']}", headers=api("admin")).status_code == 404


# ---------------------------------------------------------------- screens


def test_screens_render_for_admin(login, demo):
    c = login("admin")
    for url in ("/admin/organizations", f"/admin/organizations/{demo['organization_id']}",
                "/admin/corporate-cohorts", f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}",
                f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}/edit",
                f"/admin/corporate-agreements/{demo['agreement_id']}/cohorts/create"):
        r = c.get(url)
        assert r.status_code == 200, url
    assert b"Farid Touati" in c.get(f"/admin/corporate-cohorts/{demo['corporate_cohort_id']}?q=farid").data


def test_create_cohort_screen_redirects_to_the_new_cohort(login, demo, db_session):
    r = login("admin").post(f"/admin/corporate-agreements/{demo['agreement_id']}/cohorts/create",
                            data={"name": "Acme — Night", "start_date": "2026-12-01", "end_date": "2027-01-31"})
    cohort = db_session.scalar(select(Cohort).where(Cohort.name == "Acme — Night"))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/corporate-cohorts/{cohort.id}")
    assert cohort.end_date == dt.date(2027, 1, 31)


def test_create_cohort_screen_flashes_a_clear_error(login, demo):
    c = login("admin")
    r = c.post(f"/admin/corporate-agreements/{demo['agreement_id']}/cohorts/create",
               data={"start_date": "2026-12-01", "end_date": "2026-11-01"},
               headers={"Referer": f"/admin/corporate-agreements/{demo['agreement_id']}/cohorts/create"})
    assert r.status_code == 302
    assert "The end date is before the start date." in c.get(r.headers["Location"]).get_data(as_text=True)


def test_organization_screen_creates_an_organization(login):
    c = login("admin")
    r = c.post("/admin/organizations", data={"name": "Initech"})
    assert r.status_code == 302 and "Initech" in c.get(r.headers["Location"]).get_data(as_text=True)
