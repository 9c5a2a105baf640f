"""Locking: the lock rule, lock and unlock by hand, and the nightly sweep that records locks.

The rule (marking.locked_now) holds on its own: a register past its cut-off refuses marks whether or not
the nightly job ran. The job only *records* the lock (`is_locked`, `locked_at`, an audit row) for reports.

Speed (PostgreSQL): no index of `class_sessions` mentions a lock column, and the table keeps free space on
each page, so recording a lock is a HOT update. The sweep finds due sessions from a stored watermark on
`ends_at` (lock_sweeps.swept_until: every session ending at or before it is recorded), so a normal night
reads only the last day or two of sessions; a backlog goes in chunks, each its own short transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, text, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.errors import Conflict, Locked, ValidationError
from core.models import ClassSession, Institution, LockSweep, SessionStatus, User
from core.models.base import UTCDateTime

from . import marking

log = logging.getLogger(__name__)

LOCK_ADVISORY_KEY = 0x41_54_4C_4B  # "ATLK": one nightly sweep at a time
AUTO_LOCK_REASON = "Locked automatically after the grace period."
SWEEP_CHUNK = 20_000  # sessions per transaction when a backlog is swept
_TICK = dt.timedelta(microseconds=1)


# ---------------------------------------------------------------------------------------------------------------
# The rule, for readers (register, API, calendar, screens)
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LockState:
    locked: bool
    cutoff: dt.datetime           # end of the local day + grace
    locked_at: dt.datetime | None  # when it was locked (recorded), or its cut-off if only the rule locks it
    by_rule: bool                 # locked by the cut-off, not (yet) recorded by hand or by the nightly job


def lock_state(s: ClassSession, zone: str, grace_hours: int, now: dt.datetime | None = None) -> LockState:
    now = now or clock.now()
    cutoff = marking.auto_lock_at(s.session_date, s.ends_at, zone, grace_hours)
    locked = marking.locked_now(s.is_locked, cutoff, s.relock_after, now)
    by_rule = locked and not s.is_locked
    return LockState(locked, cutoff, s.locked_at if s.is_locked else (cutoff if by_rule else None), by_rule)


def lock_states(session: Session, sessions: Iterable[ClassSession], grace_hours: int) -> dict[int, LockState]:
    """The lock state of each session, by id (one query for the institutions' zones)."""
    rows = list(sessions)
    zones = dict(session.execute(select(Institution.id, Institution.time_zone).where(
        Institution.id.in_({s.institution_id for s in rows}))).all()) if rows else {}
    now = clock.now()
    return {s.id: lock_state(s, zones.get(s.institution_id) or "UTC", grace_hours, now) for s in rows}


def refuse_if_locked(s: ClassSession, zone: str, grace_hours: int) -> None:
    """423 `session_locked` (with the cut-off) for a locked session; 409 for a cancelled one."""
    state = lock_state(s, zone, grace_hours)
    if state.locked:
        raise session_locked(state)
    if s.status == SessionStatus.CANCELLED:
        raise Conflict("This session was cancelled: there is no register to mark.", code="session_cancelled")


def session_locked(state: LockState) -> Locked:
    why = ("its cut-off has passed" if state.by_rule or (state.locked_at and state.locked_at >= state.cutoff)
           else "it was locked by an administrator")
    return Locked(f"This session is locked ({why}): its register can no longer be changed. "
                  "Ask an administrator to unlock it.", code="session_locked",
                  details={"cutoff_at": state.cutoff.isoformat(),
                           "locked_at": state.locked_at.isoformat() if state.locked_at else None})


# The lock rule inside a writing statement: the write happens only if the session is open at that moment.
# `:before_cutoff` is computed from the session row (read under FOR SHARE, so it can't move meanwhile).
OPEN_SESSION_SQL = ("EXISTS (SELECT 1 FROM class_sessions AS gate WHERE gate.id = :session_id AND NOT gate.is_locked "
                    "AND gate.status <> 'CANCELLED' AND (:before_cutoff OR gate.relock_after > :now))")
NOW_PARAM = bindparam("now", type_=UTCDateTime())


def open_session_params(s: ClassSession, zone: str, grace_hours: int, now: dt.datetime) -> dict[str, Any]:
    return {"session_id": s.id, "now": now,
            "before_cutoff": now < marking.auto_lock_at(s.session_date, s.ends_at, zone, grace_hours)}


# ---------------------------------------------------------------------------------------------------------------
# Lock and unlock by hand
# ---------------------------------------------------------------------------------------------------------------

def _reason(reason: Any) -> str:
    try:
        return marking.check_reason(reason)
    except ValueError as exc:
        raise ValidationError(str(exc), code="reason_required", details={"field": "reason"}) from None


def lock_row(session: Session, class_session: ClassSession) -> None:
    """Take the session row's lock (waits for marks in flight), then re-read it."""
    stmt = select(ClassSession.id).where(ClassSession.id == class_session.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    session.execute(stmt)
    session.refresh(class_session)


def lock_session(session: Session, user: User, class_session: ClassSession, reason: Any) -> ClassSession:
    """An admin locks a session by hand (audited). Locking a locked session changes nothing."""
    why = _reason(reason)
    require(session, user, "attendance.lock")
    lock_row(session, class_session)
    if class_session.is_locked:
        session.commit()
        return class_session
    now = clock.now()
    class_session.is_locked, class_session.locked_at = True, now
    class_session.locked_by_id, class_session.lock_reason, class_session.relock_after = user.id, why, None
    audit.record(session, actor_id=user.id, action="session.lock", entity_type="class_session",
                 entity_id=class_session.id, before={"is_locked": False}, after={"is_locked": True},
                 context={"reason": why})
    session.commit()
    return class_session


def unlock_session(session: Session, user: User, class_session: ClassSession, zone: str, reason: Any,
                   relock_after: Any = None, *, grace_hours: int = 24) -> ClassSession:
    """Only admins unlock (audited). A session past its cut-off stays open until `relock_after`; without
    one, for `grace_hours` from now (an unlock that the rule would undo at once would mean nothing)."""
    why = _reason(reason)
    relock = _parse_instant(relock_after, "relock_after")
    require(session, user, "attendance.unlock")
    now = clock.now()
    if relock is not None and relock <= now:
        raise ValidationError("relock_after must be in the future.", code="invalid_relock_after",
                              details={"field": "relock_after"})
    lock_row(session, class_session)
    state = lock_state(class_session, zone, grace_hours, now)
    if not state.locked:
        raise Conflict("This session is not locked.", code="not_locked")
    if relock is None and state.cutoff <= now:
        relock = now + dt.timedelta(hours=grace_hours)
    before = {"is_locked": True, "locked_at": state.locked_at.isoformat() if state.locked_at else None,
              "lock_reason": class_session.lock_reason}
    class_session.is_locked, class_session.locked_at, class_session.locked_by_id = False, None, None
    class_session.lock_reason, class_session.relock_after = None, relock
    audit.record(session, actor_id=user.id, action="session.unlock", entity_type="class_session",
                 entity_id=class_session.id, before=before,
                 after={"is_locked": False, "relock_after": relock.isoformat() if relock else None},
                 context={"reason": why})
    session.commit()
    return class_session


def _parse_instant(value: Any, name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{name} must be an ISO 8601 date-time with offset.", code=f"invalid_{name}",
                              details={"field": name}) from None
    if parsed.tzinfo is None:
        raise ValidationError(f"{name} needs a UTC offset (e.g. 2026-01-31T18:00:00+01:00).", code=f"invalid_{name}",
                              details={"field": name})
    return parsed.astimezone(dt.UTC)


# ---------------------------------------------------------------------------------------------------------------
# The nightly sweep: record the locks the rule already enforces
# ---------------------------------------------------------------------------------------------------------------

def reopen_sweep(session: Session, earliest_ends_at: dt.datetime) -> None:
    """A session written with an end at or before the watermark (a past date scheduled or moved there)
    pulls the watermark back, so that the next sweep records its lock too."""
    session.execute(update(LockSweep).where(LockSweep.id == 1, LockSweep.swept_until >= earliest_ends_at)
                    .values(swept_until=earliest_ends_at - _TICK))


# One chunk: the candidates are sessions ending in (:from, :to]; the due ones are recorded as locked (HOT
# updates: no indexed column changes) with their audit rows, in the same statement. It also answers the
# earliest end among candidates not due yet: the watermark may not pass it.
_SWEEP_CHUNK_PG = text("""
WITH candidates AS (
    SELECT s.id, s.ends_at, s.is_locked, s.relock_after,
           GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone)) + :grace AS cutoff
      FROM class_sessions AS s JOIN institutions AS i ON i.id = s.institution_id
     WHERE s.ends_at > :from AND s.ends_at <= :to
), locked AS (
    UPDATE class_sessions AS s
       SET is_locked = true, locked_at = :now, locked_by_id = NULL, lock_reason = :reason, relock_after = NULL
      FROM candidates AS c
     WHERE s.id = c.id AND NOT c.is_locked AND c.cutoff <= :now AND (c.relock_after IS NULL OR c.relock_after <= :now)
       AND NOT s.is_locked
 RETURNING s.id
), audited AS (
    INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context)
    SELECT :now, NULL, 'session.auto_lock', 'class_session', id,
           CAST(:before AS jsonb), CAST(:after AS jsonb), CAST(:context AS jsonb)
      FROM locked
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM locked),
       (SELECT min(ends_at) FROM candidates WHERE cutoff > :now
           AND NOT is_locked AND (relock_after IS NULL OR relock_after <= :now))
""")

# Sessions behind the watermark that an admin unlocked until a time now past (few; a partial index finds them).
_RELOCK_PG = text("""
WITH locked AS (
    UPDATE class_sessions AS s
       SET is_locked = true, locked_at = :now, locked_by_id = NULL, lock_reason = :reason, relock_after = NULL
      FROM institutions AS i
     WHERE i.id = s.institution_id AND s.relock_after IS NOT NULL AND s.relock_after <= :now AND NOT s.is_locked
       AND s.ends_at <= :to
       AND GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone)) + :grace <= :now
 RETURNING s.id
), audited AS (
    INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context)
    SELECT :now, NULL, 'session.auto_lock', 'class_session', id,
           CAST(:before AS jsonb), CAST(:after AS jsonb), CAST(:context AS jsonb)
      FROM locked
)
SELECT id FROM locked
""")


@contextmanager
def _one_sweep_at_a_time(engine: Engine) -> Iterator[bool]:
    """Yields False when another sweep is running (it will record everything; this one has nothing to do).
    The lock is held on a connection of its own across the sweep's many transactions; it dies with it."""
    with engine.connect() as guard:
        got = bool(guard.execute(select(func.pg_try_advisory_lock(LOCK_ADVISORY_KEY))).scalar())
        guard.commit()
        try:
            yield got
        finally:
            if got:
                guard.execute(select(func.pg_advisory_unlock(LOCK_ADVISORY_KEY)))
                guard.commit()


def lock_past_sessions(session: Session, *, grace_hours: int = 24, now: dt.datetime | None = None,
                       chunk: int = SWEEP_CHUNK) -> list[int]:
    """Record the lock of every session past its cut-off (set-based, audited, one sweep at a time); a
    second run changes nothing. A backlog goes in chunks of about `chunk` sessions, each committed on its own,
    so marking elsewhere never waits for the whole sweep."""
    now = now or clock.now()
    if session.get_bind().dialect.name != "postgresql":
        ids = _sweep_portable(session, now, grace_hours)
    else:
        with _one_sweep_at_a_time(session.get_bind()) as ours:  # type: ignore[arg-type]
            ids = _sweep_pg(session, now, grace_hours, chunk) if ours else []
    if ids:
        log.info("recorded the lock of %d sessions", len(ids))
    return ids


def _watermark(session: Session) -> dt.datetime | None:
    row = session.get(LockSweep, 1)
    if row is None:
        session.add(LockSweep(id=1, swept_until=None))
        session.flush()
        return None
    return row.swept_until


def _set_watermark(session: Session, until: dt.datetime, now: dt.datetime, locked: int) -> None:
    session.execute(update(LockSweep).where(LockSweep.id == 1).values(
        swept_until=until, last_run_at=now, last_locked=LockSweep.last_locked + locked))


def _sweep_pg(session: Session, now: dt.datetime, grace_hours: int, chunk: int) -> list[int]:
    grace = dt.timedelta(hours=grace_hours)
    bound = now - grace  # nothing ending after this can be past its cut-off
    params = {"now": now, "grace": grace, "reason": AUTO_LOCK_REASON, "before": json.dumps({"is_locked": False}),
              "after": json.dumps({"is_locked": True}), "context": json.dumps({"grace_hours": grace_hours})}
    start = _watermark(session)
    session.execute(update(LockSweep).where(LockSweep.id == 1).values(last_run_at=now, last_locked=0))
    ids = list(session.scalars(_RELOCK_PG, {**params, "to": start or bound}))
    session.commit()
    low = start or dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    watermark = start  # advances while every candidate so far was due (or done)
    held = False       # a candidate not due yet: the watermark stays before it
    while low < bound:
        high = session.scalar(text(
            "SELECT ends_at FROM class_sessions WHERE ends_at > :low AND ends_at <= :bound "
            "ORDER BY ends_at OFFSET :skip LIMIT 1"), {"low": low, "bound": bound, "skip": chunk - 1}) or bound
        locked, waiting = session.execute(_SWEEP_CHUNK_PG, {**params, "from": low, "to": high}).one()
        ids += locked
        if not held:
            held = waiting is not None
            watermark = waiting - _TICK if waiting is not None else high
            _set_watermark(session, watermark, now, len(locked))
        session.commit()  # each chunk on its own: marks elsewhere never wait for the whole backlog
        low = high
    return ids


def _sweep_portable(session: Session, now: dt.datetime, grace_hours: int) -> list[int]:
    """SQLite (embedded default): the same rule and watermark, cut-offs computed in Python (no time zones)."""
    grace = dt.timedelta(hours=grace_hours)
    start = _watermark(session)
    stmt = (select(ClassSession.id, ClassSession.session_date, ClassSession.ends_at, ClassSession.is_locked,
                   ClassSession.relock_after, Institution.time_zone)
            .join(Institution, Institution.id == ClassSession.institution_id)
            .where(ClassSession.ends_at <= now - grace))
    if start is not None:
        stmt = stmt.where((ClassSession.ends_at > start) | ClassSession.relock_after.is_not(None))
    due, waiting = [], []
    for sid, day, ends_at, is_locked, relock_after, zone in session.execute(stmt):
        cutoff = marking.auto_lock_at(day, ends_at, zone, grace_hours)
        if is_locked or (relock_after is not None and relock_after > now):
            continue
        (due if cutoff <= now else waiting).append((sid, ends_at))
    ids = list(session.scalars(
        update(ClassSession).where(ClassSession.id.in_([sid for sid, _ in due]), ClassSession.is_locked.is_(False))
        .values(is_locked=True, locked_at=now, locked_by_id=None, lock_reason=AUTO_LOCK_REASON, relock_after=None)
        .returning(ClassSession.id)
    )) if due else []
    audit.record_many(session, [
        {"actor_id": None, "action": "session.auto_lock", "entity_type": "class_session", "entity_id": sid,
         "before": {"is_locked": False}, "after": {"is_locked": True}, "context": {"grace_hours": grace_hours}}
        for sid in ids
    ])
    until = min(ends_at for _, ends_at in waiting) - _TICK if waiting else now - grace
    _set_watermark(session, max(until, start) if start else until, now, len(ids))
    session.commit()
    return ids
