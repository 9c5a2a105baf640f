"""The provider's sign-off (issue 22): an admin signs a cohort register document or a submission the same way as a
facilitator signs a session (a fresh password confirmation; who, when, where, the data version), void once the
register's data changes; nobody else may, and other tenants find nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import ClassSession, User
from core.registers import service
from core.registers.commands import RequestRegister
from tests.registers_factories import enrolments_by_name, mark, past_session

PASSWORD = "demo-password"


@pytest.fixture
def cohort_register(app, sql, demo):
    """Yesterday's session marked and locked, and the cohort register of yesterday built."""
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    admin = sql.get(User, demo["users"]["admin"])
    from core.attendance.commands import LockSession
    from core.attendance.service import lock_session

    for other in sql.scalars(select(ClassSession.id).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                           ClassSession.session_date == day)):
        lock_session(sql, admin, other, LockSession(reason="done"))  # the demo's own session that day too
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="cohort", cohort_id=demo["public_cohort_id"],
                                                                  period_start=day, period_end=day))
    doc = service.build_document(sql, app.extensions["storage"], doc.id,
                                 service.BuildSettings(base_url="http://testserver", processes=1))
    assert doc.status.value == "READY", doc.error_message
    return doc.id, session_id, ids


@pytest.fixture
def submission(client, api, cohort_register):
    created = client.post("/api/submissions", headers=api("admin"), json={"register_document_id": cohort_register[0]})
    assert created.status_code == 201, created.data
    return created.get_json()["id"]


def test_an_admin_signs_a_cohort_register_with_a_fresh_password(client, api, cohort_register):
    url = f"/api/registers/{cohort_register[0]}/sign-off"
    stale = client.post(url, headers=api("admin"), json={"full_name": "Dalia Admin"})
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "password_confirmation_required"
    signed = client.post(url, headers=api("admin"), json={"full_name": "Dalia Admin", "password": PASSWORD})
    assert signed.status_code == 201, signed.data
    body = signed.get_json()
    assert body["role"] == "provider" and body["subject_type"] == "register_document" and body["void"] is False
    listed = client.get(f"/api/registers/{cohort_register[0]}/sign-offs", headers=api("teacher")).get_json()
    assert [s["id"] for s in listed["items"]] == [body["id"]]


def test_a_change_to_the_register_voids_the_providers_sign_off(client, api, sql, cohort_register):
    document_id, session_id, ids = cohort_register
    admin = api("admin")
    client.post(f"/api/registers/{document_id}/sign-off", headers=admin,
                json={"full_name": "Dalia Admin", "password": PASSWORD})
    assert client.post(f"/api/institution/class-sessions/{session_id}/unlock", headers=admin,
                       json={"reason": "fix"}).status_code == 200
    changed = client.post("/api/institution/attendance/mark", headers=admin, json={
        "session_id": session_id, "records": [{"id": ids["Lina Haddad"], "status": "ABSENT"}]})
    assert changed.status_code == 200, changed.data
    listed = client.get(f"/api/registers/{document_id}/sign-offs", headers=admin).get_json()
    assert listed["items"][0]["void"] is True


def test_an_admin_signs_a_submission_and_the_screen_shows_it(client, api, login, submission):
    signed = client.post(f"/api/submissions/{submission}/sign-off", headers=api("admin"),
                         json={"full_name": "Dalia Admin", "password": PASSWORD})
    assert signed.status_code == 201 and signed.get_json()["subject_type"] == "submission"
    listed = client.get(f"/api/submissions/{submission}/sign-offs", headers=api("admin")).get_json()
    assert listed["items"][0]["void"] is False
    page = login("admin").get("/institution/submissions").get_data(as_text=True)
    assert "Signed by Dalia Admin" in page


def test_the_submissions_screen_signs_after_the_password_and_not_without(login, submission):
    admin = login("admin")
    assert "Sign for the provider" in admin.get("/institution/submissions").get_data(as_text=True)
    refused = admin.post(f"/institution/submissions/{submission}/sign-off", data={"full_name": "Dalia Admin"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Confirm your password first" in refused and "Signed by Dalia Admin" not in refused
    done = admin.post(f"/institution/submissions/{submission}/sign-off",
                      data={"full_name": "Dalia Admin", "password": PASSWORD}, follow_redirects=True)
    assert "Signed by Dalia Admin" in done.get_data(as_text=True)


@pytest.mark.parametrize(("who", "status"), [("teacher", 403), ("support", 403), ("regulator", 403),
                                              ("learner", 404)])
def test_only_an_admin_signs_for_the_provider(client, api, cohort_register, submission, who, status):
    body = {"full_name": "Someone", "password": PASSWORD}
    assert client.post(f"/api/registers/{cohort_register[0]}/sign-off", headers=api(who),
                       json=body).status_code == status
    assert client.post(f"/api/submissions/{submission}/sign-off", headers=api(who), json=body).status_code == status


def test_another_tenant_finds_no_register_or_submission_to_sign(client, johannesburg, cohort_register, submission):
    headers, body = johannesburg["headers"], {"full_name": "Jo Admin", "password": PASSWORD}
    assert client.post(f"/api/registers/{cohort_register[0]}/sign-off", headers=headers, json=body).status_code == 404
    assert client.post(f"/api/submissions/{submission}/sign-off", headers=headers, json=body).status_code == 404
    assert client.get(f"/api/submissions/{submission}/sign-offs", headers=headers).status_code == 404
    assert client.post("/api/submissions/999999/sign-off", headers=headers, json=body).status_code == 404
