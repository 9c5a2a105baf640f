"""The organization portal: each member sees their own organization's corporate programmes, counts and
rates without any trainee's name, phone or email; names of their own employees only once granted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, event, func, select, update

from core.demo import CORPORATE_NAMES, PUBLIC_NAMES
from core.models import ClassSession, OrganizationGrant, OrgMembership, SessionStatus
from tests.portal_factories import mark, past_sessions, second_organization, trainees


@pytest.fixture
def acme(sql, demo):
    """The demo's corporate cohort with marks on its past sessions: 6 present, 2 late, 1 absent, 1 excused each."""
    cohort_id = demo["corporate_cohort_id"]
    people = trainees(sql, cohort_id)
    statuses = {t.id: s for t, s in zip(people, ["PRESENT"] * 6 + ["LATE"] * 2 + ["ABSENT", "EXCUSED"], strict=True)}
    sessions = past_sessions(sql, cohort_id)
    mark(sql, sessions, statuses)
    return {"cohort_id": cohort_id, "sessions": sessions, "people": people}


def _no_grant(sql, demo):
    sql.execute(delete(OrganizationGrant).where(OrganizationGrant.organization_id == demo["organization_id"]))
    sql.commit()


def _personal_data(sql, cohort_ids):
    values = []
    for cohort_id in cohort_ids:
        for t in trainees(sql, cohort_id):
            values += [t.full_name, t.phone_e164, t.email]
    return [v for v in values if v]


def test_the_list_shows_the_organizations_corporate_programmes_with_counts(client, api, acme, sql, demo):
    second_organization(sql, demo["institution_id"])
    body = client.get("/api/org/programs", headers=api("org")).get_json()
    assert [p["cohort_id"] for p in body["items"]] == [demo["corporate_cohort_id"]]
    assert body["organization"]["name"] == "Acme Logistics" and body["total"] == 1
    p = body["items"][0]
    held = len(acme["sessions"])
    planned = sql.scalar(select(func.count()).select_from(ClassSession)
                         .where(ClassSession.cohort_id == acme["cohort_id"]))
    assert (p["trainees"], p["sessions_held"], p["sessions_planned"]) == (10, held, planned)
    assert p["attendance"] == {"PRESENT": 6 * held, "LATE": 2 * held, "ABSENT": held, "EXCUSED": held}
    assert p["attendance_rate"] == round(8 / 9, 4)
    assert p["course"] == "Forklift Operation" and p["start_date"] and p["status"] == "ACTIVE"


def test_the_detail_gives_each_session_its_delivery_and_counts(client, api, acme, sql):
    cancelled = acme["sessions"][0]
    sql.execute(update(ClassSession).where(ClassSession.id == cancelled).values(status=SessionStatus.CANCELLED))
    sql.commit()
    body = client.get(f"/api/org/programs/{acme['cohort_id']}", headers=api("org")).get_json()
    by_id = {s["session_id"]: s for s in body["sessions"]}
    assert by_id[cancelled]["delivery"] == "cancelled"
    delivered = [s for s in body["sessions"] if s["delivery"] == "delivered"]
    assert {s["session_id"] for s in delivered} == set(acme["sessions"][1:])
    assert all(s["attendance"] == {"PRESENT": 6, "LATE": 2, "ABSENT": 1, "EXCUSED": 1} for s in delivered)
    assert {s["delivery"] for s in body["sessions"]} == {"delivered", "cancelled", "planned"}
    assert body["programme"]["sessions_cancelled"] == 1
    assert body["hours_delivered"] == 3.0 * len(delivered)
    first = body["sessions"][0]
    assert re.fullmatch(r"\d\d:\d\d", first["start_time"]) and first["session_type"] in {"THEORY", "PRACTICAL"}


def test_without_the_grant_no_name_phone_or_email_appears_anywhere(client, api, login, acme, sql, demo):
    _no_grant(sql, demo)
    personal = _personal_data(sql, [acme["cohort_id"]])
    assert len(personal) == 30
    browser, headers = login("org"), api("org")
    pages = [browser.get("/org/programs"), browser.get(f"/org/programs/{acme['cohort_id']}"),
             client.get("/api/org/programs", headers=headers),
             client.get(f"/api/org/programs/{acme['cohort_id']}", headers=headers)]
    assert all(p.status_code == 200 for p in pages)
    for response in pages:
        text = response.get_data(as_text=True)
        assert [v for v in personal if v in text] == []
    assert pages[3].get_json()["trainees"] is None and pages[3].get_json()["reports_allowed"] is False
    refused = client.post(f"/api/org/programs/{acme['cohort_id']}/reports", headers=headers, json={"kind": "progress"})
    assert refused.status_code == 403


