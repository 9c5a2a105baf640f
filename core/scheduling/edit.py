"""Edit: change, reschedule or cancel one session, with the same conflict checks as the generator."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import audit, clock
from core.attendance import locking
from core.attendance.roster import marked_counts
from core.errors import Conflict, Locked, ValidationError
from core.i18n import N_
from core.models import ClassSession, SessionStatus, User
from core.uow import unit_of_work

from .apply import in_one_transaction
from .clashes import describe_all
from .commands import CancelSession, EditSession
from .planner import PlannedSession, Slot, check
from .reads import busy_sessions, check_resources, institution_zone, visible_session

MOVES = ("session_date", "start_time", "end_time", "room_id", "instructor_id")
TEXTS = ("title", "location", "notes")


def _snapshot(s: ClassSession) -> dict[str, Any]:
    return {"session_date": s.session_date.isoformat(), "start_time": s.start_time.strftime("%H:%M"),
            "end_time": s.end_time.strftime("%H:%M"), "room_id": s.room_id, "instructor_id": s.instructor_id,
            "session_type": s.session_type.value, "title": s.title, "location": s.location, "notes": s.notes,
            "status": s.status.value}


def edit_session(session: Session, user: User, session_id: int, command: EditSession, *, grace_hours: int = 24
                 ) -> ClassSession:
    """Edit or reschedule one session; moving a locked one is refused, a clash is a Conflict naming it."""
    s = visible_session(session, user, session_id)
    if s.status == SessionStatus.CANCELLED:
        raise Conflict(N_("This session is cancelled; it can't be edited."), code="session_cancelled")
    given = command.changed()
    new = {name: getattr(command, name) if name in given else getattr(s, name) for name in MOVES}
    if new["end_time"] <= new["start_time"]:
        raise ValidationError(N_("The session must end after it starts."), code="invalid_changes")
    moving = {name for name in MOVES if name in given and new[name] != getattr(s, name)}
    zone = institution_zone(session, s.institution_id)
    if moving and locking.lock_state(s, zone, grace_hours).locked:
        raise Locked(N_("This session is locked: it can't be rescheduled or moved to another room or instructor."),
                     code="session_locked")
    session_type = command.session_type if "session_type" in given and command.session_type else s.session_type
    planned = PlannedSession(s.cohort_id, new["session_date"], s.slot, new["start_time"], new["end_time"],
                             clock.local_to_utc(new["session_date"], new["start_time"], zone),
                             clock.local_to_utc(new["session_date"], new["end_time"], zone),
                             session_type, new["room_id"], new["instructor_id"])
    if moving:
        check_resources(session, s.institution_id,
                        [Slot(planned.start_time, planned.end_time, session_type,
                              planned.room_id if "room_id" in moving else None,
                              planned.instructor_id if "instructor_id" in moving else None)])
        result = check([planned], busy_sessions(session, [planned], exclude_id=s.id))
        if clashes := describe_all(session, zone, result):
            first = clashes[0].clashes[0]
            raise Conflict(first.template, params=first.params, code="schedule_conflict",
                           details={"conflicts": [c.as_record() for c in clashes]})

    def write() -> None:
        before = _snapshot(s)
        s.session_date, s.start_time, s.end_time = planned.session_date, planned.start_time, planned.end_time
        if planned.ends_at != s.ends_at:  # moved into the past: the next lock sweep records it
            locking.reopen_sweep(session, planned.ends_at)
        s.starts_at, s.ends_at = planned.starts_at, planned.ends_at
        s.room_id, s.instructor_id, s.session_type = planned.room_id, planned.instructor_id, session_type
        for name in TEXTS:
            if name in given:
                setattr(s, name, (getattr(command, name) or "").strip() or None)
        s.updated_at = clock.now()
        audit.record(session, actor_id=user.id, action="session.reschedule" if moving else "session.edit",
                     entity_type="class_session", entity_id=s.id, before=before, after=_snapshot(s))
        session.flush()

    in_one_transaction(session, [planned], zone, write, exclude_id=session_id)
    session.refresh(s)
    return s


def cancel_session(session: Session, user: User, session_id: int, command: CancelSession, *,
                   grace_hours: int = 24) -> ClassSession:
    """Cancel one session (it frees its room and instructor). Locked or marked sessions stay as they are."""
    with unit_of_work(session):
        s = visible_session(session, user, session_id)
        if s.status == SessionStatus.CANCELLED:
            return s
        if locking.lock_state(s, institution_zone(session, s.institution_id), grace_hours).locked:
            raise Locked(N_("This session is locked: it can't be cancelled."), code="session_locked")
        if marked := marked_counts(session, [s.id]).get(s.id, 0):
            raise Conflict(N_("This session already has %(count)s attendance record(s); it can't be cancelled."),
                           code="session_marked", params={"count": marked})
        before = _snapshot(s)
        s.status = SessionStatus.CANCELLED
        s.updated_at = clock.now()
        reason = (command.reason or "").strip()
        if reason:
            s.notes = ((s.notes + "\n") if s.notes else "") + f"Cancelled: {reason}"
        audit.record(session, actor_id=user.id, action="session.cancel", entity_type="class_session",
                     entity_id=s.id, before=before, after=_snapshot(s), context={"reason": reason} if reason else None)
    return s
