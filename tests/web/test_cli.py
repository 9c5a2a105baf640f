"""Operator commands: demo data (idempotent), users and tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import ClassSession, Cohort, CorporateTrainee, User


def _counts(app):
    from web.extensions import db

    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(m))
                       for m in (User, Cohort, CorporateTrainee, ClassSession))
        db.session.remove()
    return counts


def test_demo_data_twice_adds_nothing(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    first = _counts(app)
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0 and "admin@demo.example" in result.output
    assert _counts(app) == first and first[0] == 8  # every demo sign-in, the learner included


def test_users_create_makes_an_admin_who_can_sign_in(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["users", "create", "--email", "Boss@Example.com", "--role", "admin",
                                 "--institution", "demo", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"email": "boss@example.com", "password": "a-long-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin"


def test_users_create_refuses_unknown_role_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "x@example.com", "--role", "wizard",
                                                "--password", "a-long-password"])
    assert result.exit_code != 0 and "Unknown role" in result.output


def test_users_create_refuses_a_duplicate_email(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["users", "create", "--email", "admin@demo.example", "--role", "admin",
                                 "--institution", "demo", "--password", "a-long-password"])
    assert result.exit_code != 0 and "already exists" in result.output


def test_create_token_prints_a_working_token(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["users", "create-token", "--email", "support@demo.example"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("tap_")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json["role"] == "support"
