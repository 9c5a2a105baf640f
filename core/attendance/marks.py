"""Marking a register: every record checked, then the changed ones written in one upsert (store.upsert_marks)
that checks the lock rule itself, with an audit event each. (Reading a register: reads.py.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import clock
from core.access.scoping import require
from core.at_risk import service as at_risk
from core.errors import ValidationError
from core.i18n import N_
from core.models import ClassSession, User
from core.uow import unit_of_work

from . import locking, marking, roster, store
from .commands import MarkRegister
from .reads import Register, build_register, load_session
from .roster import RecordSpec, RegisterRow


@dataclass
class MarkOutcome:
    register: Register
    changed: list[int]
    conflicts: list[dict[str, Any]]

    @property
    def changed_rows(self) -> list[RegisterRow]:
        changed = set(self.changed)
        return [r for r in self.register.rows if r.member_id in changed]


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
    class_session, cohort, zone = load_session(session, user, command.session_id, share_lock=True)
    spec = roster.spec_for(cohort)
    require(session, user, roster.permissions_for(cohort)[1])
    locking.refuse_if_locked(class_session, zone, grace_hours)
    rows = roster.load_register(session, cohort, class_session.id, language)
    members = {r.member_id: r.active for r in rows}
    marks, errors = marking.parse_marks(command.records, spec.kind, members)
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

    befores = {m.member_id: marking.mark_values(current[m.member_id].values()) if m.member_id in current else None
               for m in to_write}
    written = store.upsert_marks(session, spec, class_session, to_write, {k: v.version for k, v in current.items()},
                                 user.id, now, locking.open_session_params(class_session, zone, grace_hours, now),
                                 befores)
    if to_write and not written:  # the statement found the session locked (its cut-off passed just now)
        locking.refuse_if_locked(class_session, zone, grace_hours)
    for m in to_write:
        if m.member_id not in written:  # changed by someone else between our read and our write
            conflicts.append(_conflict(spec, m, current.get(m.member_id), concurrent=True))
    if written:  # that register's trainees' at-risk levels, in this transaction (one cohort: cheap)
        at_risk.refresh_cohorts(session, [cohort.id])
    # The register as it now stands: what we read, with what we wrote (no second read). Built before the
    # unit of work commits, which expires every loaded object.
    by_member = {m.member_id: m for m in to_write if m.member_id in written}
    updated = [_with_mark(r, by_member[r.member_id], written[r.member_id], user.full_name, now)
               if r.member_id in by_member else r for r in rows]
    register = build_register(session, user, class_session, cohort, grace_hours, zone, updated, language)
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
                              mark.minutes_late, mark.notes, row.evidence_file_id, by, at, written[1],
                              store.STAFF, row.checked_in_at)


def _conflict(spec: RecordSpec, m: marking.Mark, stored: roster.CurrentMark | None, concurrent: bool = False
              ) -> dict[str, Any]:
    return {spec.key: m.member_id, "id": m.member_id, "expected_version": m.expected_version,
            "current_version": stored.version if stored else 0,
            "current": marking.mark_values(stored.values()) if stored else None,
            "reason": "changed_concurrently" if concurrent else "version_mismatch",
            "message": "Someone else changed this record since you loaded it; it was not overwritten."}
