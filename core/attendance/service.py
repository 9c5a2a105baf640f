"""Attendance services: read a register, mark it (one set-based upsert that checks the lock rule itself),
lock and unlock by hand, evidence files and record history. Each public function is one transaction and
commits it. The lock rule and the nightly sweep live in locking.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session, contains_eager, joinedload

from core import audit, clock
from core.access.scoping import can, require, session_filter
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.models import ClassSession, Cohort, Institution, SessionStatus, User
from core.uow import unit_of_work

from . import locking, marking, roster
from .commands import LockSession, MarkRegister, UnlockSession
from .locking import LockState
from .roster import RecordSpec, RegisterRow

log = logging.getLogger(__name__)



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

    @classmethod
    def of(cls, s: ClassSession, cohort: Cohort, lock: LockState) -> SessionInfo:
        return cls(id=s.id, cohort_id=cohort.id, cohort_name=cohort.name, cohort_type=cohort.cohort_type.value,
                   session_date=s.session_date, start_time=s.start_time, end_time=s.end_time,
                   starts_at=s.starts_at, ends_at=s.ends_at, session_type=s.session_type.value, title=s.title,
                   status=s.status.value, room=s.room.name if s.room else None,
                   instructor=s.instructor.full_name if s.instructor else None, is_locked=lock.locked,
                   locked_at=lock.locked_at,
                   lock_reason=s.lock_reason or (locking.AUTO_LOCK_REASON if lock.by_rule else None),
                   relock_after=s.relock_after)


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


@dataclass
class MarkOutcome:
    register: Register
    changed: list[int]
    conflicts: list[dict[str, Any]]

    @property
    def changed_rows(self) -> list[RegisterRow]:
        changed = set(self.changed)
        return [r for r in self.register.rows if r.member_id in changed]


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


def _load(session: Session, user: User, session_id: int, *, share_lock: bool = False
          ) -> tuple[ClassSession, Cohort, str]:
    """The session (with cohort, room, instructor) and its institution's zone in one query, within the
    user's scope (404 otherwise). With `share_lock` the session row is read FOR SHARE (PostgreSQL), so a
    concurrent lock waits for this transaction, or this transaction sees the lock."""
    stmt = _session_query().where(ClassSession.id == session_id, session_filter(user))
    if share_lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True, of=ClassSession.__table__)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(N_("No such session, or it is not one you can see."))
    class_session, zone = row
    return class_session, class_session.cohort, zone or "UTC"


def _zone(session: Session, class_session: ClassSession) -> str:
    return session.scalar(select(Institution.time_zone).where(Institution.id == class_session.institution_id)) or "UTC"


def open_session(session: Session, user: User, session_id: int, *, for_mark: bool = False
                 ) -> tuple[ClassSession, Cohort, RecordSpec]:
    """The session and its cohort, if `user` may see (or mark) it: 403 without the right, 404 outside their scope."""
    class_session, cohort, _ = _load(session, user, session_id)
    view_perm, mark_perm = roster.permissions_for(cohort)
    require(session, user, mark_perm if for_mark else view_perm)
    return class_session, cohort, roster.spec_for(cohort)


def _register(session: Session, user: User, class_session: ClassSession, cohort: Cohort, grace_hours: int,
              zone: str | None = None, rows: list[RegisterRow] | None = None, language: str = "en") -> Register:
    zone = zone or _zone(session, class_session)
    if rows is None:
        rows = roster.load_register(session, cohort, class_session.id, language)
    _, mark_perm = roster.permissions_for(cohort)
    lock = locking.lock_state(class_session, zone, grace_hours)
    return Register(
        class_session=class_session, cohort=cohort, info=SessionInfo.of(class_session, cohort, lock),
        spec=roster.spec_for(cohort), rows=rows, time_zone=zone, auto_lock_at=lock.cutoff,
        can_mark=can(session, user, mark_perm) and class_session.status != SessionStatus.CANCELLED,
        can_lock=can(session, user, "attendance.lock"), can_unlock=can(session, user, "attendance.unlock"),
        counts=marking.status_counts(r.status for r in rows if r.active or r.status),
    )


def get_register(session: Session, user: User, session_id: int, *, grace_hours: int = 24, language: str = "en"
                 ) -> Register:
    """The session's register; names in `language`'s order."""
    class_session, cohort, zone = _load(session, user, session_id)
    require(session, user, roster.permissions_for(cohort)[0])
    return _register(session, user, class_session, cohort, grace_hours, zone, language=language)


def _upsert_sql(spec: RecordSpec, postgres: bool, audited: bool = False) -> str:
    date_col, date_val = (", record_date", ", :record_date") if spec.has_record_date else ("", "")
    changed = ("(r.status, r.minutes_late, r.notes) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late, "
               "EXCLUDED.notes)" if postgres else
               "NOT (r.status IS excluded.status AND r.minutes_late IS excluded.minutes_late "
               "AND r.notes IS excluded.notes)")
    # The lock rule is checked by the statement that writes: a session locked meanwhile gets nothing.
    if postgres:
        source = (f"SELECT i.member_id, :session_id{date_val}, i.status, i.minutes_late, i.notes, :actor, :now, "
                  f"i.next_version, :now, :now FROM i WHERE {locking.OPEN_SESSION_SQL}")
    else:
        source = (f"SELECT :member_id, :session_id{date_val}, :status, :minutes_late, :notes, :actor, :now, "
                  f":next_version, :now, :now WHERE {locking.OPEN_SESSION_SQL}")
    # version guard: a row is updated only if it still has the version read under FOR UPDATE (for a row that
    # did not exist, 0 — so a row inserted concurrently is reported as a conflict, never silently overwritten).
    upsert = (
        f"INSERT INTO {spec.table} AS r ({spec.key}, session_id{date_col}, status, minutes_late, notes, "
        f"marked_by_id, marked_at, version, created_at, updated_at) {source} "
        f"ON CONFLICT {spec.conflict_target} DO UPDATE SET status = EXCLUDED.status, "
        "minutes_late = EXCLUDED.minutes_late, notes = EXCLUDED.notes, marked_by_id = EXCLUDED.marked_by_id, "
        "marked_at = EXCLUDED.marked_at, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at "
        f"WHERE r.version = EXCLUDED.version - 1 AND {changed} "
    )
    if not postgres:
        return upsert + f"RETURNING {spec.key}, id, version"
    # The whole register travels as one JSON parameter: PostgreSQL parses it far faster than the driver
    # can quote six text-format arrays of 500 elements each.
    inputs = ("WITH i AS (SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS i(member_id integer, "
              "status varchar, minutes_late integer, notes text, next_version integer, before jsonb)), ")
    if not audited:
        return inputs + f"u AS ({upsert} RETURNING {spec.key}, id, version) SELECT * FROM u"
    # The audit rows go in with the marks, in the same statement: one round trip for the whole register.
    return inputs + (
        f"u AS ({upsert} RETURNING {spec.key}, id, version, status, minutes_late, notes), "
        "a AS (INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context) "
        f"SELECT :now, CAST(:actor AS integer), 'attendance.mark', '{spec.entity_type}', u.id, i.before, "
        "jsonb_build_object('status', u.status, 'minutes_late', u.minutes_late, 'notes', u.notes), "
        f"jsonb_build_object('session_id', CAST(:session_id AS integer), '{spec.key}', u.{spec.key}, "
        f"'version', u.version) FROM u JOIN i ON i.member_id = u.{spec.key}) "
        f"SELECT {spec.key}, id, version FROM u"
    )


def upsert_marks(session: Session, spec: RecordSpec, class_session: ClassSession, marks: Sequence[marking.Mark],
                 seen_versions: dict[int, int], actor_id: int | None, now: dt.datetime, open_params: dict[str, Any],
                 befores: dict[int, dict[str, Any] | None] | None = None) -> dict[int, tuple[int, int]]:
    """Write `marks` in one statement; returns {member_id: (record_id, version)} of the rows that changed.
    Nothing is written unless the session is open (`open_params`: locking.open_session_params) when it runs.

    With `befores` (member id → values before) on PostgreSQL, the same statement also writes an audit event
    (from → to) for every row it changed; the caller audits otherwise (see `audits_in_upsert`).
    """
    if not marks:
        return {}
    postgres = session.get_bind().dialect.name == "postgresql"
    sql = text(_upsert_sql(spec, postgres, audited=befores is not None)).bindparams(locking.NOW_PARAM)
    common: dict[str, Any] = {**open_params, "session_id": class_session.id, "actor": actor_id, "now": now,
                              "record_date": class_session.session_date}
    if postgres:
        rows = [{"member_id": m.member_id, "status": m.status, "minutes_late": m.minutes_late, "notes": m.notes,
                 "next_version": seen_versions.get(m.member_id, 0) + 1,
                 "before": befores.get(m.member_id) if befores else None} for m in marks]
        params = {**common, "rows": orjson.dumps(rows).decode()}
        return {row[0]: (row[1], row[2]) for row in session.execute(sql, params)}
    written: dict[int, tuple[int, int]] = {}
    for m in marks:  # SQLite (embedded default): the same statement row by row, same guards
        row = session.execute(sql, {**common, "member_id": m.member_id, "status": m.status,
                                    "minutes_late": m.minutes_late, "notes": m.notes,
                                    "next_version": seen_versions.get(m.member_id, 0) + 1}).first()
        if row is not None:
            written[row[0]] = (row[1], row[2])
    return written


def audits_in_upsert(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _mark_values(values: tuple[str, int | None, str | None] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {"status": values[0], "minutes_late": values[1], "notes": values[2]}


def mark(session: Session, user: User, command: MarkRegister, *, grace_hours: int = 24, language: str = "en"
         ) -> MarkOutcome:
    """Validate every record, then write the changed ones in one upsert, with an audit event each.

    422 listing every bad record (nothing written), and for PRESENT, LATE or ABSENT before the session starts
    (`session_not_started`; EXCUSED may come in advance); 423 `session_locked` when the session is locked by
    hand or past its cut-off (checked again by the writing statement itself); per-record conflicts
    when `expected_version` no longer matches (those records are left as they are). The register is read
    once; the upsert only updates rows still at the version read, so a row another request changed in
    between is reported as a conflict, never silently overwritten.
    """
    with unit_of_work(session):
        return _mark(session, user, command, grace_hours, language)


def _mark(session: Session, user: User, command: MarkRegister, grace_hours: int, language: str) -> MarkOutcome:
    class_session, cohort, zone = _load(session, user, command.session_id, share_lock=True)
    spec = roster.spec_for(cohort)
    require(session, user, roster.permissions_for(cohort)[1])
    locking.refuse_if_locked(class_session, zone, grace_hours)
    rows = roster.load_register(session, cohort, class_session.id, language)
    members = {r.member_id: r.active for r in rows}
    marks, errors = marking.parse_marks([r.raw() for r in command.records], spec.kind, members)
    if errors:
        raise ValidationError(
            N_("%(count)s record(s) are not valid; nothing was saved."),
            params={"count": len({e.index for e in errors})}, details={"records": [e.as_dict() for e in errors]},
        )
    current = {r.member_id: roster.CurrentMark(r.record_id, r.status, r.minutes_late, r.notes, r.version,
                                               r.evidence_file_id)
               for r in rows if r.record_id is not None and r.status is not None}
    if command.mark_all_present:
        marks = marking.fill_unmarked(marks, [r.member_id for r in rows if r.active], current.keys())
    now = clock.now()
    if class_session.starts_at > now:
        _refuse_before_start(class_session, marks, len(command.records))

    conflicts: list[dict[str, Any]] = []
    to_write: list[marking.Mark] = []
    for m in marks:
        stored = current.get(m.member_id)
        if marking.version_conflict(m, stored.version if stored else None):
            conflicts.append(_conflict(spec, m, stored))
        elif marking.needs_write(m, stored.values() if stored else None):
            to_write.append(m)

    befores = {m.member_id: _mark_values(current[m.member_id].values()) if m.member_id in current else None
               for m in to_write}
    in_statement = audits_in_upsert(session)
    written = upsert_marks(session, spec, class_session, to_write, {k: v.version for k, v in current.items()},
                           user.id, now, locking.open_session_params(class_session, zone, grace_hours, now),
                           befores if in_statement else None)
    if to_write and not written:  # the statement found the session locked (its cut-off passed just now)
        locking.refuse_if_locked(class_session, zone, grace_hours)
    for m in to_write:
        if m.member_id not in written:  # changed by someone else between our read and our write
            conflicts.append(_conflict(spec, m, current.get(m.member_id), concurrent=True))
    if not in_statement:
        audit.record_many(session, [
            {"actor_id": user.id, "action": "attendance.mark", "entity_type": spec.entity_type,
             "entity_id": record_id, "before": befores[m.member_id], "after": _mark_values(m.values()),
             "context": {"session_id": class_session.id, spec.key: m.member_id, "version": version}}
            for m in to_write if m.member_id in written
            for record_id, version in [written[m.member_id]]
        ])
    # The register as it now stands: what we read, with what we wrote (no second read). Built before the
    # unit of work commits, which expires every loaded object.
    by_member = {m.member_id: m for m in to_write if m.member_id in written}
    updated = [_with_mark(r, by_member[r.member_id], written[r.member_id], user.full_name, now)
               if r.member_id in by_member else r for r in rows]
    register = _register(session, user, class_session, cohort, grace_hours, zone, updated, language)
    return MarkOutcome(register, changed=sorted(written), conflicts=conflicts)


def _refuse_before_start(class_session: ClassSession, marks: Sequence[marking.Mark], requested: int) -> None:
    indexes = {m.member_id: i if i < requested else -1 for i, m in enumerate(marks)}
    errors = marking.not_started_errors(marks, indexes)
    if errors:
        raise ValidationError(
            N_("This session starts at %(starts_at)s: present, late and absent can be recorded only once it has "
               "started (excused may be recorded in advance). Nothing was saved."),
            params={"starts_at": class_session.starts_at.isoformat()}, code="session_not_started",
            details={"records": [e.as_dict() for e in errors], "starts_at": class_session.starts_at.isoformat()})


def _with_mark(row: roster.RegisterRow, mark: marking.Mark, written: tuple[int, int], by: str,
               at: dt.datetime) -> roster.RegisterRow:
    # The constructor, not dataclasses.replace: this runs once per trainee on every bulk mark.
    return roster.RegisterRow(row.member_id, row.name, row.detail, row.active, written[0], mark.status,
                              mark.minutes_late, mark.notes, row.evidence_file_id, by, at, written[1])


def _conflict(spec: RecordSpec, m: marking.Mark, stored: roster.CurrentMark | None, concurrent: bool = False
              ) -> dict[str, Any]:
    return {spec.key: m.member_id, "id": m.member_id, "expected_version": m.expected_version,
            "current_version": stored.version if stored else 0,
            "current": _mark_values(stored.values()) if stored else None,
            "reason": "changed_concurrently" if concurrent else "version_mismatch",
            "message": "Someone else changed this record since you loaded it; it was not overwritten."}


# ---------------------------------------------------------------------------------------------------------------
# Locking by hand (the rule and the nightly sweep: locking.py)
# ---------------------------------------------------------------------------------------------------------------

def lock_session(session: Session, user: User, session_id: int, command: LockSession) -> ClassSession:
    """An admin locks a session by hand (audited). Locking a locked session changes nothing."""
    with unit_of_work(session):
        class_session, _, _ = open_session(session, user, session_id)
        return locking.lock_session(session, user, class_session, command.reason)


def unlock_session(session: Session, user: User, session_id: int, command: UnlockSession, *,
                   grace_hours: int = 24) -> ClassSession:
    """Only admins unlock (audited); a session past its cut-off stays open until `relock_after`."""
    relock = command.relock_after.astimezone(dt.UTC) if command.relock_after else None
    with unit_of_work(session):
        class_session, cohort, zone = _load(session, user, session_id)
        require(session, user, roster.permissions_for(cohort)[0])
        return locking.unlock_session(session, user, class_session, zone, command.reason, relock,
                                      grace_hours=grace_hours)
