"""The migrations build the whole schema, agree with the models, and go down and up again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from core.models import Base
from tests.conftest import DATABASE_URL, ON_POSTGRES, TMP, test_settings


def _scratch_url(suffix: str) -> str:
    url = make_url(DATABASE_URL)
    if ON_POSTGRES:
        return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)
    return f"sqlite:///{TMP / f'scratch_{suffix}.sqlite'}"


@pytest.fixture
def scratch_app() -> Iterator[Flask]:
    """An app on its own empty database, so the shared test schema is never touched."""
    from web import create_app

    url = _scratch_url("migrations")
    if ON_POSTGRES:
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}"'))
            conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
        admin.dispose()
    application = create_app(test_settings(SQLALCHEMY_DATABASE_URI=url))
    with application.app_context():
        yield application
        from web.extensions import db

        db.session.remove()
        db.engine.dispose()


def _diff(app: Flask) -> list:
    from web.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_builds_every_table_and_matches_the_models(scratch_app):
    upgrade()
    from web.extensions import db

    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert _diff(scratch_app) == []


def test_downgrade_to_base_then_upgrade_again(scratch_app):
    upgrade()
    downgrade(revision="base")
    from web.extensions import db

    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "class_sessions" in inspect(db.engine).get_table_names()


@pytest.mark.postgres
def test_postgres_refuses_two_overlapping_sessions_in_one_room(scratch_app):
    upgrade()
    from web.extensions import db

    engine = db.engine
    with engine.begin() as conn:
        inst = conn.execute(text("INSERT INTO institutions (name, slug, time_zone) VALUES ('I', 'i', 'UTC') "
                                 "RETURNING id")).scalar()
        room = conn.execute(text("INSERT INTO rooms (institution_id, name, is_active) VALUES (:i, 'R', true) "
                                 "RETURNING id"), {"i": inst}).scalar()
        cohorts = [conn.execute(text(
            "INSERT INTO cohorts (institution_id, name, status, cohort_type) VALUES (:i, :n, 'ACTIVE', 'public') "
            "RETURNING id"), {"i": inst, "n": n}).scalar() for n in ("A", "B")]

    def session_row(cohort: int, start_hour: int, end_hour: int, status: str = "SCHEDULED") -> dict:
        day = dt.date(2026, 3, 2)
        return {"institution_id": inst, "cohort_id": cohort, "session_date": day,
                "start_time": dt.time(start_hour), "end_time": dt.time(end_hour),
                "starts_at": dt.datetime(2026, 3, 2, start_hour, tzinfo=dt.UTC),
                "ends_at": dt.datetime(2026, 3, 2, end_hour, tzinfo=dt.UTC), "slot": 1,
                "session_type": "THEORY", "room_id": room, "status": status, "is_locked": False}

    from core.models import ClassSession

    table = ClassSession.__table__
    with engine.begin() as conn:
        conn.execute(insert(table), [session_row(cohorts[0], 9, 12)])
        # Back to back is fine: intervals are half-open [start, end).
        conn.execute(insert(table), [session_row(cohorts[1], 12, 14)])
        # A cancelled session never blocks a room.
        conn.execute(insert(table), [session_row(cohorts[1], 10, 11, status="CANCELLED")])
    with pytest.raises(IntegrityError, match="ex_class_sessions_room_id_overlap"), engine.begin() as conn:
        conn.execute(insert(table), [session_row(cohorts[1], 11, 13)])


def test_legacy_daily_records_and_session_records_have_separate_unique_rules(scratch_app):
    upgrade()
    from web.extensions import db

    engine = db.engine
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO institutions (name, slug, time_zone) VALUES ('I', 'i', 'UTC')"))
        inst = conn.execute(text("SELECT id FROM institutions")).scalar()
        conn.execute(text("INSERT INTO learners (institution_id, full_name) VALUES (:i, 'L')"), {"i": inst})
        learner = conn.execute(text("SELECT id FROM learners")).scalar()
        conn.execute(text("INSERT INTO enrolments (learner_id, status) VALUES (:l, 'ACTIVE')"), {"l": learner})
        enrolment = conn.execute(text("SELECT id FROM enrolments")).scalar()
    legacy = text("INSERT INTO attendance_records (enrolment_id, record_date, status, version) "
                  "VALUES (:e, '2025-01-06', 'PRESENT', 1)")
    with engine.begin() as conn:
        conn.execute(legacy, {"e": enrolment})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(legacy, {"e": enrolment})


def test_0025_backfills_each_audit_rows_institution_and_chains_the_rows_already_there(scratch_app):
    downgrade(revision="base")  # SQLite's scratch file may hold an earlier test's schema
    upgrade(revision="0022")
    from web.extensions import db

    engine = db.engine
    with engine.begin() as conn:
        inst = conn.execute(text("INSERT INTO institutions (name, slug, time_zone) VALUES ('I', 'i', 'UTC') "
                                 "RETURNING id")).scalar()
        cohort = conn.execute(text("INSERT INTO cohorts (institution_id, name, status, cohort_type) "
                                   "VALUES (:i, 'C', 'ACTIVE', 'public') RETURNING id"), {"i": inst}).scalar()
        events = text("INSERT INTO audit_events (at, action, entity_type, entity_id, after) "
                      "VALUES (:at, :action, :type, :id, :after)")
        at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
        for action, kind, entity in (("cohort.create", "cohort", cohort), ("check_in.settings", "institution", inst),
                                     ("session.auto_lock", "lock_sweep", 1), ("cohort.update", "cohort", cohort)):
            conn.execute(events, {"at": at, "action": action, "type": kind, "id": entity, "after": '{"n": 1}'})
    upgrade()
    from core.audit_trail import verify

    with engine.connect() as conn:
        owners = dict(conn.execute(text("SELECT action, institution_id FROM audit_events")).all())
    assert owners == {"cohort.create": inst, "check_in.settings": inst, "session.auto_lock": None,
                      "cohort.update": inst}
    reports = {r.institution_id: (r.ok, r.rows) for r in verify.verify(db.session)}
    db.session.remove()
    assert reports == {None: (True, 1), inst: (True, 3)}
