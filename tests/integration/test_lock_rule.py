"""The lock is a rule, not a job: a register past its cut-off refuses marks and evidence although the nightly
sweep never ran, in every zone; an unlock reopens it until `relock_after`; PRESENT, LATE and ABSENT wait for
the session to start, EXCUSED may come in advance. The sweep records locks from its watermark, in chunks."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import clock
from core.attendance import evidence, locking, service
from core.attendance.commands import MarkRegister, UnlockSession
from core.errors import Locked, ValidationError
from core.models import (
    AuditEvent,
    ClassSession,
    Cohort,
    CohortType,
    Enrolment,
    Institution,
    Learner,
    LockSweep,
    Role,
    SessionLockRecord,
    User,
)
from core.storage import PrivateStorage
from tests.attendance_factories import make_session

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _mark(sql, user, session_id: int, records: list, **kw) -> service.MarkOutcome:
    return service.mark(sql, user, MarkRegister(session_id=session_id, records=records, **kw))


def _cohort(sql, zone: str, learners: int = 2) -> tuple[int, User, list[int]]:
    inst = Institution(name=f"Inst {zone}", slug=zone.lower().replace("/", "-"), time_zone=zone)
    sql.add(inst)
    sql.flush()
    admin = User(email=f"admin@{inst.slug}.example", full_name="Admin", role=Role.ADMIN, institution_id=inst.id)
    cohort = Cohort(institution_id=inst.id, name=f"Cohort {zone}", cohort_type=CohortType.PUBLIC)
    sql.add_all([admin, cohort])
    sql.flush()
    enrolments = []
    for n in range(learners):
        learner = Learner(institution_id=inst.id, full_name=f"Learner {n}")
        sql.add(learner)
        sql.flush()
        enrolment = Enrolment(learner_id=learner.id, cohort_id=cohort.id)
        sql.add(enrolment)
        sql.flush()
        enrolments.append(enrolment.id)
    sql.commit()
    return cohort.id, admin, enrolments


# Session 09:00–12:00 local; cut-off = end of the local day + 24 h. Johannesburg has no DST; Europe/Paris
# moves its clocks on 29 March 2026, so that local day is 23 hours long.
ZONES = [
    ("Africa/Algiers", dt.date(2026, 3, 10), dt.datetime(2026, 3, 11, 23, 0, tzinfo=dt.UTC)),
    ("Africa/Johannesburg", dt.date(2026, 3, 10), dt.datetime(2026, 3, 11, 22, 0, tzinfo=dt.UTC)),
    ("Europe/Paris", dt.date(2026, 3, 29), dt.datetime(2026, 3, 30, 22, 0, tzinfo=dt.UTC)),
]


@pytest.mark.parametrize(("zone", "day", "cutoff"), ZONES)
def test_a_register_past_its_cut_off_refuses_marks_without_the_nightly_job(sql, app, zone, day, cutoff):
    cohort_id, admin, (first, second) = _cohort(sql, zone)
    session_id = make_session(sql, cohort_id, day)
    with clock.frozen_at(cutoff - dt.timedelta(seconds=1)):
        assert _mark(sql, admin, session_id, [{"enrolment_id": first, "status": "PRESENT"}]).changed == [first]
    with clock.frozen_at(cutoff), pytest.raises(Locked) as refused:
        _mark(sql, admin, session_id, [{"enrolment_id": second, "status": "PRESENT"}])
    sql.rollback()
    assert refused.value.code == "session_locked"
    assert refused.value.details["cutoff_at"] == cutoff.isoformat()
    assert sql.get(ClassSession, session_id).is_locked is False  # nothing swept: the rule alone refused it
    assert sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark")) == 1


def test_the_writing_statement_itself_refuses_a_session_locked_after_the_check(sql, app):
    """The upsert checks the rule in SQL: fed marks for a session locked by hand, it writes nothing."""
    from core.attendance import marking, roster

    cohort_id, admin, (first, _) = _cohort(sql, "Africa/Algiers")
    session_id = make_session(sql, cohort_id, dt.date(2026, 3, 10))
    now = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    s = sql.get(ClassSession, session_id)
    s.is_locked = True
    sql.commit()
    written = service.upsert_marks(sql, roster.PUBLIC_SPEC, s, [marking.Mark(first, "PRESENT", None, None)], {},
                                   admin.id, now, locking.open_session_params(s, "Africa/Algiers", 24, now))
    assert written == {}


def test_evidence_past_the_cut_off_is_refused_and_nothing_is_kept(sql, app, tmp_path):
    cohort_id, admin, (first, _) = _cohort(sql, "Africa/Algiers")
    session_id = make_session(sql, cohort_id, dt.date(2026, 3, 10))
    storage = PrivateStorage(tmp_path)
    with clock.frozen_at(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)):
        _mark(sql, admin, session_id, [{"enrolment_id": first, "status": "EXCUSED"}])
    with clock.frozen_at(dt.datetime(2026, 3, 12, tzinfo=dt.UTC)), pytest.raises(Locked):
        evidence.attach_evidence(sql, admin, storage, session_id, first, io.BytesIO(PDF), "note.pdf", 1 << 20)
    sql.rollback()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_unlock_with_relock_after_reopens_a_past_register_until_then(sql, app):
    cohort_id, admin, (first, second) = _cohort(sql, "Africa/Algiers")
    session_id = make_session(sql, cohort_id, dt.date(2026, 3, 10))
    now = dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC)
    relock = now + dt.timedelta(hours=2)
    with clock.frozen_at(now):
        service.unlock_session(sql, admin, session_id, UnlockSession(reason="late sick note", relock_after=relock))
        assert _mark(sql, admin, session_id, [{"enrolment_id": first, "status": "ABSENT"}]).changed == [first]
        assert service.get_register(sql, admin, session_id).info.is_locked is False
    with clock.frozen_at(relock + dt.timedelta(seconds=1)), pytest.raises(Locked):
        _mark(sql, admin, session_id, [{"enrolment_id": second, "status": "ABSENT"}])


def test_present_before_the_start_is_refused_and_excused_in_advance_is_kept(sql, app):
    cohort_id, admin, (first, second) = _cohort(sql, "Africa/Algiers")
    session_id = make_session(sql, cohort_id, dt.date(2026, 3, 18))
    with clock.frozen_at(dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)):
        with pytest.raises(ValidationError) as refused:
            _mark(sql, admin, session_id, [{"enrolment_id": first, "status": "PRESENT"}])
        sql.rollback()
        assert refused.value.code == "session_not_started"
        assert [e["index"] for e in refused.value.details["records"]] == [0]
        outcome = _mark(sql, admin, session_id,
                        [{"enrolment_id": second, "status": "EXCUSED", "notes": "Hospital appointment"}])
    assert outcome.changed == [second]


def test_mark_all_present_before_the_start_is_refused(sql, app):
    cohort_id, admin, _ = _cohort(sql, "Africa/Algiers")
    session_id = make_session(sql, cohort_id, dt.date(2026, 3, 18))
    with clock.frozen_at(dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)), pytest.raises(ValidationError) as refused:
        _mark(sql, admin, session_id, [], mark_all_present=True)
    assert refused.value.code == "session_not_started"


def test_the_sweep_records_a_backlog_in_chunks_and_moves_its_watermark(sql, app):
    cohort_id, _, _ = _cohort(sql, "Africa/Algiers", learners=0)
    ids = [make_session(sql, cohort_id, dt.date(2026, 1, 1) + dt.timedelta(days=i)) for i in range(30)]
    now = dt.datetime(2026, 2, 15, tzinfo=dt.UTC)
    assert sorted(locking.lock_past_sessions(sql, grace_hours=24, now=now, chunk=7)) == ids
    sql.expire_all()
    assert all(sql.get(SessionLockRecord, i) is not None for i in ids)
    audits = sql.scalars(select(AuditEvent).where(AuditEvent.action == "session.auto_lock")).all()
    assert sorted(i for a in audits for i in a.after["session_ids"]) == ids
    if sql.get_bind().dialect.name == "postgresql":  # the embedded default sweeps in one transaction
        assert len(audits) == 5  # 7+7+7+7+2
    assert sql.get(LockSweep, 1).swept_until == now - dt.timedelta(hours=24)
    assert locking.lock_past_sessions(sql, grace_hours=24, now=now, chunk=7) == []


def test_deleting_a_session_deletes_its_lock_record(sql, app):
    """No foreign key (migration 0014): a trigger on class_sessions does what ON DELETE CASCADE did."""
    cohort_id, _, _ = _cohort(sql, "Africa/Algiers", learners=0)
    gone, kept = (make_session(sql, cohort_id, dt.date(2026, 1, d)) for d in (5, 6))
    assert sorted(locking.lock_past_sessions(sql, grace_hours=24, now=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))) == [
        gone, kept]
    sql.delete(sql.get(ClassSession, gone))
    sql.commit()
    assert sql.scalars(select(SessionLockRecord.session_id)).all() == [kept]


def test_the_watermark_waits_before_a_session_not_due_yet(sql, app):
    cohort_id, _, _ = _cohort(sql, "Africa/Algiers", learners=0)
    due = make_session(sql, cohort_id, dt.date(2026, 3, 9))
    waiting = make_session(sql, cohort_id, dt.date(2026, 3, 10), dt.time(9), dt.time(10))
    now = dt.datetime(2026, 3, 11, 12, tzinfo=dt.UTC)  # 10 March ended 26 h ago, but its local day + 24 h is ahead
    assert locking.lock_past_sessions(sql, grace_hours=24, now=now) == [due]
    assert sql.get(LockSweep, 1).swept_until < sql.get(ClassSession, waiting).ends_at
    assert locking.lock_past_sessions(sql, grace_hours=24, now=now + dt.timedelta(hours=12)) == [waiting]


def test_a_past_session_scheduled_behind_the_watermark_is_still_recorded(sql, app, demo):
    from core.scheduling.apply import apply
    from core.scheduling.commands import SchedulePlan

    admin = sql.get(User, demo["users"]["admin"])
    now = clock.now()
    locking.lock_past_sessions(sql, grace_hours=24, now=now)
    day = (now - dt.timedelta(days=40)).astimezone(ZoneInfo("Africa/Algiers")).date()
    plan = {"start_date": day.isoformat(), "end_date": day.isoformat(), "weekdays": [day.weekday()],
            "slots": [{"start": "18:00", "end": "19:00", "session_type": "THEORY"}]}
    [created] = apply(sql, admin, demo["public_cohort_id"], SchedulePlan.model_validate(plan)).created_ids
    assert locking.lock_past_sessions(sql, grace_hours=24, now=now) == [created]
