"""Regulator access: asked for by name, decided by the institution's admins, judged on every request (no
job), scoped to the cohorts asked for, and every read audited under its grant."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from core import clock
from core.access.permissions import REGULATOR_GATED
from core.models import AccessRequest, AccessRequestRead, ClassSession, Role
from tests.attendance_factories import demo_session
from tests.portal_factories import add_user, second_institution

REASON = "Quarterly QCTO audit of the attendance registers"


@pytest.fixture
def fresh(sql, demo):
    """The demo without its standing grant: the regulator starts with no access."""
    sql.execute(delete(AccessRequest))
    sql.commit()
    return demo


def _ask(client, headers, institution_id, scope="cohorts", cohort_ids=(), reason=REASON, **extra):
    return client.post("/api/access-requests", headers=headers, json={
        "institution_id": institution_id, "scope": scope, "cohort_ids": list(cohort_ids), "reason": reason, **extra})


def _approved(client, api, demo, scope="cohorts", cohort_ids=None, days=7) -> int:
    cohort_ids = [demo["public_cohort_id"]] if cohort_ids is None and scope == "cohorts" else (cohort_ids or [])
    made = _ask(client, api("regulator"), demo["institution_id"], scope, cohort_ids)
    assert made.status_code == 201, made.get_json()
    request_id = made.get_json()["id"]
    until = (clock.now() + dt.timedelta(days=days)).isoformat()
    approved = client.post(f"/api/access-requests/{request_id}/approve", headers=api("admin"),
                           json={"expires_at": until})
    assert approved.status_code == 200, approved.get_json()
    return request_id


def test_admins_see_who_asks_and_for_what_by_name(client, api, login, fresh):
    made = _ask(client, api("regulator"), fresh["institution_id"], cohort_ids=[fresh["public_cohort_id"]],
                agency_name="QCTO Gauteng")
    assert made.status_code == 201 and made.get_json()["status"] == "PENDING"
    item = client.get("/api/access-requests", headers=api("admin")).get_json()["items"][0]
    assert item["regulator"] == {"id": fresh["users"]["regulator"], "name": "Rania Regulator",
                                 "email": "regulator@demo.example", "agency": "QCTO Gauteng"}
    assert item["cohorts"] == [{"id": fresh["public_cohort_id"], "name": "Welding — Intake 1"}]
    assert item["scope"] == "cohorts" and item["reason"] == REASON and item["institution"]["name"]
    screen = login("admin").get("/admin/access-requests").get_data(as_text=True)
    for shown in ("Rania Regulator", "regulator@demo.example", "QCTO Gauteng", "Welding — Intake 1", REASON):
        assert shown in screen
    assert f"#{fresh['users']['regulator']}" not in screen


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"institution_id": 999, "scope": "institution"}, "unknown_institution", "institution_id"),
    ({"scope": "cohorts", "cohort_ids": []}, "cohorts_required", None),
    ({"scope": "institution", "cohort_ids": [1]}, "cohorts_not_allowed", None),
    ({"scope": "everything"}, "validation_error", "scope"),
    ({"scope": "institution", "reason": "audit"}, "validation_error", "reason"),
    ({"scope": "cohorts", "cohort_ids": [2**31]}, "validation_error", "cohort_ids[0]"),
])
def test_bad_requests_are_refused_with_a_clear_error(client, api, fresh, body, code, field):
    response = client.post("/api/access-requests", headers=api("regulator"),
                           json={"institution_id": fresh["institution_id"], "reason": REASON, **body})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    if field:
        assert field in {d["field"] for d in error["details"]}


def test_a_cohort_of_another_institution_cannot_be_named(client, api, sql, fresh):
    other = second_institution(sql)
    response = _ask(client, api("regulator"), fresh["institution_id"], cohort_ids=[other["cohort_id"]])
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "unknown_cohort"


def test_a_cohorts_request_opens_those_cohorts_and_no_other(client, api, login, sql, fresh):
    _approved(client, api, fresh)
    headers = api("regulator")
    public = demo_session(sql, fresh["public_cohort_id"])
    corporate = demo_session(sql, fresh["corporate_cohort_id"])
    assert client.get(f"/api/institution/class-sessions/{public}", headers=headers).status_code == 200
    assert client.get(f"/api/institution/class-sessions/{corporate}", headers=headers).status_code == 404
    browser = login("regulator")
    assert browser.get(f"/regulator/cohorts/{fresh['public_cohort_id']}").status_code == 200
    assert browser.get(f"/regulator/cohorts/{fresh['corporate_cohort_id']}").status_code == 404
    assert browser.get(f"/institution/attendance/sessions/{corporate}").status_code == 404
    dashboard = browser.get("/admin").get_data(as_text=True)
    assert "Welding — Intake 1" in dashboard and "Acme — Forklift Q4" not in dashboard


def test_an_institution_request_opens_every_cohort_of_it_only(client, api, sql, fresh):
    other = second_institution(sql)
    _approved(client, api, fresh, scope="institution")
    headers = api("regulator")
    corporate = demo_session(sql, fresh["corporate_cohort_id"])
    assert client.get(f"/api/institution/class-sessions/{corporate}", headers=headers).status_code == 200
    from tests.attendance_factories import make_session

    elsewhere = make_session(sql, other["cohort_id"], clock.today_in("Africa/Algiers"), dt.time(8), dt.time(9))
    assert client.get(f"/api/institution/class-sessions/{elsewhere}", headers=headers).status_code == 404


def _gated_get_urls(app, sql, demo) -> list[str]:
    from flask import url_for

    session_id = demo_session(sql, demo["public_cohort_id"])
    values = {"cohort_id": demo["public_cohort_id"], "session_id": session_id, "document_id": 1, "trainee_id": 1,
              "evidence_id": 1, "run_id": 1, "import_id": 1, "organization_id": demo["organization_id"],
              "agreement_id": demo["agreement_id"]}
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            access = getattr(app.view_functions[rule.endpoint], "access_rule", None)
            if access and access.permission in REGULATOR_GATED and "GET" in rule.methods:
                # Routes added by other capabilities take a sample id (1) or reference: refusal is what is checked.
                urls.append(url_for(rule.endpoint, **{a: values.get(a, "R1" if a == "reference" else 1)
                                                      for a in rule.arguments}))
    return urls


@pytest.mark.parametrize("ending", ["expiry", "revocation"])
def test_an_ended_grant_is_refused_on_every_in_scope_route(app, client, api, sql, fresh, ending):
    request_id = _approved(client, api, fresh, days=7)
    headers = api("regulator")
    urls = _gated_get_urls(app, sql, fresh)
    assert len(urls) >= 10
    in_force = {u: client.get(u, headers=headers).status_code for u in urls}
    assert [u for u, status in in_force.items() if status in (401, 403)] == []
    if ending == "revocation":
        revoked = client.post(f"/api/access-requests/{request_id}/revoke", headers=api("admin"),
                              json={"reason": "Audit finished early"})
        assert revoked.status_code == 200 and revoked.get_json()["status"] == "REVOKED"
        ended = {u: client.get(u, headers=headers).status_code for u in urls}
    else:
        with clock.frozen_at(clock.now() + dt.timedelta(days=8)):
            ended = {u: client.get(u, headers=headers).status_code for u in urls}
            listed = client.get(f"/api/access-requests/{request_id}", headers=headers).get_json()
            assert listed["status"] == "EXPIRED" and listed["in_force"] is False
    assert {u: s for u, s in ended.items() if s != 403} == {}


def test_every_regulator_read_is_audited_with_its_grant(client, api, login, sql, fresh):
    request_id = _approved(client, api, fresh)
    session_id = demo_session(sql, fresh["public_cohort_id"])
    browser = login("regulator")
    assert browser.get(f"/institution/attendance/sessions/{session_id}").status_code == 200
    assert browser.get(f"/institution/attendance/sessions/{session_id}/export.csv").status_code == 200
    assert client.get(f"/api/institution/class-sessions/{session_id}", headers=api("regulator")).status_code == 200
    assert browser.get("/regulator").status_code == 200  # asking is not reading: not audited
    rows = sql.scalars(select(AccessRequestRead).order_by(AccessRequestRead.id)).all()
    assert [r.access_request_id for r in rows] == [request_id] * 3
    assert {r.endpoint for r in rows} == {"attendance.register", "attendance.export_csv", "attendance.api_session"}
    assert {(r.resource_type, r.resource_id, r.cohort_id) for r in rows} == {
        ("class_session", session_id, fresh["public_cohort_id"])}
    reads = client.get(f"/api/access-requests/{request_id}/reads", headers=api("admin")).get_json()
    assert reads["total"] == 3 and reads["items"][0]["regulator_name"] == "Rania Regulator"
    assert reads["items"][0]["cohort_name"] == "Welding — Intake 1"
    assert f"/institution/attendance/sessions/{session_id}/export.csv" in {i["path"] for i in reads["items"]}
    screen = login("admin").get(f"/admin/access-requests/{request_id}/reads").get_data(as_text=True)
    assert "attendance.export_csv" in screen and "Welding — Intake 1" in screen


def test_a_refused_read_is_not_recorded(client, api, sql, fresh):
    session_id = demo_session(sql, fresh["public_cohort_id"])
    assert client.get(f"/api/institution/class-sessions/{session_id}", headers=api("regulator")).status_code == 403
    assert sql.scalar(select(AccessRequestRead.id)) is None


def test_deny_and_revoke_need_a_reason_and_the_right_state(client, api, fresh):
    made = _ask(client, api("regulator"), fresh["institution_id"], "institution").get_json()
    admin = api("admin")
    url = f"/api/access-requests/{made['id']}"
    assert client.post(f"{url}/deny", headers=admin, json={}).status_code == 422
    assert client.post(f"{url}/revoke", headers=admin, json={"reason": "not yet"}).get_json()["error"]["code"] \
        == "not_in_force"
    past = client.post(f"{url}/approve", headers=admin, json={"expires_at": "2001-01-01T00:00:00+00:00"})
    assert past.status_code == 422 and past.get_json()["error"]["code"] == "expiry_in_past"
    naive = client.post(f"{url}/approve", headers=admin, json={"expires_at": "2099-01-01T00:00:00"})
    assert naive.status_code == 422
    denied = client.post(f"{url}/deny", headers=admin, json={"reason": "No audit is scheduled"})
    assert denied.status_code == 200 and denied.get_json()["decision_reason"] == "No audit is scheduled"
    again = client.post(f"{url}/approve", headers=admin,
                        json={"expires_at": (clock.now() + dt.timedelta(days=1)).isoformat()})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"


def test_another_institutions_admin_and_another_regulator_see_nothing(client, api, sql, fresh):
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User

    request_id = _approved(client, api, fresh)
    other = second_institution(sql)
    rival = add_user(sql, "rival@demo.example", Role.REGULATOR, "Rex Rival")
    for user_id in (other["admin_id"], rival.id):
        headers = {"Authorization": f"Bearer {create_api_token(sql, sql.get(User, user_id), CreateApiToken(name='t'))}"}
        assert client.get("/api/access-requests", headers=headers).get_json()["total"] == 0
        assert client.get(f"/api/access-requests/{request_id}", headers=headers).status_code == 404
    token = create_api_token(sql, sql.get(User, other["admin_id"]), CreateApiToken(name="t"))
    other_admin = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/access-requests/{request_id}/revoke", headers=other_admin,
                       json={"reason": "not mine"}).status_code == 404
    assert client.get(f"/api/access-requests/{request_id}/reads", headers=other_admin).status_code == 404


def test_the_regulator_finds_cohorts_by_name_and_asks_on_the_screen(login, sql, fresh):
    browser = login("regulator")
    found = browser.get(f"/regulator?institution_id={fresh['institution_id']}&q=weld").get_data(as_text=True)
    assert "Welding — Intake 1" in found and "Acme — Forklift Q4" not in found
    sent = browser.post("/regulator", data={"institution_id": fresh["institution_id"], "scope": "cohorts",
                                            "cohort_ids": [fresh["public_cohort_id"]], "reason": REASON,
                                            "agency_name": "QCTO"}, follow_redirects=True)
    assert b"Request sent" in sent.data
    req = sql.scalar(select(AccessRequest))
    assert [c.name for c in req.cohorts] == ["Welding — Intake 1"] and req.scope.value == "cohorts"
    short = browser.post("/regulator", data={"institution_id": fresh["institution_id"], "scope": "institution",
                                             "reason": "x"}, follow_redirects=True)
    assert b"at least 10 characters" in short.data


def test_the_admin_approves_on_the_screen_until_the_end_of_the_chosen_day(client, api, login, sql, fresh):
    made = _ask(client, api("regulator"), fresh["institution_id"], "institution").get_json()
    day = clock.today_in("Africa/Algiers") + dt.timedelta(days=10)
    done = login("admin").post(f"/admin/access-requests/{made['id']}/approve", data={"expires_on": day.isoformat()},
                               follow_redirects=True)
    assert b"Access approved" in done.data
    sql.expire_all()
    req = sql.get(AccessRequest, made["id"])
    assert req.status.value == "APPROVED"
    from zoneinfo import ZoneInfo

    assert req.expires_at.astimezone(ZoneInfo("Africa/Algiers")).replace(tzinfo=None) == \
        dt.datetime.combine(day, dt.time(23, 59))


def test_cohort_choices_give_names_and_nothing_personal(client, api, fresh):
    body = client.get(f"/api/access-requests/cohort-choices?institution_id={fresh['institution_id']}&q=intake",
                      headers=api("regulator")).get_json()
    assert [c["name"] for c in body["items"]] == ["Welding — Intake 1"]
    assert set(body["items"][0]) == {"id", "name", "course", "start_date", "end_date"}


def test_teacher_cannot_approve_requests(login, fresh):
    assert login("teacher").post("/admin/access-requests/1/approve", data={"expires_on": "2030-01-01"}).status_code \
        == 403


def test_sessions_of_a_cohort_in_scope_link_to_their_registers(client, api, login, sql, fresh):
    _approved(client, api, fresh)
    page = login("regulator").get(f"/regulator/cohorts/{fresh['public_cohort_id']}").get_data(as_text=True)
    first = sql.scalar(select(ClassSession.id).where(ClassSession.cohort_id == fresh["public_cohort_id"]))
    assert f"/institution/attendance/sessions/{first}" in page
