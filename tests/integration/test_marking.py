"""Marking services on the real database: the one-statement upsert, its guards, concurrency, and the SQLite
fallback (same semantics, on an embedded database built from the models)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core import clock
from core.attendance import locking, marking, roster, service
from core.attendance.commands import LockSession, MarkRegister
from core.errors import Locked
from core.models import (
    AttendanceRecord,
    AuditEvent,
    Base,
    ClassSession,
    Cohort,
    CohortType,
    Enrolment,
    Institution,
    Learner,
    Role,
    User,
)
from tests.attendance_factories import make_session, members

DAY = dt.date(2026, 2, 2)


@pytest.fixture(autouse=True)
def _the_day_after(request):
    """The clock on the day after DAY: DAY's sessions have started and their cut-off is still ahead. (The demo
    data, if used, is loaded first, on the real clock: its sessions stay clear of DAY.)"""
    if "demo" in request.fixturenames:
        request.getfixturevalue("demo")
    with clock.frozen_at(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)):
        yield


def _audits(sql: Session) -> int:
    sql.rollback()
    return sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark"))


def test_a_resent_register_writes_nothing(sql, app, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    ids = members(sql, demo["public_cohort_id"])
    records = [{"enrolment_id": i, "status": "PRESENT"} for i in ids]
    first = service.mark(sql, teacher, MarkRegister(session_id=session_id, records=records))
    second = service.mark(sql, teacher, MarkRegister(session_id=session_id, records=records))
    assert len(first.changed) == 12 and second.changed == [] and second.conflicts == []
    assert _audits(sql) == 12


def test_a_row_inserted_by_someone_else_after_our_read_is_a_conflict_not_an_overwrite(sql, app, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    class_session = sql.get(ClassSession, session_id)
    ids = members(sql, demo["public_cohort_id"])
    service.mark(sql, teacher, MarkRegister(session_id=session_id,
                                            records=[{"enrolment_id": ids[0], "status": "ABSENT"}]))
    # We "read" no row for ids[0] (seen version 0) although one exists: the upsert must leave it alone.
    written = service.upsert_marks(sql, roster.PUBLIC_SPEC, class_session,
                                   [marking.Mark(ids[0], "PRESENT", None, None), marking.Mark(ids[1], "LATE", 3, None)],
                                   {}, teacher.id, clock.now(),
                                   locking.open_session_params(class_session, "Africa/Algiers", 24, clock.now()))
    sql.commit()
    assert list(written) == [ids[1]]
    current = roster.current_marks(sql, sql.get(Cohort, demo["public_cohort_id"]), session_id)
    assert current[ids[0]].status == "ABSENT" and current[ids[1]].status == "LATE"


def test_the_record_date_of_a_session_record_is_the_sessions_local_date(sql, app, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    session_id = make_session(sql, demo["public_cohort_id"], DAY, dt.time(0, 30), dt.time(1, 30))
    ids = members(sql, demo["public_cohort_id"])
    service.mark(sql, teacher, MarkRegister(session_id=session_id,
                                            records=[{"enrolment_id": ids[0], "status": "PRESENT"}]))
    assert sql.scalar(select(AttendanceRecord.record_date).where(AttendanceRecord.session_id == session_id)) == DAY


@pytest.mark.postgres
def test_two_facilitators_marking_one_register_at_once_lose_nothing(sql, app, demo):
    from web.extensions import db

    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    ids = members(sql, demo["public_cohort_id"])
    with app.app_context():
        engine = db.engine
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(user_key: str, chunk: list[int], status: str) -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                user = own.get(User, demo["users"][user_key])
                barrier.wait()
                for _ in range(5):
                    service.mark(own, user, MarkRegister(
                        session_id=session_id, records=[{"enrolment_id": i, "status": status} for i in chunk]))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=run, args=("teacher", ids[:6], "PRESENT")),
               threading.Thread(target=run, args=("admin", ids[6:], "ABSENT"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    current = roster.current_marks(sql, sql.get(Cohort, demo["public_cohort_id"]), session_id)
    assert {i: current[i].status for i in ids} == {**dict.fromkeys(ids[:6], "PRESENT"),
                                                   **dict.fromkeys(ids[6:], "ABSENT")}
    assert _audits(sql) == 12


@pytest.mark.postgres
def test_a_mark_racing_a_lock_is_either_saved_before_or_refused(sql, app, demo):
    from web.extensions import db

    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    ids = members(sql, demo["public_cohort_id"])
    with app.app_context():
        engine = db.engine
    outcome: dict[str, object] = {}

    def mark() -> None:
        with Session(engine, expire_on_commit=False) as own:
            try:
                service.mark(own, own.get(User, demo["users"]["teacher"]), MarkRegister(
                    session_id=session_id, records=[{"enrolment_id": i, "status": "PRESENT"} for i in ids]))
                outcome["mark"] = "saved"
            except Locked:
                outcome["mark"] = "refused"

    def lock() -> None:
        with Session(engine, expire_on_commit=False) as own:
            service.lock_session(own, own.get(User, demo["users"]["admin"]), session_id,
                                 LockSession(reason="end of term"))

    threads = [threading.Thread(target=mark), threading.Thread(target=lock)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    count = sql.scalar(select(func.count()).select_from(AttendanceRecord).where(
        AttendanceRecord.session_id == session_id))
    assert (outcome["mark"], count) in {("saved", 12), ("refused", 0)}
    sql.rollback()
    assert sql.get(ClassSession, session_id).is_locked


def test_deleting_a_user_keeps_their_audit_events_and_the_trail_unbroken(sql, app, demo):
    """No foreign key (migration 0015), and since the audit chain (0025) nothing rewrites a past row: the
    deleted actor's id stays, and the institution's chain still verifies."""
    from core.audit_trail import verify

    leaving = User(email="leaving@demo.example", full_name="Leaving", role=Role.ADMIN,
                   institution_id=demo["institution_id"])
    sql.add(leaving)
    sql.flush()
    leaving_id = leaving.id
    sql.add_all([AuditEvent(actor_id=leaving.id, action="test.leaving", entity_type="institution",
                            entity_id=demo["institution_id"], institution_id=demo["institution_id"]),
                 AuditEvent(actor_id=demo["users"]["admin"], action="test.staying", entity_type="institution",
                            entity_id=demo["institution_id"], institution_id=demo["institution_id"])])
    sql.commit()
    sql.delete(leaving)
    sql.commit()
    sql.expire_all()
    actors = dict(sql.execute(select(AuditEvent.action, AuditEvent.actor_id)
                              .where(AuditEvent.action.like("test.%"))).all())
    assert actors == {"test.leaving": leaving_id, "test.staying": demo["users"]["admin"]}
    assert verify.verify_chain(sql, demo["institution_id"]).ok


# --- the embedded default: SQLite ------------------------------------------------------------------------------

@pytest.fixture
def sqlite(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'embedded.sqlite'}")
    Base.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        inst = Institution(name="Embedded", slug="embedded", time_zone="Africa/Algiers")
        session.add(inst)
        session.flush()
        admin = User(email="a@x.example", full_name="Admin", role=Role.SUPER_ADMIN, institution_id=inst.id)
        cohort = Cohort(institution_id=inst.id, name="C", cohort_type=CohortType.PUBLIC)
        session.add_all([admin, cohort])
        session.flush()
        for n in range(3):
            learner = Learner(institution_id=inst.id, full_name=f"L{n}")
            session.add(learner)
            session.flush()
            session.add(Enrolment(learner_id=learner.id, cohort_id=cohort.id))
        session.add(AttendanceRecord(enrolment_id=1, record_date=DAY, status="PRESENT"))  # a legacy daily record
        session.commit()
        yield session, admin, make_session(session, cohort.id, DAY)
    engine.dispose()


def test_sqlite_marking_has_the_same_semantics(sqlite):
    session, admin, session_id = sqlite
    records = [{"enrolment_id": 1, "status": "LATE", "minutes_late": 4}, {"enrolment_id": 2, "status": "ABSENT"}]
    first = service.mark(session, admin, MarkRegister(session_id=session_id, records=records, mark_all_present=True))
    second = service.mark(session, admin, MarkRegister(session_id=session_id, records=records, mark_all_present=True))
    assert sorted(first.changed) == [1, 2, 3] and second.changed == []
    stale = service.mark(session, admin, MarkRegister(session_id=session_id, records=[
        {"enrolment_id": 1, "status": "PRESENT", "expected_version": 0}]))
    assert [c["enrolment_id"] for c in stale.conflicts] == [1] and stale.changed == []
    assert session.scalar(select(AttendanceRecord.status).where(AttendanceRecord.session_id.is_(None))) == "PRESENT"


def test_sqlite_lock_past_locks_once(sqlite):
    session, _admin, session_id = sqlite
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert locking.lock_past_sessions(session, grace_hours=24, now=now) == [session_id]
    assert locking.lock_past_sessions(session, grace_hours=24, now=now) == []
