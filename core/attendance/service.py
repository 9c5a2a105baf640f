"""Attendance services: read a register, mark it (one set-based upsert), lock and unlock, lock past sessions,
evidence files and record history. Each public function is one transaction and commits it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import filetype
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, joinedload

from core import audit, clock
from core.access.scoping import can, require, session_filter
from core.errors import Conflict, Locked, NotFound, ValidationError
from core.models import AuditEvent, ClassSession, Cohort, EvidenceFile, Institution, SessionStatus, User
from core.storage import PrivateStorage
from core.uow import unit_of_work

from . import marking, roster
from .commands import LockSession, MarkRegister, UnlockSession
from .roster import RecordSpec, RegisterRow

log = logging.getLogger(__name__)

EVIDENCE_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
LOCK_ADVISORY_KEY = 0x41_54_4C_4B  # "ATLK": one nightly lock run at a time
AUTO_LOCK_REASON = "Locked automatically after the grace period."


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
    is_locked: bool
    locked_at: dt.datetime | None
    lock_reason: str | None
    relock_after: dt.datetime | None

    @classmethod
    def of(cls, s: ClassSession, cohort: Cohort) -> SessionInfo:
        return cls(id=s.id, cohort_id=cohort.id, cohort_name=cohort.name, cohort_type=cohort.cohort_type.value,
                   session_date=s.session_date, start_time=s.start_time, end_time=s.end_time,
                   starts_at=s.starts_at, ends_at=s.ends_at, session_type=s.session_type.value, title=s.title,
                   status=s.status.value, room=s.room.name if s.room else None,
                   instructor=s.instructor.full_name if s.instructor else None, is_locked=s.is_locked,
                   locked_at=s.locked_at, lock_reason=s.lock_reason, relock_after=s.relock_after)


@dataclass
class Register:
    class_session: ClassSession
    cohort: Cohort
    info: SessionInfo
    spec: RecordSpec
    rows: list[RegisterRow]
    time_zone: str
    auto_lock_at: dt.datetime
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


def _load(session: Session, user: User, session_id: int, *, share_lock: bool = False
          ) -> tuple[ClassSession, Cohort, str]:
    """The session (with cohort, room, instructor) and its institution's zone in one query, within the
    user's scope (404 otherwise). With `share_lock` the session row is read FOR SHARE (PostgreSQL), so a
    concurrent lock waits for this transaction, or this transaction sees the lock."""
    stmt = (select(ClassSession, Institution.time_zone)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .join(Institution, Institution.id == ClassSession.institution_id)
            .where(ClassSession.id == session_id, session_filter(user))
            .options(joinedload(ClassSession.instructor).lazyload(User.memberships)))
    if share_lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True, of=ClassSession.__table__)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound("No such session, or it is not one you can see.")
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
              zone: str | None = None, rows: list[RegisterRow] | None = None) -> Register:
    zone = zone or _zone(session, class_session)
    if rows is None:
        rows = roster.load_register(session, cohort, class_session.id)
    _, mark_perm = roster.permissions_for(cohort)
    return Register(
        class_session=class_session, cohort=cohort, info=SessionInfo.of(class_session, cohort),
        spec=roster.spec_for(cohort), rows=rows, time_zone=zone,
        auto_lock_at=marking.auto_lock_at(class_session.session_date, class_session.ends_at, zone, grace_hours),
        can_mark=can(session, user, mark_perm) and class_session.status != SessionStatus.CANCELLED,
        can_lock=can(session, user, "attendance.lock"), can_unlock=can(session, user, "attendance.unlock"),
        counts=marking.status_counts(r.status for r in rows if r.active or r.status),
    )


def get_register(session: Session, user: User, session_id: int, *, grace_hours: int = 24) -> Register:
    class_session, cohort, zone = _load(session, user, session_id)
    require(session, user, roster.permissions_for(cohort)[0])
    return _register(session, user, class_session, cohort, grace_hours, zone)


def _refuse_if_locked(class_session: ClassSession) -> None:
    if class_session.is_locked:
        raise Locked("This session is locked: its register can no longer be changed. "
                     "Ask an administrator to unlock it.", code="session_locked")
    if class_session.status == SessionStatus.CANCELLED:
        raise Conflict("This session was cancelled: there is no register to mark.", code="session_cancelled")


def _upsert_sql(spec: RecordSpec, postgres: bool, audited: bool = False) -> str:
    date_col, date_val = (", record_date", ", :record_date") if spec.has_record_date else ("", "")
    changed = ("(r.status, r.minutes_late, r.notes) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late, "
               "EXCLUDED.notes)" if postgres else
               "NOT (r.status IS excluded.status AND r.minutes_late IS excluded.minutes_late "
               "AND r.notes IS excluded.notes)")
    if postgres:
        source = (f"SELECT i.member_id, :session_id{date_val}, i.status, i.minutes_late, i.notes, :actor, :now, "
                  "i.next_version, :now, :now FROM i")
    else:
        source = (f"VALUES (:member_id, :session_id{date_val}, :status, :minutes_late, :notes, :actor, :now, "
                  ":next_version, :now, :now)")
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
                 seen_versions: dict[int, int], actor_id: int | None, now: dt.datetime,
                 befores: dict[int, dict[str, Any] | None] | None = None) -> dict[int, tuple[int, int]]:
    """Write `marks` in one statement; returns {member_id: (record_id, version)} of the rows that changed.

    With `befores` (member id → values before) on PostgreSQL, the same statement also writes an audit event
    (from → to) for every row it changed; the caller audits otherwise (see `audits_in_upsert`).
    """
    if not marks:
        return {}
    postgres = session.get_bind().dialect.name == "postgresql"
    sql = text(_upsert_sql(spec, postgres, audited=befores is not None))
    common: dict[str, Any] = {"session_id": class_session.id, "actor": actor_id, "now": now,
                              "record_date": class_session.session_date}
    if postgres:
        rows = [{"member_id": m.member_id, "status": m.status, "minutes_late": m.minutes_late, "notes": m.notes,
                 "next_version": seen_versions.get(m.member_id, 0) + 1,
                 "before": befores.get(m.member_id) if befores else None} for m in marks]
        return {row[0]: (row[1], row[2]) for row in session.execute(sql, {**common, "rows": json.dumps(rows)})}
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


def mark(session: Session, user: User, command: MarkRegister, *, grace_hours: int = 24) -> MarkOutcome:
    """Validate every record, then write the changed ones in one upsert, with an audit event each.

    422 listing every bad record (nothing written); 423 when the session is locked; per-record conflicts
    when `expected_version` no longer matches (those records are left as they are). The register is read
    once; the upsert only updates rows still at the version read, so a row another request changed in
    between is reported as a conflict, never silently overwritten.
    """
    with unit_of_work(session):
        return _mark(session, user, command, grace_hours)


def _mark(session: Session, user: User, command: MarkRegister, grace_hours: int) -> MarkOutcome:
    class_session, cohort, zone = _load(session, user, command.session_id, share_lock=True)
    spec = roster.spec_for(cohort)
    require(session, user, roster.permissions_for(cohort)[1])
    _refuse_if_locked(class_session)
    rows = roster.load_register(session, cohort, class_session.id)
    members = {r.member_id: r.active for r in rows}
    marks, errors = marking.parse_marks([r.raw() for r in command.records], spec.kind, members)
    if errors:
        raise ValidationError(
            f"{len({e.index for e in errors})} record(s) are not valid; nothing was saved.",
            details={"records": [e.as_dict() for e in errors]},
        )
    current = {r.member_id: roster.CurrentMark(r.record_id, r.status, r.minutes_late, r.notes, r.version,
                                               r.evidence_file_id)
               for r in rows if r.record_id is not None and r.status is not None}
    if command.mark_all_present:
        marks = marking.fill_unmarked(marks, [r.member_id for r in rows if r.active], current.keys())

    conflicts: list[dict[str, Any]] = []
    to_write: list[marking.Mark] = []
    for m in marks:
        stored = current.get(m.member_id)
        if marking.version_conflict(m, stored.version if stored else None):
            conflicts.append(_conflict(spec, m, stored))
        elif marking.needs_write(m, stored.values() if stored else None):
            to_write.append(m)

    now = clock.now()
    befores = {m.member_id: _mark_values(current[m.member_id].values()) if m.member_id in current else None
               for m in to_write}
    in_statement = audits_in_upsert(session)
    written = upsert_marks(session, spec, class_session, to_write, {k: v.version for k, v in current.items()},
                           user.id, now, befores if in_statement else None)
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
    register = _register(session, user, class_session, cohort, grace_hours, zone, updated)
    return MarkOutcome(register, changed=sorted(written), conflicts=conflicts)


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
# Locking
# ---------------------------------------------------------------------------------------------------------------

def _reason(reason: Any) -> str:
    try:
        return marking.check_reason(reason)
    except ValueError as exc:
        raise ValidationError(str(exc), code="reason_required", details={"field": "reason"}) from None


def _lock_row(session: Session, class_session: ClassSession) -> None:
    """Take the session row's lock (waits for marks in flight), then re-read it."""
    stmt = select(ClassSession.id).where(ClassSession.id == class_session.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    session.execute(stmt)
    session.refresh(class_session)


def lock_session(session: Session, user: User, session_id: int, command: LockSession) -> ClassSession:
    """An admin locks a session by hand (audited). Locking a locked session changes nothing."""
    why = _reason(command.reason)
    with unit_of_work(session):
        class_session, _, _ = open_session(session, user, session_id)
        require(session, user, "attendance.lock")
        _lock_row(session, class_session)
        if not class_session.is_locked:
            _lock_by_hand(session, user, class_session, why)
    return class_session


def _lock_by_hand(session: Session, user: User, class_session: ClassSession, why: str) -> None:
    now = clock.now()
    class_session.is_locked, class_session.locked_at = True, now
    class_session.locked_by_id, class_session.lock_reason, class_session.relock_after = user.id, why, None
    audit.record(session, actor_id=user.id, action="session.lock", entity_type="class_session",
                 entity_id=class_session.id, before={"is_locked": False}, after={"is_locked": True},
                 context={"reason": why})


def unlock_session(session: Session, user: User, session_id: int, command: UnlockSession) -> ClassSession:
    """Only admins unlock (audited). Without `relock_after` the next nightly run locks a past session again."""
    why = _reason(command.reason)
    relock = command.relock_after.astimezone(dt.UTC) if command.relock_after else None
    with unit_of_work(session):
        return _unlock(session, user, session_id, why, relock)


def _unlock(session: Session, user: User, session_id: int, why: str, relock: dt.datetime | None) -> ClassSession:
    class_session, _, _ = open_session(session, user, session_id)
    require(session, user, "attendance.unlock")
    if relock is not None and relock <= clock.now():
        raise ValidationError("relock_after must be in the future.", code="invalid_relock_after",
                              details={"field": "relock_after"})
    _lock_row(session, class_session)
    if not class_session.is_locked:
        raise Conflict("This session is not locked.", code="not_locked")
    before = {"is_locked": True, "locked_at": class_session.locked_at.isoformat() if class_session.locked_at else None,
              "lock_reason": class_session.lock_reason}
    class_session.is_locked, class_session.locked_at, class_session.locked_by_id = False, None, None
    class_session.lock_reason, class_session.relock_after = None, relock
    audit.record(session, actor_id=user.id, action="session.unlock", entity_type="class_session",
                 entity_id=class_session.id, before=before,
                 after={"is_locked": False, "relock_after": relock.isoformat() if relock else None},
                 context={"reason": why})
    return class_session


_LOCK_PAST_PG = text("""
WITH locked AS (
    UPDATE class_sessions AS s
       SET is_locked = true, locked_at = :now, locked_by_id = NULL, lock_reason = :reason,
           relock_after = NULL, updated_at = :now
      FROM institutions AS i
     WHERE i.id = s.institution_id
       AND NOT s.is_locked
       AND s.ends_at <= :bound
       AND (s.relock_after IS NULL OR s.relock_after <= :now)
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


def lock_past_sessions(session: Session, *, grace_hours: int = 24, now: dt.datetime | None = None) -> list[int]:
    """Lock every unlocked session whose local day ended more than `grace_hours` ago. One set-based UPDATE
    (with its audit rows in the same statement); one run at a time; a second run changes nothing."""
    now = now or clock.now()
    grace = dt.timedelta(hours=grace_hours)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_ADVISORY_KEY})
        ids = list(session.scalars(_LOCK_PAST_PG, {
            "now": now, "bound": now - grace, "grace": grace, "reason": AUTO_LOCK_REASON,
            "before": json.dumps({"is_locked": False}), "after": json.dumps({"is_locked": True}),
            "context": json.dumps({"grace_hours": grace_hours}),
        }))
    else:
        ids = _lock_past_portable(session, now, grace, grace_hours)
    session.commit()
    if ids:
        log.info("auto-locked %d sessions", len(ids))
    return ids


def _lock_past_portable(session: Session, now: dt.datetime, grace: dt.timedelta, grace_hours: int) -> list[int]:
    """SQLite: the same rule, with the local-day cut-off computed in Python (SQLite has no time zones)."""
    candidates = session.execute(
        select(ClassSession.id, ClassSession.session_date, ClassSession.ends_at, Institution.time_zone)
        .join(Institution, Institution.id == ClassSession.institution_id)
        .where(ClassSession.is_locked.is_(False), ClassSession.ends_at <= now - grace,
               (ClassSession.relock_after.is_(None)) | (ClassSession.relock_after <= now))
    ).all()
    due = [sid for sid, day, ends_at, zone in candidates
           if marking.auto_lock_at(day, _aware(ends_at), zone, grace_hours) <= now]
    if not due:
        return []
    ids = list(session.scalars(
        update(ClassSession).where(ClassSession.id.in_(due), ClassSession.is_locked.is_(False))
        .values(is_locked=True, locked_at=now, locked_by_id=None, lock_reason=AUTO_LOCK_REASON, relock_after=None,
                updated_at=now)
        .returning(ClassSession.id)
    ))
    audit.record_many(session, [
        {"actor_id": None, "action": "session.auto_lock", "entity_type": "class_session", "entity_id": sid,
         "before": {"is_locked": False}, "after": {"is_locked": True}, "context": {"grace_hours": grace_hours}}
        for sid in ids
    ])
    return ids


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------------------------
# Evidence and history
# ---------------------------------------------------------------------------------------------------------------

class _Prefixed:
    """A stream that first replays bytes already read (the sniffed head), then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            chunk, self.head = (self.head, b"") if size < 0 or size >= len(self.head) else (
                self.head[:size], self.head[size:])
            return chunk
        return self.rest.read(size)


def attach_evidence(session: Session, user: User, storage: PrivateStorage, session_id: int, member_id: int,
                    stream: BinaryIO | None, filename: str | None, max_bytes: int) -> EvidenceFile:
    """Store a sick note (PDF/JPEG/PNG, checked by content, size-limited) and attach it to the member's mark."""
    class_session, cohort, spec = open_session(session, user, session_id, for_mark=True)
    _lock_row(session, class_session)
    _refuse_if_locked(class_session)
    if stream is None:
        raise ValidationError("Choose a file (PDF, JPEG or PNG).", code="file_required", details={"field": "file"})
    current = roster.current_marks(session, cohort, class_session.id, for_update=True).get(member_id)
    if current is None:
        if member_id not in roster.member_ids(session, cohort, class_session.id):
            raise NotFound("This trainee is not on this session's register.")
        raise ValidationError("Mark this trainee first, then attach the evidence.", code="not_marked")
    head = stream.read(512)
    kind = filetype.guess(head) if head else None
    if kind is None or kind.mime not in EVIDENCE_TYPES:
        raise ValidationError("Evidence must be a PDF, JPEG or PNG file.", code="unsupported_file_type",
                              details={"field": "file", "detected": kind.mime if kind else None})
    stored = storage.save_stream(_Prefixed(head, stream), "evidence", EVIDENCE_TYPES[kind.mime],  # type: ignore[arg-type]
                                 max_bytes=max_bytes)
    try:
        evidence = EvidenceFile(storage_key=stored.key, original_filename=(filename or "evidence")[:255],
                                content_type=kind.mime, size_bytes=stored.size, sha256=stored.sha256,
                                uploaded_by_id=user.id)
        session.add(evidence)
        session.flush()
        rec = spec.model
        session.execute(update(rec).where(rec.id == current.record_id).values(
            evidence_file_id=evidence.id, version=rec.version + 1, updated_at=clock.now()))
        audit.record(session, actor_id=user.id, action="attendance.evidence", entity_type=spec.entity_type,
                     entity_id=current.record_id, before={"evidence_file_id": current.evidence_file_id},
                     after={"evidence_file_id": evidence.id, "filename": evidence.original_filename},
                     context={"session_id": class_session.id, spec.key: member_id})
        session.commit()
    except BaseException:
        session.rollback()
        storage.delete(stored.key)
        raise
    return evidence


def evidence_for_download(session: Session, user: User, evidence_id: int) -> EvidenceFile:
    """The evidence file, only for who may see the record it belongs to (404 otherwise)."""
    found = roster.record_for_evidence(session, evidence_id)
    evidence = session.get(EvidenceFile, evidence_id)
    if found is None or evidence is None:
        raise NotFound("No such evidence file.")
    _, session_id, _ = found
    open_session(session, user, session_id)
    return evidence


def record_history(session: Session, user: User, session_id: int, member_id: int) -> list[dict[str, Any]]:
    """Every audited change of one member's mark in one session, oldest first."""
    class_session, cohort, spec = open_session(session, user, session_id)
    current = roster.current_marks(session, cohort, class_session.id).get(member_id)
    if current is None:
        if member_id not in roster.member_ids(session, cohort, class_session.id):
            raise NotFound("This trainee is not on this session's register.")
        return []
    rows = session.execute(
        select(AuditEvent, User.full_name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.entity_type == spec.entity_type, AuditEvent.entity_id == current.record_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [{"at": event.at.isoformat(), "action": event.action, "by": name, "from": event.before,
             "to": event.after} for event, name in rows]
