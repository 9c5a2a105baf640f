"""Locking: the lock rule, lock and unlock by hand, and the nightly sweep that records locks.

The rule (marking.locked_now) holds on its own: a register past its cut-off refuses marks whether or not
the nightly job ran. `is_locked` on a session means locked by hand. The job only *records* the locks the
rule made (session_lock_records: when it saw each; an audit row per chunk listing them) for reports.

The sweep's SQL, PostgreSQL and SQLite side by side, is in store.py. Speed (PostgreSQL): recording a lock
writes a narrow table of its own, never class_sessions (nine indexes, three of them GiST). The sweep finds due
sessions from a stored watermark on `ends_at` (lock_sweeps: every session ending at or before it is recorded),
so a normal night reads only the last day or two of sessions; a backlog goes in chunks, each one statement in
its own short transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.errors import Conflict, Locked, ValidationError
from core.i18n import N_
from core.models import ClassSession, Institution, LockSweep, SessionStatus, User

from . import marking, store
from .store import NOW_PARAM, OPEN_SESSION_SQL  # noqa: F401  (the lock rule in a writing statement)

log = logging.getLogger(__name__)

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
    session.execute(store.locked(session, select(ClassSession.id).where(ClassSession.id == class_session.id)))
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


def lock_past_sessions(session: Session, *, grace_hours: int = 24, now: dt.datetime | None = None,
                       chunk: int = SWEEP_CHUNK) -> list[int]:
    """Record the lock of every session past its cut-off (a row in session_lock_records, one audit row per
    chunk); one sweep at a time; a second run records nothing. A backlog goes in chunks of about `chunk`
    sessions, each its own short transaction, so marking elsewhere never waits for the whole sweep."""
    ids = store.sweep_locks(session, now or clock.now(), grace_hours, chunk)
    if ids:
        log.info("recorded the lock of %d sessions", len(ids))
    return ids
