"""Learner invitations (issue 21) go out through the job runtime, in the learner's language, and their link
lets the learner choose a password and land on /me."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import Institution, Learner
from tests.conftest import wait_for
from tests.mailbox import mail_text  # the `smtp` fixture is in tests/tasks/conftest.py
from web.extensions import db

pytestmark = pytest.mark.redis


def test_an_invited_learner_is_mailed_in_their_language_and_signs_in_to_me(app, client, api, demo, smtp,
                                                                          live_worker):
    with app.app_context():
        db.session.get(Institution, demo["institution_id"]).default_language = "fr"
        learner = db.session.scalars(select(Learner).where(Learner.user_id.is_(None)).order_by(Learner.id)).first()
        learner_id, email = learner.id, learner.email
        db.session.commit()
    r = client.post(f"/api/institution/cohorts/{demo['public_cohort_id']}/invitations",
                    json={"learner_ids": [learner_id]}, headers=api("admin"))
    assert r.status_code == 200 and r.json["invited"] == [learner_id]
    body = mail_text(wait_for(lambda: smtp.to(email))[-1])
    assert body.startswith("Bonjour")
    path = re.search(r"http://testserver(/password/reset/\S+)", body).group(1)
    assert client.post(path, data={"password": "my-own-learner-password"}).status_code == 302
    signed_in = client.post("/login", data={"email": email, "password": "my-own-learner-password"})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/me"
    client.post(path, data={"password": "another-learner-password"})  # the link works once
    again = app.test_client().post("/login", data={"email": email, "password": "another-learner-password"})
    assert again.status_code != 302


def test_a_declined_apology_is_mailed_to_the_learner_with_the_reason_in_their_language(app, client, api, sql, demo,
                                                                                      smtp, live_worker):
    from core import clock
    from core.models import ClassSession, User

    learner = sql.get(User, demo["users"]["learner"])
    learner.language = "fr"
    sql.commit()
    future = sql.scalar(select(ClassSession.id).where(ClassSession.cohort_id == demo["public_cohort_id"],
                                                      ClassSession.starts_at > clock.now()).limit(1))
    sent = client.post("/api/me/apologies", json={"session_ids": [future], "reason": "Rendez-vous"},
                       headers=api("learner"))
    declined = client.post(f"/api/apologies/{sent.json['id']}/decline", json={"reason": "Examen ce jour-là"},
                           headers=api("teacher"))
    assert declined.status_code == 200
    body = mail_text(wait_for(lambda: smtp.to("learner@demo.example"))[-1])
    assert body.startswith("Bonjour") and "Examen ce jour-là" in body
