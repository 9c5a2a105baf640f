"""Migration 0009 keeps every access request: the single cohort becomes a named one, REJECTED becomes DENIED,
and going back restores both (on SQLite too, where batch rebuilds must not cascade deletes)."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.integration.test_migrations import scratch_app  # noqa: F401  (the fixture)


def _parent_of_0009() -> str:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision("0009").down_revision


def _seed_before(conn) -> None:
    conn.execute(text("INSERT INTO institutions (id, name, slug, time_zone, created_at) "
                      "VALUES (1, 'I', 'i', 'UTC', CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO cohorts (id, institution_id, name, status, cohort_type, created_at, updated_at) "
                      "VALUES (7, 1, 'C', 'ACTIVE', 'public', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO users (id, email, full_name, role, active, created_at) "
                      "VALUES (3, 'r@x.example', 'R', 'regulator', true, CURRENT_TIMESTAMP)"))
    for request_id, cohort, status in ((1, 7, "APPROVED"), (2, None, "REJECTED")):
        conn.execute(text("INSERT INTO access_requests (id, regulator_id, institution_id, cohort_id, reason, status, "
                          "created_at) VALUES (:id, 3, 1, :c, 'audit', :s, CURRENT_TIMESTAMP)"),
                     {"id": request_id, "c": cohort, "s": status})


def test_access_requests_survive_the_migration_both_ways(scratch_app):  # noqa: F811
    from web.extensions import db

    before = _parent_of_0009()
    upgrade(revision=before)
    with db.engine.begin() as conn:
        _seed_before(conn)
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT id, scope, status FROM access_requests ORDER BY id")).all() == [
            (1, "cohorts", "APPROVED"), (2, "institution", "DENIED")]
        assert conn.execute(text("SELECT access_request_id, cohort_id FROM access_request_cohorts")).all() == [(1, 7)]
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1
    downgrade(revision=before)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT id, cohort_id, status FROM access_requests ORDER BY id")).all() == [
            (1, 7, "APPROVED"), (2, None, "REJECTED")]
