"""Reading a register: the session in the user's scope, its roster with the marks, the lock rule's state and what
the user may do with it. (Marking it: marks.py.)"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from core.access.scoping import can, require, session_filter
from core.collation import sql_language
from core.errors import NotFound
from core.i18n import N_
from core.models import ClassSession, Cohort, Institution, SessionStatus, User

from . import locking, marking, roster, store
from .locking import LockState
from .roster import RecordSpec, RegisterRow

ROSTER_KINDS = ("public", "corporate")


@dataclass(frozen=True)
class SessionInfo:
    """A snapshot of the session and its cohort (plain values: still valid after the transaction ends)."""

    id: int
    cohort_id: int
    cohort_name: str
    cohort_type: str
    session_date: dt.date
    start_time: dt.time
    end_time: dt.time
    starts_at: dt.datetime
    ends_at: dt.datetime
    session_type: str
    title: str | None
    status: str
    room: str | None
    instructor: str | None
    is_locked: bool                 # the rule: by hand, or past the cut-off (whether or not the job ran)
    locked_at: dt.datetime | None
    lock_reason: str | None
    relock_after: dt.datetime | None
    time_zone: str                  # the institution's
    auto_lock_at: dt.datetime       # the cut-off

    @classmethod
    def of(cls, s: ClassSession, cohort: Cohort, lock: LockState, zone: str) -> SessionInfo:
        return cls(id=s.id, cohort_id=cohort.id, cohort_name=cohort.name, cohort_type=cohort.cohort_type.value,
                   session_date=s.session_date, start_time=s.start_time, end_time=s.end_time,
                   starts_at=s.starts_at, ends_at=s.ends_at, session_type=s.session_type.value, title=s.title,
                   status=s.status.value, room=s.room.name if s.room else None,
                   instructor=s.instructor.full_name if s.instructor else None, is_locked=lock.locked,
                   locked_at=lock.locked_at,
                   lock_reason=s.lock_reason or (locking.AUTO_LOCK_REASON if lock.by_rule else None),
                   relock_after=s.relock_after, time_zone=zone, auto_lock_at=lock.cutoff)


@dataclass
class Register:
    class_session: ClassSession
    cohort: Cohort
    info: SessionInfo
    spec: RecordSpec
    rows: list[RegisterRow]
    time_zone: str
    auto_lock_at: dt.datetime       # the cut-off
    can_mark: bool
    can_lock: bool
    can_unlock: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def editable(self) -> bool:
        return self.can_mark and not self.info.is_locked

    @property
    def key(self) -> str:
        """The member key of this cohort's records: enrolment_id (public) or trainee_id (corporate)."""
        return self.spec.key

    @property
    def permissions(self) -> Permissions:
        return Permissions(mark=self.editable, lock=self.can_lock, unlock=self.can_unlock)


@dataclass(frozen=True)
class Permissions:
    """What the reader may do with the register now: mark (allowed and not locked), lock, unlock."""

    mark: bool
    lock: bool
    unlock: bool


@functools.cache
def _session_query() -> Select[Any]:
    """What `_load` reads, less the session and the user's scope; built once (its loader options cost more
    to build than the query takes to run)."""
    return (select(ClassSession, Institution.time_zone)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .join(Institution, Institution.id == ClassSession.institution_id)
            # The cohort from the join the scope needs; of the instructor, only the name the register shows.
            .options(contains_eager(ClassSession.cohort).lazyload(Cohort.facilitators),
                     joinedload(ClassSession.instructor).load_only(User.full_name).lazyload(User.memberships)))


def load_session(session: Session, user: User, session_id: int, *, share_lock: bool = False
          ) -> tuple[ClassSession, Cohort, str]:
    """The session (with cohort, room, instructor) and its institution's zone in one query, within the
    user's scope (404 otherwise). With `share_lock` the session row is read FOR SHARE (store.locked), so a
    concurrent lock waits for this transaction, or this transaction sees the lock."""
    stmt = _in_scope(user, session_id)
    if share_lock:
        stmt = store.locked(session, stmt, read=True, of=ClassSession.__table__)
    return _found(session.execute(stmt).first())


def _in_scope(user: User, session_id: int) -> Select[Any]:
    return _session_query().where(ClassSession.id == session_id, session_filter(user))


def _found(row: Any) -> tuple[ClassSession, Cohort, str]:
    if row is None:
        raise NotFound(N_("No such session, or it is not one you can see."))
    class_session, zone = row
    return class_session, class_session.cohort, zone or "UTC"


@functools.cache
def _rosters(language: str) -> tuple[tuple[Select[Any], tuple[Any, ...]], ...]:
    """Both kinds of register, correlated to the session query's session and cohort (store.first_with_rosters),
    built once per language."""
    return tuple((roster.members_select(kind, ClassSession.id, Cohort.id, ClassSession.session_date)
                  .correlate(ClassSession, Cohort), tuple(roster.member_order(kind, language)))
                 for kind in ROSTER_KINDS)


def _zone(session: Session, class_session: ClassSession) -> str:
    return session.scalar(select(Institution.time_zone).where(Institution.id == class_session.institution_id)) or "UTC"


def open_session(session: Session, user: User, session_id: int, *, for_mark: bool = False
                 ) -> tuple[ClassSession, Cohort, RecordSpec]:
    """The session and its cohort, if `user` may see (or mark) it: 403 without the right, 404 outside their scope."""
    class_session, cohort, _ = load_session(session, user, session_id)
    view_perm, mark_perm = roster.permissions_for(cohort)
    require(session, user, mark_perm if for_mark else view_perm)
    return class_session, cohort, roster.spec_for(cohort)


def build_register(session: Session, user: User, class_session: ClassSession, cohort: Cohort, grace_hours: int,
              zone: str | None = None, rows: list[RegisterRow] | None = None, language: str = "en") -> Register:
    zone = zone or _zone(session, class_session)
    if rows is None:
        rows = roster.load_register(session, cohort, class_session.id, language)
    _, mark_perm = roster.permissions_for(cohort)
    lock = locking.lock_state(class_session, zone, grace_hours)
    return Register(
        class_session=class_session, cohort=cohort, info=SessionInfo.of(class_session, cohort, lock, zone),
        spec=roster.spec_for(cohort), rows=rows, time_zone=zone, auto_lock_at=lock.cutoff,
        can_mark=can(session, user, mark_perm) and class_session.status != SessionStatus.CANCELLED,
        can_lock=can(session, user, "attendance.lock"), can_unlock=can(session, user, "attendance.unlock"),
        counts=marking.status_counts(r.status for r in rows if r.active or r.status),
    )


def get_register(session: Session, user: User, session_id: int, *, grace_hours: int = 24, language: str = "en"
                 ) -> Register:
    """The session's register; names in `language`'s order. The session, the user's scope and the roster come in
    one round trip where the database allows it."""
    row, rosters = store.first_with_rosters(session, _in_scope(user, session_id), _rosters(sql_language(language)))
    class_session, cohort, zone = _found(row)
    require(session, user, roster.permissions_for(cohort)[0])
    rows = None
    if rosters is not None:
        rows = [roster.register_row_from_json(r) for r in rosters[ROSTER_KINDS.index(roster.spec_for(cohort).kind)]]
    return build_register(session, user, class_session, cohort, grace_hours, zone, rows=rows, language=language)
