"""Password links mailed by a real worker to a real SMTP server on loopback; learner imports on a real worker."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.models import Enrolment, Learner
from tests.conftest import wait_for
from tests.mailbox import Mailbox, mail_text  # the `smtp` fixture is in tests/tasks/conftest.py

pytestmark = pytest.mark.redis


def _link(box: Mailbox, address: str) -> str:
    message = wait_for(lambda: box.to(address))[-1]
    match = re.search(r"http://testserver(/password/reset/\S+)", mail_text(message))
    assert match, message.get_payload()
    return match.group(1)


def test_a_reset_link_works_once(app, client, api, demo, smtp, live_worker):
    r = client.post(f"/api/users/{demo['users']['teacher']}/password-reset", headers=api("admin"))
    assert r.status_code == 202
    path = _link(smtp, "teacher@demo.example")
    assert smtp.to("teacher@demo.example")[-1]["Subject"] == "Choose a new password"
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": "a-brand-new-password"}).status_code == 302
    assert client.post("/login", data={"email": "teacher@demo.example",
                                       "password": "a-brand-new-password"}).status_code == 302
    assert client.get(path).status_code == 410  # used: the password it was made for is gone


def test_a_new_account_is_welcomed_with_a_link_to_choose_a_password(app, client, api, demo, smtp, live_worker):
    r = client.post("/api/users", headers=api("admin"),
                    json={"email": "new.teacher@demo.example", "full_name": "Nadia New", "role": "teacher"})
    assert r.status_code == 201, r.json
    message = wait_for(lambda: smtp.to("new.teacher@demo.example"))[-1]
    assert message["Subject"] == "Your account at Demo Training Institute"
    body = mail_text(message)
    assert body.startswith("Hello Nadia New,") and "expires in 24 hours" in body
    path = _link(smtp, "new.teacher@demo.example")
    assert client.post(path, data={"password": "nadias-first-password"}).status_code == 302
    assert client.post("/login", data={"email": "new.teacher@demo.example",
                                       "password": "nadias-first-password"}).status_code == 302


def test_a_reset_link_expires(app, client, demo, smtp, live_worker):
    client.post("/password/forgot", data={"email": "support@demo.example"})
    path = _link(smtp, "support@demo.example")
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        page = client.get(path)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 24 * 3600
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)


def test_asking_for_an_unknown_address_answers_the_same_and_sends_nothing(app, client, demo, smtp, live_worker):
    known = client.post("/password/forgot", data={"email": "admin@demo.example"})
    unknown = client.post("/password/forgot", data={"email": "nobody@demo.example"})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    wait_for(lambda: smtp.to("admin@demo.example"))
    assert smtp.to("nobody@demo.example") == []


def test_learner_import_validates_commits_and_enrols(app, client, api, demo, sql, live_worker):
    h = api("admin")
    csv = (b"full_name;id_number;email;phone;date_of_birth\n"
           b"Ada New;ID-1;ada@example.com;0550 11 22 33;2001-04-30\n"
           b"Yacine Belkacem;DEMO0000;;;\n"                      # already a learner (and already enrolled)
           b"Bad Phone;ID-2;;021 12 34 56;\n"                    # landline: a row error
           b"Bo Dup;ID-1;;;\n")                         # same ID number as row 1
    r = client.post("/api/learner-imports", headers=h,
                    data={"file": (__import__("io").BytesIO(csv), "learners.csv"),
                          "cohort_id": str(demo["public_cohort_id"])})
    assert r.status_code == 202, r.json
    status_url = r.json["status_url"]
    body = wait_for(lambda: (b := client.get(status_url, headers=h).json)["status"] == "VALIDATED" and b)
    assert (body["counts"]["valid"], body["counts"]["invalid"]) == (2, 2)
    assert client.post(f"/api/learner-imports/{body['id']}/commit", headers=h).status_code == 202
    done = wait_for(lambda: (b := client.get(status_url, headers=h).json)["status"] == "COMMITTED" and b)
    assert (done["inserted_count"], done["enrolled_count"]) == (1, 1)
    assert sql.scalar(select(func.count()).select_from(Learner).where(Learner.id_number == "DEMO0000")) == 1
    ada = sql.scalar(select(Learner).where(Learner.id_number == "ID-1"))
    assert ada.phone_e164 == "+213550112233" and ada.date_of_birth.isoformat() == "2001-04-30"
    assert sql.scalar(select(Enrolment.id).where(Enrolment.learner_id == ada.id,
                                                 Enrolment.cohort_id == demo["public_cohort_id"]))
    report = client.get(f"/api/learner-imports/{body['id']}/errors.csv", headers=h).get_data(as_text=True)
    assert "phone_not_mobile" in report and "duplicate_id_number_in_file" in report


def test_another_institutions_admin_cannot_see_a_learner_import(app, client, api, demo, live_worker):
    from core.access.auth import create_api_token, create_user
    from core.access.commands import CreateApiToken
    from core.models import Institution
    from web.extensions import db

    r = client.post("/api/learner-imports", headers=api("admin"),
                    data={"file": (__import__("io").BytesIO(b"full_name\nA\n"), "a.csv")})
    with app.app_context():
        other = Institution(name="Elsewhere", slug="elsewhere", time_zone="UTC")
        db.session.add(other)
        db.session.commit()
        outsider = create_user(db.session, email="x@elsewhere.example", role="admin", institution_id=other.id,
                               password="a-long-password")
        token = create_api_token(db.session, outsider, CreateApiToken(name="test"))
        db.session.remove()
    assert client.get(r.json["status_url"], headers={"Authorization": f"Bearer {token}"}).status_code == 404