def test_with_the_grant_only_their_own_employees_appear(client, api, login, acme, sql, demo):
    globex = second_organization(sql, demo["institution_id"])
    outsiders = _personal_data(sql, [globex["cohort_id"]])
    detail = client.get(f"/api/org/programs/{acme['cohort_id']}", headers=api("org")).get_json()
    assert sorted(t["name"] for t in detail["trainees"]) == sorted(CORPORATE_NAMES)
    asma = next(t for t in detail["trainees"] if t["name"] == "Asma Khelifi")
    assert asma["attendance_rate"] == 1.0 and asma["sessions_missed"] == 0
    page = login("org").get(f"/org/programs/{acme['cohort_id']}").get_data(as_text=True)
    assert all(name in page for name in CORPORATE_NAMES)
    for text in (page, str(detail)):
        assert [v for v in outsiders if v in text] == []
        assert [n for n in PUBLIC_NAMES if n in text] == []
        # Phones and emails never appear, even with the grant.
        assert [t.email for t in acme["people"] if t.email in text] == []
        assert [t.phone_e164 for t in acme["people"] if t.phone_e164 in text] == []


def test_another_organizations_or_a_public_cohort_is_404_on_screens_and_api(client, api, login, sql, demo):
    globex = second_organization(sql, demo["institution_id"])
    browser, headers = login("org"), api("org")
    for cohort_id in (globex["cohort_id"], demo["public_cohort_id"], 2**31 - 1):
        for response in (browser.get(f"/org/programs/{cohort_id}"),
                         client.get(f"/api/org/programs/{cohort_id}", headers=headers),
                         client.post(f"/api/org/programs/{cohort_id}/reports", headers=headers,
                                     json={"kind": "progress", "format": "pdf"})):
            assert response.status_code == 404
            assert "Globex" not in response.get_data(as_text=True)
    foreign = client.get(f"/api/org/programs?organization_id={globex['organization_id']}", headers=headers)
    assert foreign.status_code == 404


def test_a_member_of_two_organizations_picks_one_and_it_is_remembered(login, sql, demo):
    globex = second_organization(sql, demo["institution_id"])
    sql.add(OrgMembership(organization_id=globex["organization_id"], user_id=demo["users"]["org"]))
    sql.commit()
    browser = login("org")
    first = browser.get("/org/programs").get_data(as_text=True)
    assert "Acme — Forklift Q4" in first and "Globex Safety" not in first
    picked = browser.get(f"/org/programs?organization_id={globex['organization_id']}").get_data(as_text=True)
    assert "Globex Safety" in picked and "Acme — Forklift Q4" not in picked
    again = browser.get("/api/org/programs").get_json()
    assert again["organization"]["id"] == globex["organization_id"]
    assert {o["name"] for o in again["organizations"]} == {"Acme Logistics", "Globex Corp"}


def _statements(app, fn):
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_list_takes_the_same_number_of_queries_for_1_or_20_programmes(app, client, api, sql, demo):
    from tests.portal_factories import corporate_cohort

    headers = api("org")
    client.get("/api/org/programs", headers=headers)  # the token's first use is recorded once
    one = _statements(app, lambda: client.get("/api/org/programs", headers=headers))
    for i in range(19):
        corporate_cohort(sql, demo["institution_id"], demo["organization_id"], f"Acme Batch {i}", [f"P{i}"], 2)
    listed = client.get("/api/org/programs?per_page=100", headers=headers).get_json()
    assert listed["total"] == 20
    twenty = _statements(app, lambda: client.get("/api/org/programs?per_page=100", headers=headers))
    assert twenty == one


