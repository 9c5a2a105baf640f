"""Locking: the lock rule, lock and unlock by hand, and the nightly sweep that records locks.

The rule (marking.locked_now) holds on its own: a register past its cut-off refuses marks whether or not
the nightly job ran. `is_locked` on a session means locked by hand. The job only *records* the locks the
rule made (session_lock_records: when it saw each; an audit row per chunk listing them) for reports.

Speed (PostgreSQL): recording a lock writes a narrow table of its own, never class_sessions (nine indexes,
three of them GiST). The sweep finds due sessions from a stored watermark on `ends_at` (lock_sweeps:
every session ending at or before it is recorded), so a normal night reads only the last day or two of
sessions; a backlog goes in chunks, each one statement in its own short transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.errors import Conflict, Locked, ValidationError
from core.i18n import N_
from core.models import ClassSession, Institution, LockSweep, SessionLockRecord, SessionStatus, User
from core.models.base import UTCDateTime
from core.uow import unit_of_work

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
    # Locked by the rule: since its cut-off (or since the end of an unlock, if that came later).
    since = max(cutoff, s.relock_after) if s.relock_after else cutoff
    return LockState(locked, cutoff, s.locked_at if s.is_locked else (since if by_rule else None), by_rule)


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
        raise Conflict(N_("This session was cancelled: there is no register to mark."), code="session_cancelled")


def session_locked(state: LockState) -> Locked:
    message = (N_("This session is locked (its cut-off has passed): its register can no longer be changed. "
                  "Ask an administrator to unlock it.") if state.by_rule else
               N_("This session is locked (it was locked by an administrator): its register can no longer be "
                  "changed. Ask an administrator to unlock it."))
    return Locked(message, code="session_locked",
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
        raise ValidationError(exc.args[0], code="reason_required", details={"field": "reason"},
                              params=exc.args[1] if len(exc.args) > 1 else None) from None


def lock_row(session: Session, class_session: ClassSession) -> None:
    """Take the session row's lock (waits for marks in flight), then re-read it."""
    stmt = select(ClassSession.id).where(ClassSession.id == class_session.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    session.execute(stmt)
    session.refresh(class_session)


def lock_session(session: Session, user: User, class_session: ClassSession, reason: Any) -> ClassSession:
    """An admin locks a session by hand (audited), in the caller's unit of work. A locked one stays as it is."""
    why = _reason(reason)
    require(session, user, "attendance.lock")
    lock_row(session, class_session)
    if class_session.is_locked:
        return class_session
    now = clock.now()
    class_session.is_locked, class_session.locked_at = True, now
    class_session.locked_by_id, class_session.lock_reason, class_session.relock_after = user.id, why, None
    audit.record(session, actor_id=user.id, action="session.lock", entity_type="class_session",
                 entity_id=class_session.id, before={"is_locked": False}, after={"is_locked": True},
                 context={"reason": why})
    return class_session


def unlock_session(session: Session, user: User, class_session: ClassSession, zone: str, reason: Any,
                   relock: dt.datetime | None = None, *, grace_hours: int = 24) -> ClassSession:
    """Only admins unlock (audited), in the caller's unit of work. A session past its cut-off stays open until
    `relock`; without one, for `grace_hours` from now (an unlock the rule would undo at once would mean nothing)."""
    why = _reason(reason)
    require(session, user, "attendance.unlock")
    now = clock.now()
    if relock is not None and relock <= now:
        raise ValidationError(N_("relock_after must be in the future."), code="invalid_relock_after",
                              details={"field": "relock_after"})
    lock_row(session, class_session)
    state = lock_state(class_session, zone, grace_hours, now)
    if not state.locked:
        raise Conflict(N_("This session is not locked."), code="not_locked")
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
    return class_session


# ---------------------------------------------------------------------------------------------------------------
# The nightly sweep: record the locks the rule already enforces
# ---------------------------------------------------------------------------------------------------------------

def reopen_sweep(session: Session, earliest_ends_at: dt.datetime) -> None:
    """A session written with an end at or before the watermark (a past date scheduled or moved there)
    pulls the watermark back, so that the next sweep records its lock too."""
    session.execute(update(LockSweep).where(LockSweep.id == 1, LockSweep.swept_until >= earliest_ends_at)
                    .values(swept_until=earliest_ends_at - _TICK))


# One chunk, two statements. The first takes the one-sweep-at-a-time lock and finds the chunk's bounds:
# candidates are sessions ending in (lo, hi]; lo is the watermark (first chunk) or the last chunk's end; hi is
# the end of the `skip`+1-th session after lo (ties included) or the bound. Bounds known to the planner let the
# second find the chunk's sessions and their records by index (bounds computed inside one statement made it
# hash all records, ~600,000, every night). Its commit doesn't wait for the disk: a record lost in a crash is
# only the rule's lock not yet recorded (the rule holds regardless), and the watermark is lost with it, so the
# next sweep records it again.
_SWEEP_BOUNDS_PG = text("""
SELECT pg_try_advisory_xact_lock(:key), set_config('synchronous_commit', 'off', true), lo,
       COALESCE((SELECT ends_at FROM class_sessions WHERE ends_at > COALESCE(lo, '-infinity') AND ends_at <= :bound
                  ORDER BY ends_at OFFSET :skip LIMIT 1), :bound) AS hi
  FROM (SELECT COALESCE(CAST(:lo AS timestamptz), (SELECT swept_until FROM lock_sweeps WHERE id = 1)) AS lo) AS w
""")

# A session's cut-off is the end of its local day (in its institution's zone) + grace, or its end + grace if it
# ends later: never more than a day + grace after its end, so one that ended before `surely` is past it without
# the time-zone arithmetic (a backlog is mostly such sessions).
# Due ones not recorded yet get a record (a plain insert: only this sweep writes records, one at a time), those
# unlocked since their record get it renewed — a narrow table of its own, so class_sessions and its nine indexes
# are not touched — and the chunk one audit row listing them. Sessions behind the watermark that
# an admin unlocked until a time now past are recorded with the first chunk. The watermark moves to hi, or to
# just before the earliest candidate not due yet (its local day + grace is still ahead), and stays there.
_SWEEP_CHUNK_PG = text("""
WITH sessions AS (
    SELECT s.id, s.ends_at, s.is_locked, s.relock_after,
           (s.ends_at <= :surely OR GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone))
                                    + :grace <= :now) AS past_cutoff
      FROM class_sessions AS s JOIN institutions AS i ON i.id = s.institution_id
     WHERE s.ends_at > COALESCE(CAST(:lo AS timestamptz), '-infinity') AND s.ends_at <= :hi
    UNION ALL
    SELECT s.id, s.ends_at, s.is_locked, s.relock_after,
           GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone)) + :grace <= :now
      FROM class_sessions AS s JOIN institutions AS i ON i.id = s.institution_id
     WHERE :first AND s.relock_after IS NOT NULL AND s.relock_after <= :now
       AND s.ends_at <= COALESCE(CAST(:lo AS timestamptz), '-infinity')
), due AS (
    SELECT c.id, r.session_id IS NOT NULL AS again
      FROM sessions AS c LEFT JOIN session_lock_records AS r ON r.session_id = c.id
     WHERE NOT c.is_locked AND c.past_cutoff AND (c.relock_after IS NULL OR c.relock_after <= :now)
       AND (r.session_id IS NULL OR r.locked_at < c.relock_after)
), inserted AS (
    INSERT INTO session_lock_records (session_id, locked_at) SELECT id, :now FROM due WHERE NOT again
    RETURNING session_id
), relocked AS (
    UPDATE session_lock_records AS r SET locked_at = :now FROM due WHERE due.again AND r.session_id = due.id
    RETURNING r.session_id
), ids AS (
    SELECT coalesce(array_agg(session_id ORDER BY session_id), '{}') AS ids
      FROM (SELECT session_id FROM inserted UNION ALL SELECT session_id FROM relocked) AS recorded
), audited AS (
    INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context)
    SELECT :now, NULL, 'session.auto_lock', 'lock_sweep', 1, NULL,
           jsonb_build_object('locked', cardinality(ids.ids), 'session_ids', to_jsonb(ids.ids)),
           jsonb_build_object('grace_hours', CAST(:grace_hours AS integer), 'ends_after', CAST(:lo AS timestamptz),
                              'ends_until', CAST(:hi AS timestamptz))
      FROM ids WHERE cardinality(ids.ids) > 0
), waiting AS (
    SELECT min(ends_at) AS at FROM sessions
     WHERE NOT past_cutoff AND NOT is_locked AND (relock_after IS NULL OR relock_after <= :now)
), moved AS (
    INSERT INTO lock_sweeps (id, swept_until, last_run_at, last_locked)
    SELECT 1, COALESCE(waiting.at - interval '1 microsecond', CAST(:hi AS timestamptz)), :now, cardinality(ids.ids)
      FROM waiting, ids
        ON CONFLICT (id) DO UPDATE SET
           swept_until = CASE WHEN :held THEN lock_sweeps.swept_until ELSE EXCLUDED.swept_until END,
           last_run_at = EXCLUDED.last_run_at,
           last_locked = CASE WHEN :first THEN EXCLUDED.last_locked
                              ELSE lock_sweeps.last_locked + EXCLUDED.last_locked END
)
SELECT ids.ids, waiting.at FROM ids, waiting
""")


def lock_past_sessions(session: Session, *, grace_hours: int = 24, now: dt.datetime | None = None,
                       chunk: int = SWEEP_CHUNK) -> list[int]:
    """Record the lock of every session past its cut-off (a row in session_lock_records, one audit row per
    chunk); one sweep at a time; a second run records nothing. A backlog goes in chunks of about `chunk`
    sessions, each its own short transaction, so marking elsewhere never waits for the whole sweep."""
    now = now or clock.now()
    if session.get_bind().dialect.name == "postgresql":
        ids = _sweep_pg(session, now, grace_hours, chunk)
    else:
        with unit_of_work(session):
            ids = _sweep_portable(session, now, grace_hours)
    if ids:
        log.info("recorded the lock of %d sessions", len(ids))
    return ids


def _sweep_pg(session: Session, now: dt.datetime, grace_hours: int, chunk: int) -> list[int]:
    bound = now - dt.timedelta(hours=grace_hours)  # nothing ending after this can be past its cut-off
    params = {"now": now, "bound": bound, "grace": dt.timedelta(hours=grace_hours), "grace_hours": grace_hours,
              "skip": chunk - 1, "surely": bound - dt.timedelta(days=1)}
    ids: list[int] = []
    lo: dt.datetime | None = None
    held = False  # a candidate not due yet was seen: the watermark stays before it
    first = True
    while first or (lo is not None and lo < bound):
        with unit_of_work(session):  # each chunk on its own: marks elsewhere never wait for the whole backlog
            # One sweep at a time, chunk by chunk: a sweep that finds another one running leaves the rest to it.
            mine, _, start, hi = session.execute(_SWEEP_BOUNDS_PG, {**params, "key": LOCK_ADVISORY_KEY, "lo": lo}).one()
            if not mine:
                break
            locked, waiting = session.execute(_SWEEP_CHUNK_PG, {**params, "lo": start, "hi": hi, "first": first,
                                                                "held": held}).one()
        ids += locked
        held = held or waiting is not None
        lo, first = hi, False
    return ids


def _sweep_portable(session: Session, now: dt.datetime, grace_hours: int) -> list[int]:
    """SQLite (embedded default): the same rule and watermark, cut-offs computed in Python (no time zones)."""
    grace = dt.timedelta(hours=grace_hours)
    sweep = session.get(LockSweep, 1) or LockSweep(id=1, last_locked=0)
    session.add(sweep)
    start = sweep.swept_until
    stmt = (select(ClassSession.id, ClassSession.session_date, ClassSession.ends_at, ClassSession.is_locked,
                   ClassSession.relock_after, Institution.time_zone, SessionLockRecord.locked_at)
            .join(Institution, Institution.id == ClassSession.institution_id)
            .outerjoin(SessionLockRecord, SessionLockRecord.session_id == ClassSession.id)
            .where(ClassSession.ends_at <= now - grace))
    if start is not None:
        stmt = stmt.where((ClassSession.ends_at > start) | ClassSession.relock_after.is_not(None))
    due, waiting = [], []
    for sid, day, ends_at, is_locked, relock_after, zone, recorded_at in session.execute(stmt):
        if is_locked or (relock_after is not None and relock_after > now):
            continue
        if marking.auto_lock_at(day, ends_at, zone, grace_hours) > now:
            waiting.append(ends_at)
        elif recorded_at is None or (relock_after is not None and recorded_at < relock_after):
            due.append(sid)
    for sid in due:
        session.merge(SessionLockRecord(session_id=sid, locked_at=now))
    if due:
        audit.record(session, actor_id=None, action="session.auto_lock", entity_type="lock_sweep", entity_id=1,
                     after={"locked": len(due), "session_ids": sorted(due)}, context={"grace_hours": grace_hours})
    until = min(waiting) - _TICK if waiting else now - grace
    sweep.swept_until = max(until, start) if start else until
    sweep.last_run_at, sweep.last_locked = now, len(due)
    return sorted(due)
