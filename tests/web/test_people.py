"""Institutions, qualifications, staff and learners through the API: contract names, tenancy, deactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Institution, Learner, Qualification, User


@pytest.fixture
def other_tenant(app, demo):
    """A second institution with a qualification, a learner and a teacher: nothing of it may leak."""
    from web.extensions import db

    with app.app_context():
        inst = Institution(name="Other Provider", slug="other", time_zone="Africa/Johannesburg")
        db.session.add(inst)
        db.session.flush()
        q = Qualification(institution_id=inst.id, code="OTH-1", title="Other course")
        learner = Learner(institution_id=inst.id, full_name="Outside Person", id_number="X1")
        person = User(institution_id=inst.id, email="t@other.example", full_name="Other Teacher", role="teacher")
        db.session.add_all([q, learner, person])
        db.session.commit()
        ids = {"institution": inst.id, "qualification": q.id, "learner": learner.id, "user": person.id}
        db.session.remove()
    return ids


def test_super_admin_creates_an_institution_with_its_contract_fields(client, api):
    body = {"name": "Cape Skills", "slug": "cape-skills", "time_zone": "Africa/Johannesburg",
            "default_language": "en", "accreditation_number": "QCTO-SDP-1234"}
    r = client.post("/api/institutions", json=body, headers=api("super"))
    assert r.status_code == 201 and {k: r.json[k] for k in body} == body and r.json["id"]


def test_an_unknown_time_zone_is_a_422_naming_the_field(client, api):
    r = client.post("/api/institutions", json={"name": "X", "slug": "x", "time_zone": "Mars/Olympus"},
                    headers=api("super"))
    assert r.status_code == 422 and [d["field"] for d in r.json["error"]["details"]] == ["time_zone"]


def test_an_admin_cannot_manage_institutions(client, api):
    assert client.get("/api/institutions", headers=api("admin")).status_code == 403


def test_a_duplicate_qualification_code_is_a_conflict(client, api):
    h = api("admin")
    body = {"code": "FA-1", "title": "First aid", "level": "NQF 2"}
    r = client.post("/api/qualifications", json=body, headers=h)
    assert r.status_code == 201 and r.json["level"] == "NQF 2" and r.json["active"] is True
    assert client.post("/api/qualifications", json=body, headers=h).status_code == 409


def test_a_patch_may_leave_a_required_field_out_but_not_empty_it(client, api):
    h = api("admin")
    made = client.post("/api/qualifications", json={"code": "FA-2", "title": "First aid"}, headers=h).json
    r = client.patch(f"/api/qualifications/{made['id']}", json={"title": None}, headers=h)
    assert r.status_code == 422 and [d["field"] for d in r.json["error"]["details"]] == ["title"]
    r = client.patch(f"/api/qualifications/{made['id']}", json={"level": "NQF 3"}, headers=h)
    assert (r.status_code, r.json["title"], r.json["level"]) == (200, "First aid", "NQF 3")


def test_another_institutions_records_are_404_and_edits_change_nothing(client, api, other_tenant, sql):
    h = api("admin")
    for url in (f"/api/qualifications/{other_tenant['qualification']}", f"/api/learners/{other_tenant['learner']}",
                f"/api/users/{other_tenant['user']}"):
        assert client.get(url, headers=h).status_code == 404, url
    assert client.patch(f"/api/learners/{other_tenant['learner']}", json={"full_name": "Renamed"},
                        headers=h).status_code == 404
    assert client.patch(f"/api/users/{other_tenant['user']}", json={"active": False}, headers=h).status_code == 404
    assert sql.get(Learner, other_tenant["learner"]).full_name == "Outside Person"
    assert sql.get(User, other_tenant["user"]).active is True


def test_an_admin_adds_a_teacher_with_assigned_cohorts(client, api, demo):
    r = client.post("/api/users", headers=api("admin"), json={
        "email": "New.Teacher@Example.com", "full_name": "New Teacher", "role": "teacher",
        "password": "a-long-password", "cohort_ids": [demo["public_cohort_id"]]})
    assert r.status_code == 201, r.json
    assert (r.json["email"], r.json["role"], r.json["cohort_ids"]) == ("new.teacher@example.com", "teacher",
                                                                        [demo["public_cohort_id"]])


def test_a_member_of_an_organization_that_does_not_exist_is_refused_not_a_500(client, api):
    """Found by schemathesis once the description let it send a valid email: the membership's foreign key failed."""
    r = client.post("/api/users", headers=api("admin"), json={"email": "m@example.com", "full_name": "M",
                                                               "role": "teacher", "organization_id": 99_999})
    assert r.status_code == 422 and r.json["error"]["code"] in {"organization_not_allowed", "unknown_organization"}