def test_the_chart_is_drawn_on_the_server_as_svg_without_script(login, acme):
    page = login("org").get(f"/org/programs/{acme['cohort_id']}").get_data(as_text=True)
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count("<circle") == len(acme["sessions"]) and "<polyline" in svg
    assert 'role="img"' in svg and "<title" in svg
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_an_admin_grants_and_takes_back_reports_per_organization(client, api, login, sql, demo):
    _no_grant(sql, demo)
    headers, org_id = api("admin"), demo["organization_id"]
    granted = client.post(f"/api/organizations/{org_id}/grants", headers=headers,
                          json={"permission": "corporate_reports.view"})
    assert granted.status_code == 201 and granted.get_json()["permission"] == "corporate_reports.view"
    assert client.get(f"/api/org/programs/{demo['corporate_cohort_id']}", headers=api("org")).get_json()["trainees"]
    listed = client.get(f"/api/organizations/{org_id}/grants", headers=headers).get_json()
    assert [g["permission"] for g in listed["items"]] == ["corporate_reports.view"]
    taken = client.delete(f"/api/organizations/{org_id}/grants/corporate_reports.view", headers=headers)
    assert taken.status_code == 204
    assert client.get(f"/api/org/programs/{demo['corporate_cohort_id']}",
                      headers=api("org")).get_json()["trainees"] is None
    screen = login("admin").post(f"/admin/organizations/{org_id}/portal", data={"granted": "1"}, follow_redirects=True)
    assert b"granted" in screen.data and sql.scalar(select(OrganizationGrant.id)) is not None


def test_another_institutions_admin_cannot_grant(client, api, sql, demo):
    from tests.portal_factories import second_institution

    other = second_institution(sql)
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User

    token = create_api_token(sql, sql.get(User, other["admin_id"]), CreateApiToken(name="t"))
    response = client.post(f"/api/organizations/{demo['organization_id']}/grants",
                           headers={"Authorization": f"Bearer {token}"}, json={"permission": "corporate_reports.view"})
    assert response.status_code == 404


def test_a_session_that_ended_without_marks_is_not_marked_not_delivered(sql, demo, client, api, login):
    """Issue 27, point 13: only a register holding marks says the session was delivered."""
    from tests.attendance_factories import members, started_open_session

    cohort = demo["corporate_cohort_id"]
    marked = started_open_session(sql, cohort)  # 07:00–08:00 today: ended by 10:30
    trainees = members(sql, cohort)
    r = client.post("/api/institution/attendance/mark", headers=api("admin"), json={
        "session_id": marked, "records": [{"trainee_id": trainees[0], "status": "PRESENT"}]})
    assert r.status_code == 200, r.get_json()
    detail = client.get(f"/api/org/programs/{cohort}", headers=api("org")).get_json()
    by_id = {s["session_id"]: s for s in detail["sessions"]}
    assert by_id[marked]["delivery"] == "delivered"
    ended_unmarked = [s for s in detail["sessions"] if s["session_id"] != marked and s["delivery"] != "planned"]
    assert ended_unmarked and {s["delivery"] for s in ended_unmarked} == {"not_marked"}  # the demo marks nothing
    page = login("org").get(f"/org/programs/{cohort}").get_data(as_text=True)
    assert 'data-delivery="not_marked">not marked</span>' in page
    assert page.count('data-delivery="delivered"') == 1


def test_a_report_asked_for_on_the_screen_is_in_the_members_language(sql, demo, client, api, login):
    """Issue 27, point 5: their profile's language (else the page's); the API follows Accept-Language first."""
    from sqlalchemy import select, update

    from core.models import RegisterDocument, User

    cohort = demo["corporate_cohort_id"]
    sql.execute(update(User).where(User.id == demo["users"]["org"]).values(language="fr"))
    sql.commit()
    member = login("org")
    assert 'value="fr" lang="fr" selected' in member.get(f"/org/programs/{cohort}").get_data(as_text=True)
    assert member.post(f"/org/programs/{cohort}/reports", data={"kind": "delivery", "format": "pdf"}).status_code == 302
    latest = select(RegisterDocument.language).order_by(RegisterDocument.id.desc()).limit(1)
    assert sql.scalar(latest) == "fr"
    r = client.post(f"/api/org/programs/{cohort}/reports", json={"kind": "progress", "format": "xlsx"},
                    headers={**api("org"), "Accept-Language": "ar"})
    assert r.status_code == 202 and r.get_json()["language"] == "ar"
    r = client.post(f"/api/org/programs/{cohort}/reports", json={"kind": "progress", "format": "pdf"},
                    headers=api("org"))
    assert r.get_json()["language"] == "fr"
