"""Learner accounts (issue 21): an admin invites a cohort's learners or trainees; one person, one account."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import CorporateTrainee, Job, Learner, Role, User
from tests.portal_factories import corporate_cohort, trainees
from web.extensions import db


def _count(app, stmt) -> int:
    with app.app_context():
        found = db.session.scalar(stmt)
        db.session.remove()
    return found


def test_inviting_a_whole_public_cohort_makes_one_learner_account_per_learner(app, client, api, demo):
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations", json={"all": True},
                    headers=api("admin"))
    assert r.status_code == 200, r.json
    # The demo's first learner already has an account (learner@demo.example, a password): not mailed again.
    assert len(r.json["invited"]) == 11 and [s["reason"] for s in r.json["skipped"]] == ["already_signed_up"]
    with app.app_context():
        accounts = db.session.scalars(select(User).join(Learner, Learner.user_id == User.id)).all()
        assert len(accounts) == 12 and {a.role for a in accounts} == {Role.LEARNER}
        assert db.session.scalar(select(func.count()).select_from(Job).where(
            Job.kind == "people.send_welcome_link")) == 11
        db.session.remove()


def test_one_person_in_two_corporate_cohorts_has_one_account(app, client, api, demo):
    with app.app_context():
        first = trainees(db.session, demo["corporate_cohort_id"])[0]
        trainee_id, name = first.id, first.full_name
        second = corporate_cohort(db.session, demo["institution_id"], demo["organization_id"], "Acme Two", [name])
        trainees(db.session, second)[0].email = "trainee0@acme.example"
        db.session.commit()
    r = client.post(f"/api/institution/cohorts/{demo['corporate_cohort_id']}/invitations",
                    json={"learner_ids": [trainee_id]}, headers=api("admin"))
    assert r.status_code == 200 and r.json["invited"] == [trainee_id]
    assert _count(app, select(func.count(func.distinct(CorporateTrainee.user_id))).where(
        CorporateTrainee.email == "trainee0@acme.example")) == 1
    assert _count(app, select(func.count()).select_from(CorporateTrainee).where(
        CorporateTrainee.email == "trainee0@acme.example", CorporateTrainee.user_id.is_not(None))) == 2


def test_someone_not_in_the_cohort_refuses_the_whole_invitation(app, client, api, demo):
    before = _count(app, select(func.count()).select_from(User))
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations",
                    json={"learner_ids": [1, 2_000_000]}, headers=api("admin"))
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_learner"
    assert _count(app, select(func.count()).select_from(User)) == before


def test_an_empty_invitation_is_refused(client, api, demo):
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations", json={},
                    headers=api("admin"))
    assert r.status_code == 422


def test_a_staff_address_is_not_turned_into_a_learner_account(app, client, api, demo):
    with app.app_context():
        learner = db.session.scalars(select(Learner).where(Learner.user_id.is_(None)).order_by(Learner.id)).first()
        learner.email = "teacher@demo.example"
        learner_id = learner.id
        db.session.commit()
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations",
                    json={"learner_ids": [learner_id]}, headers=api("admin"))
    assert r.status_code == 200 and r.json["skipped"] == [{"id": learner_id, "reason": "email_in_use"}]
    assert _count(app, select(User.role).where(User.email == "teacher@demo.example")) == Role.TEACHER


def test_a_teacher_may_not_invite(client, api, demo):
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations", json={"all": True},
                    headers=api("teacher"))
    assert r.status_code == 403


def test_the_cohort_page_invites_everyone_with_one_button(app, login, demo):
    admin = login("admin")
    page = admin.get(f"/institution/attendance/cohorts/{demo['public_cohort_id']}")
    assert b"/invitations" in page.data
    r = admin.post(f"/institution/attendance/cohorts/{demo['public_cohort_id']}/invitations", data={"all": "true"})
    assert r.status_code == 302
    assert _count(app, select(func.count()).select_from(User).where(User.role == Role.LEARNER)) == 12


def test_a_public_learner_who_is_also_a_corporate_trainee_has_one_account(app, client, api, demo):
    with app.app_context():
        trainee = trainees(db.session, demo["corporate_cohort_id"])[0]
        learner = db.session.scalars(select(Learner).where(Learner.user_id.is_(None)).order_by(Learner.id)).first()
        learner.email, learner_id = trainee.email.upper(), learner.id
        db.session.commit()
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations",
                    json={"learner_ids": [learner_id]}, headers=api("admin"))
    assert r.status_code == 200 and r.json["invited"] == [learner_id]
    with app.app_context():
        tied = (db.session.get(Learner, learner_id).user_id, db.session.scalar(
            select(CorporateTrainee.user_id).where(CorporateTrainee.email == "trainee0@acme.example")))
        db.session.remove()
    assert tied[0] is not None and tied[0] == tied[1]


def test_a_learner_account_is_never_turned_into_staff(client, api, login, demo):
    learner = demo["users"]["learner"]
    page = login("admin").get(f"/admin/users/{learner}")
    assert page.status_code == 200 and 'name="role"' not in page.text
    r = client.patch(f"/api/users/{learner}", json={"role": "admin"}, headers=api("admin"))
    assert r.status_code == 422 and r.json["error"]["code"] == "role_not_allowed"


def test_the_cohort_page_invites_one_person(app, login, demo):
    with app.app_context():
        learner = db.session.scalars(select(Learner).where(Learner.user_id.is_(None)).order_by(Learner.id)).first()
        learner_id = learner.id
        db.session.remove()
    admin = login("admin")
    assert f'name="learner_ids" value="{learner_id}"' in admin.get(
        f"/institution/attendance/cohorts/{demo['public_cohort_id']}").text
    r = admin.post(f"/institution/attendance/cohorts/{demo['public_cohort_id']}/invitations",
                   data={"learner_ids": str(learner_id)})
    assert r.status_code == 302
    assert _count(app, select(func.count()).select_from(User).where(User.role == Role.LEARNER)) == 2