def test_only_a_super_admin_makes_super_admins(client, api):
    r = client.post("/api/users", headers=api("admin"), json={"email": "s@example.com", "full_name": "S",
                                                               "role": "super_admin"})
    assert r.status_code == 403 and r.json["error"]["code"] == "role_not_allowed"


def test_a_deactivated_users_token_is_refused_at_once(client, api, demo):
    teacher = api("teacher")
    assert client.get("/api/me", headers=teacher).status_code == 200
    r = client.patch(f"/api/users/{demo['users']['teacher']}", json={"active": False}, headers=api("admin"))
    assert r.status_code == 200 and r.json["active"] is False
    assert client.get("/api/me", headers=teacher).status_code == 401


def test_a_deactivated_user_is_signed_out_everywhere(app, client, api, demo, login):
    browser = login("teacher")
    assert browser.get("/teacher").status_code == 200
    client.patch(f"/api/users/{demo['users']['teacher']}", json={"active": False}, headers=api("admin"))
    assert browser.get("/teacher").status_code == 302


def test_learner_contract_fields_and_unique_id_number(client, api):
    h = api("admin")
    body = {"full_name": "Zahra Idris", "id_number": "8001015009087", "email": "Zahra@Example.com",
            "phone": "0550 12 34 56", "date_of_birth": "1980-01-01"}
    r = client.post("/api/learners", json=body, headers=h)
    assert r.status_code == 201, r.json
    assert (r.json["email"], r.json["phone"], r.json["date_of_birth"]) == ("zahra@example.com", "+213550123456",
                                                                          "1980-01-01")
    assert client.post("/api/learners", json=body, headers=h).status_code == 409


def test_learners_are_searchable_and_paged(client, api):
    body = client.get("/api/learners?q=haddad&per_page=5", headers=api("admin")).json
    assert [item["full_name"] for item in body["items"]] == ["Lina Haddad"] and body["per_page"] == 5


def test_a_teacher_sees_only_learners_of_their_cohorts(client, api):
    assert client.get("/api/learners", headers=api("teacher")).json["total"] == 12
    assert client.get("/api/learners", headers=api("teacher2")).json["total"] == 0


def test_users_create_without_an_institution_is_refused_for_institution_roles(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "a@example.com", "--role", "admin",
                                                "--password", "a-long-password"])
    assert result.exit_code != 0 and "institution" in result.output


def test_a_fresh_install_in_three_commands(app, client):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["institutions", "create", "--name", "Cape Skills", "--slug", "cape",
                               "--time-zone", "Africa/Johannesburg"])
    assert made.exit_code == 0, made.output
    admin = runner.invoke(args=["users", "create", "--email", "boss@cape.example", "--role", "admin",
                                "--institution", "cape", "--password", "a-long-password"])
    assert admin.exit_code == 0, admin.output
    token = runner.invoke(args=["users", "create-token", "--email", "boss@cape.example"]).output.strip()
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json
    with app.app_context():
        from web.extensions import db

        cape = db.session.scalar(select(Institution).where(Institution.slug == "cape"))
        assert me["institution_id"] == cape.id and cape.time_zone == "Africa/Johannesburg"
        db.session.remove()


def test_institutions_create_refuses_a_bad_time_zone(app):
    result = app.test_cli_runner().invoke(args=["institutions", "create", "--name", "X", "--slug", "x",
                                                "--time-zone", "Nowhere"])
    assert result.exit_code != 0 and "time_zone" in result.output
