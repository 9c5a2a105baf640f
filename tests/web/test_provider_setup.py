"""A provider's first week (issue 27, points 1, 3, 4): the institution's country decides phones; staff added
without a password on the screen; organization members added by an admin, from the API and the organization page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Institution, Organization, OrgMembership, User


@pytest.fixture
def johannesburg(app, demo):
    """A Johannesburg provider (country ZA by its time zone) with an admin and an organization."""
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.access.passwords import hash_password
    from web.extensions import db

    with app.app_context():
        inst = Institution(name="Jozi Skills", slug="jozi", time_zone="Africa/Johannesburg")
        db.session.add(inst)
        db.session.flush()
        admin = User(institution_id=inst.id, email="admin@jozi.example", full_name="Jo Admin", role="admin",
                     password_hash=hash_password("demo-password"))
        org = Organization(institution_id=inst.id, name="Sasol Training")
        db.session.add_all([admin, org])
        db.session.commit()
        ids = {"institution": inst.id, "admin": admin.id, "organization": org.id, "country": inst.country}
        token = create_api_token(db.session, admin, CreateApiToken(name="t"))
        db.session.remove()
    return {**ids, "headers": {"Authorization": f"Bearer {token}"}}


# ---------------------------------------------------------------- 1. country and phones


def test_an_institution_created_without_a_country_gets_its_time_zones(client, api):
    r = client.post("/api/institutions", json={"name": "Cape", "slug": "cape", "time_zone": "Africa/Johannesburg"},
                    headers=api("super"))
    assert r.status_code == 201 and r.json["country"] == "ZA"
    r = client.patch(f"/api/institutions/{r.json['id']}", json={"country": "dz"}, headers=api("super"))
    assert r.status_code == 200 and r.json["country"] == "DZ"


def test_a_zone_without_a_country_needs_one(client, api):
    r = client.post("/api/institutions", json={"name": "U", "slug": "u", "time_zone": "UTC"}, headers=api("super"))
    assert r.status_code == 422 and r.json["error"]["code"] == "country_required"
    r = client.post("/api/institutions", json={"name": "U", "slug": "u", "time_zone": "UTC", "country": "ZA"},
                    headers=api("super"))
    assert r.status_code == 201 and r.json["country"] == "ZA"


def test_existing_institutions_have_their_time_zones_country(johannesburg, demo, sql):
    assert johannesburg["country"] == "ZA"
    assert sql.get(Institution, demo["institution_id"]).country == "DZ"


def test_south_african_phones_are_read_as_south_african_mobiles(client, johannesburg):
    h = johannesburg["headers"]
    r = client.post("/api/learners", json={"full_name": "Thabo Nkosi", "phone": "082 555 1234"}, headers=h)
    assert r.status_code == 201 and r.json["phone"] == "+27825551234"
    r = client.post("/api/users", json={"email": "f@jozi.example", "full_name": "Fac", "role": "teacher",
                                        "phone": "071 123 4567", "password": "a-long-password"}, headers=h)
    assert r.status_code == 201 and r.json["phone"] == "+27711234567"


def test_algerian_phones_are_read_as_algerian_mobiles(client, api):
    r = client.post("/api/learners", json={"full_name": "Amel", "phone": "0550 12 34 56"}, headers=api("admin"))
    assert r.status_code == 201 and r.json["phone"] == "+213550123456"


def test_another_countrys_mobile_in_international_form_is_accepted(client, api, johannesburg):
    r = client.post("/api/learners", json={"full_name": "A", "phone": "+27 82 555 1234"}, headers=api("admin"))
    assert r.status_code == 201 and r.json["phone"] == "+27825551234"
    r = client.post("/api/learners", json={"full_name": "B", "phone": "+213 550 12 34 56"},
                    headers=johannesburg["headers"])
    assert r.status_code == 201 and r.json["phone"] == "+213550123456"


def test_a_phone_with_letters_is_refused_naming_the_countrys_form(client, johannesburg):
    r = client.post("/api/learners", json={"full_name": "Vanity", "phone": "0800 FLOWERS"},
                    headers=johannesburg["headers"])
    error = r.json["error"]
    assert r.status_code == 422 and error["code"] == "phone_letters" and "071 123 4567" in error["message"]
    assert error["details"][0]["field"] == "phone"


def test_a_landline_is_refused_with_the_countrys_example(client, johannesburg):
    r = client.post("/api/organizations", json={"name": "Acme ZA", "contact_phone": "011 555 1234"},
                    headers=johannesburg["headers"])
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "contact_phone"
    assert "071 123 4567" in r.json["error"]["message"]


# ---------------------------------------------------------------- 3. staff without a password


def test_staff_added_on_the_screen_without_a_password_are_sent_a_link(login, sql):
    page = login("admin").post("/admin/users", data={"full_name": "Nomsa New", "email": "nomsa@demo.example",
                                                     "role": "teacher", "password": ""})
    assert page.status_code == 302, page.get_data(as_text=True)[:500]
    made = sql.scalar(select(User).where(User.email == "nomsa@demo.example"))
    assert made is not None and made.password_hash is None


def test_users_create_without_a_terminal_or_password_refuses_naming_both_ways(app, demo, sql):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "x@demo.example", "--role", "admin",
                                                "--institution", "demo"])
    assert result.exit_code != 0 and "--password" in result.output and "--invite" in result.output
    assert sql.scalar(select(User).where(User.email == "x@demo.example")) is None


# ---------------------------------------------------------------- 4. organization members


def test_an_admin_adds_an_org_member_of_their_own_organization(client, api, demo, sql):
    r = client.post("/api/users", json={"email": "hr2@acme.example", "full_name": "Hana", "role": "org_member",
                                        "organization_id": demo["organization_id"]}, headers=api("admin"))
    assert r.status_code == 201, r.json
    assert r.json["organization_ids"] == [demo["organization_id"]]
    assert r.json["institution_id"] == demo["institution_id"]


def test_an_admin_cannot_add_a_member_of_another_institutions_organization(client, api, johannesburg, sql):
    r = client.post("/api/users", json={"email": "spy@acme.example", "full_name": "Spy", "role": "org_member",
                                        "organization_id": johannesburg["organization"]}, headers=api("admin"))
    assert r.status_code in (404, 422) and r.json["error"]["code"] == "unknown_organization"
    assert sql.scalar(select(User).where(User.email == "spy@acme.example")) is None


def test_an_org_member_needs_an_organization(client, api):
    r = client.post("/api/users", json={"email": "o@x.example", "full_name": "O", "role": "org_member"},
                    headers=api("admin"))
    assert r.status_code == 422 and r.json["error"]["details"][0]["field"] == "organization_id"


def test_an_admin_adds_an_org_member_from_the_organization_page(login, demo, sql):
    browser = login("admin")
    page = browser.get(f"/admin/organizations/{demo['organization_id']}").get_data(as_text=True)
    assert f"/admin/organizations/{demo['organization_id']}/portal" in page and 'id="members"' in page
    r = browser.post(f"/admin/organizations/{demo['organization_id']}/members",
                     data={"full_name": "Olga Org", "email": "olga@acme.example", "phone": ""})
    assert r.status_code == 302
    made = sql.scalar(select(User).where(User.email == "olga@acme.example"))
    assert made.role.value == "org_member"
    assert sql.scalar(select(OrgMembership.organization_id).where(OrgMembership.user_id == made.id)) \
        == demo["organization_id"]


def test_the_super_admins_user_form_asks_for_the_organization(login):
    page = login("super").get("/admin/users").get_data(as_text=True)
    assert 'data-shown-when="role:org_member"' in page and 'name="organization_id"' in page


def test_the_user_form_without_its_script_adds_a_teacher_whatever_organization_it_sends(login, demo, sql):
    r = login("admin").post("/admin/users", data={"full_name": "Tina", "email": "tina@demo.example", "role": "teacher",
                                                  "organization_id": str(demo["organization_id"]), "password": ""})
    assert r.status_code == 302
    assert sql.scalar(select(User).where(User.email == "tina@demo.example")).organization_ids == []


def test_the_user_form_adds_an_org_member_with_its_organization(login, demo, sql):
    org = demo["organization_id"]
    r = login("admin").post("/admin/users", data={"full_name": "Olu", "email": "olu@acme.example",
                                                  "role": "org_member", "organization_id": str(org)})
    assert r.status_code == 302
    assert sql.scalar(select(User).where(User.email == "olu@acme.example")).organization_ids == [org]
