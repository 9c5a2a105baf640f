"""The nightly sweep on the real database: it records the locks the rule made (local-day cut-offs across time
zones), idempotently, after re-lock times, and once when two runs race."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.attendance import locking, service
from core.attendance.commands import UnlockSession
from core.models import AuditEvent, ClassSession, Cohort, CohortType, Institution, SessionLockRecord, User
from tests.attendance_factories import make_session

DAY = dt.date(2026, 3, 10)


def _institution_with_cohort(sql: Session, zone: str) -> int:
    inst = Institution(name=f"Inst {zone}", slug=zone.lower().replace("/", "-"), time_zone=zone)
    sql.add(inst)
    sql.flush()
    cohort = Cohort(institution_id=inst.id, name=f"Cohort {zone}", cohort_type=CohortType.PUBLIC)
    sql.add(cohort)
    sql.commit()
    return cohort.id


def _locked(sql: Session, session_id: int) -> bool:
    """Recorded by the sweep (the rule locks it either way)."""
    sql.expire_all()
    return sql.get(SessionLockRecord, session_id) is not None


def _audited_ids(sql: Session) -> list[int]:
    sql.expire_all()
    return sorted(i for event in sql.scalars(select(AuditEvent).where(AuditEvent.action == "session.auto_lock"))
                  for i in event.after["session_ids"])


@pytest.mark.parametrize(("zone", "lock_at_utc"), [
    ("Africa/Algiers", dt.datetime(2026, 3, 11, 23, 0, tzinfo=dt.UTC)),
    ("Pacific/Auckland", dt.datetime(2026, 3, 11, 11, 0, tzinfo=dt.UTC)),
    ("America/Los_Angeles", dt.datetime(2026, 3, 12, 7, 0, tzinfo=dt.UTC)),
])
def test_a_session_locks_at_the_end_of_its_local_day_plus_grace(sql, app, zone, lock_at_utc):
    session_id = make_session(sql, _institution_with_cohort(sql, zone), DAY, dt.time(9), dt.time(12))
    assert locking.lock_past_sessions(sql, grace_hours=24, now=lock_at_utc - dt.timedelta(seconds=1)) == []
    assert not _locked(sql, session_id)
    assert locking.lock_past_sessions(sql, grace_hours=24, now=lock_at_utc) == [session_id]
    assert _locked(sql, session_id)


def test_sessions_in_different_zones_lock_in_one_run_each_on_its_own_clock(sql, app):
    algiers = make_session(sql, _institution_with_cohort(sql, "Africa/Algiers"), DAY)
    auckland = make_session(sql, _institution_with_cohort(sql, "Pacific/Auckland"), DAY)
    los_angeles = make_session(sql, _institution_with_cohort(sql, "America/Los_Angeles"), DAY)
    now = dt.datetime(2026, 3, 12, 0, 0, tzinfo=dt.UTC)  # past Algiers' and Auckland's cut-off, not LA's
    assert sorted(locking.lock_past_sessions(sql, grace_hours=24, now=now)) == sorted([algiers, auckland])
    assert not _locked(sql, los_angeles)


def test_a_second_run_changes_nothing(sql, app):
    cohort_id = _institution_with_cohort(sql, "Africa/Algiers")
    ids = [make_session(sql, cohort_id, DAY + dt.timedelta(days=i)) for i in range(3)]
    now = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    assert sorted(locking.lock_past_sessions(sql, grace_hours=24, now=now)) == ids
    locked_at = [sql.get(SessionLockRecord, i).locked_at for i in ids]
    assert locking.lock_past_sessions(sql, grace_hours=24, now=now + dt.timedelta(hours=1)) == []
    sql.expire_all()
    assert [sql.get(SessionLockRecord, i).locked_at for i in ids] == locked_at
    assert _audited_ids(sql) == ids


def test_each_sweep_is_audited_listing_the_sessions_it_recorded(sql, app):
    session_id = make_session(sql, _institution_with_cohort(sql, "Africa/Algiers"), DAY)
    locking.lock_past_sessions(sql, grace_hours=24, now=dt.datetime(2026, 3, 20, tzinfo=dt.UTC))
    event = sql.scalar(select(AuditEvent).where(AuditEvent.action == "session.auto_lock"))
    assert (event.entity_type, event.actor_id) == ("lock_sweep", None)
    assert event.after == {"locked": 1, "session_ids": [session_id]} and event.context["grace_hours"] == 24


def test_an_unlock_reopens_a_past_session_until_relock_after_then_the_sweep_records_it_again(sql, app, demo):
    admin = sql.get(User, demo["users"]["admin"])
    cohort_id = demo["public_cohort_id"]
    plain = make_session(sql, cohort_id, dt.date(2026, 1, 5))
    deferred = make_session(sql, cohort_id, dt.date(2026, 1, 6))
    now = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
    with clock.frozen_at(now):
        locking.lock_past_sessions(sql, grace_hours=24)
        relock = now + dt.timedelta(days=2)
        service.unlock_session(sql, admin, plain, UnlockSession(reason="typo in register"))  # open for the grace
        service.unlock_session(sql, admin, deferred, UnlockSession(reason="late sick note", relock_after=relock))
        assert locking.lock_past_sessions(sql, grace_hours=24) == []
        assert not service.get_register(sql, admin, plain).info.is_locked
        assert not service.get_register(sql, admin, deferred).info.is_locked
    later = now + dt.timedelta(hours=24, seconds=1)
    assert locking.lock_past_sessions(sql, grace_hours=24, now=later) == [plain]
    with clock.frozen_at(later):
        assert not service.get_register(sql, admin, deferred).info.is_locked
    assert locking.lock_past_sessions(sql, grace_hours=24, now=relock + dt.timedelta(seconds=1)) == [deferred]


def test_future_and_unended_sessions_are_left_alone(sql, app, demo):
    today = clock.now().date()
    session_id = make_session(sql, demo["public_cohort_id"], today + dt.timedelta(days=3), dt.time(18), dt.time(19))
    locking.lock_past_sessions(sql, grace_hours=0)
    assert not _locked(sql, session_id)


@pytest.mark.postgres
def test_two_runs_at_once_lock_each_session_exactly_once(sql, app):
    from web.extensions import db

    cohort_id = _institution_with_cohort(sql, "Africa/Algiers")
    sql.execute(ClassSession.__table__.insert(), [
        {"institution_id": sql.get(Cohort, cohort_id).institution_id, "cohort_id": cohort_id,
         "session_date": DAY + dt.timedelta(days=i), "start_time": dt.time(9), "end_time": dt.time(10),
         "starts_at": dt.datetime.combine(DAY + dt.timedelta(days=i), dt.time(8), tzinfo=dt.UTC),
         "ends_at": dt.datetime.combine(DAY + dt.timedelta(days=i), dt.time(9), tzinfo=dt.UTC),
         "slot": 1, "session_type": "THEORY", "status": "SCHEDULED", "is_locked": False}
        for i in range(200)])
    sql.commit()
    with app.app_context():
        engine = db.engine
    now = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    results: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            with Session(engine) as own:
                barrier.wait()
                results.append(locking.lock_past_sessions(own, grace_hours=24, now=now))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    all_ids = [i for r in results for i in r]
    assert len(all_ids) == len(set(all_ids)) == 200
    assert sorted(len(r) for r in results) == [0, 0, 200]
    assert _audited_ids(sql) == sorted(all_ids)


def test_the_lock_can_be_run_by_hand_from_the_command_line(sql, app):
    session_id = make_session(sql, _institution_with_cohort(sql, "Africa/Algiers"), DAY)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["attendance", "lock-past"])
    second = runner.invoke(args=["attendance", "lock-past"])
    assert first.exit_code == 0 and "Locked 1 session(s)." in first.output
    assert "Locked 0 session(s)." in second.output
    assert _locked(sql, session_id)
