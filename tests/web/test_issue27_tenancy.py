"""The routes of issue 27 (points 1-4, 17, 18) across tenants: an admin of another institution reaches nothing
of the demo institution through them (404), and sees only their own country's holidays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.models import Enrolment, Holiday, Institution, Learner, User


@pytest.fixture
def outsider(app, demo):
    """The admin of a Johannesburg provider: signed-in browser and API headers."""
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
        db.session.add(admin)
        db.session.commit()
        token = create_api_token(db.session, admin, CreateApiToken(name="t"))
        db.session.remove()
    browser = app.test_client()
    assert browser.post("/login", data={"email": "admin@jozi.example", "password": "demo-password"}).status_code == 302
    return {"headers": {"Authorization": f"Bearer {token}"}, "browser": browser}


@pytest.fixture
def demo_rows(demo, sql):
    enrolment = sql.scalars(select(Enrolment).where(Enrolment.cohort_id == demo["public_cohort_id"])).first()
    learner = sql.get(Learner, enrolment.learner_id)
    holiday = Holiday(institution_id=demo["institution_id"], date=dt.date(2026, 7, 6),
                      name="Demo day")
    sql.add(holiday)
    sql.commit()
    return {"enrolment": enrolment.id, "learner": learner.id, "id_number": learner.id_number, "holiday": holiday.id}


def test_another_institutions_enrolment_is_404(client, outsider, demo_rows, sql):
    r = client.patch(f"/api/enrolments/{demo_rows['enrolment']}", json={"enrolled_on": "2026-01-05"},
                     headers=outsider["headers"])
    assert r.status_code == 404
    assert outsider["browser"].post(f"/institution/enrolments/{demo_rows['enrolment']}/date",
                                    data={"enrolled_on": "2026-01-05"}).status_code == 404


def test_another_institutions_cohort_cannot_be_enrolled_into_by_id_number(client, outsider, demo, demo_rows):
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/enrolments",
                    json={"id_numbers": [demo_rows["id_number"] or "X"]}, headers=outsider["headers"])
    assert r.status_code == 404


def test_another_institutions_organization_takes_no_members_from_the_page(outsider, demo, sql):
    r = outsider["browser"].post(f"/admin/organizations/{demo['organization_id']}/members",
                                 data={"full_name": "Spy", "email": "spy@jozi.example"})
    assert r.status_code == 404
    assert sql.scalar(select(User).where(User.email == "spy@jozi.example")) is None


def test_another_institutions_learner_page_is_404(outsider, demo_rows):
    assert outsider["browser"].get(f"/admin/learners/{demo_rows['learner']}").status_code == 404


def test_holidays_are_each_institutions_own(client, outsider, demo_rows):
    items = client.get("/api/holidays?year=2026", headers=outsider["headers"]).json["items"]
    assert "Demo day" not in {h["name"] for h in items} and "Youth Day" in {h["name"] for h in items}
    assert client.delete(f"/api/holidays/{demo_rows['holiday']}", headers=outsider["headers"]).status_code == 404
