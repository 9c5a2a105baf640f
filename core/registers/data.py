"""What a register document shows, read from the database in a few set-based queries, and the version of it.

`session_register` and `cohort_register` return plain dataclasses (no ORM objects), so rendering can run
after the transaction, in another process, or many times. `data_version` digests everything a document
shows cheaply (roster rows, session rows, and per-table aggregates of the marks: every mark change bumps
its row's `version`), so an unchanged register is served again instead of rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, null, or_, select
from sqlalchemy.orm import Session

from core.attendance import marking, roster
from core.attendance.locking import lock_states
from core.collation import sort_key
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    CorporateTrainee,
    DocumentKind,
    Enrolment,
    EnrolmentStatus,
    Institution,
    Learner,
    LearnerSignature,
    Qualification,
    Room,
    SessionStatus,
    SignOff,
    User,
)
from core.reminders.rules import ATTENDED
from core.storage import PrivateStorage

from .pdf import signature_image_url

# Bump when a template or the data below changes what a document shows: old builds are then rebuilt.
LAYOUT_VERSION = "registers-5"
STATUS_LETTERS = {"PRESENT": "P", "ABSENT": "A", "LATE": "L", "EXCUSED": "E"}


@dataclass(frozen=True)
class Header:
    institution: str
    accreditation_number: str | None
    qualification_code: str | None
    qualification_title: str | None
    cohort: str
    cohort_type: str
    time_zone: str


@dataclass(frozen=True)
class SessionFacts:
    id: int
    date: dt.date
    start: dt.time
    end: dt.time
    session_type: str
    room: str | None
    facilitator: str | None
    is_locked: bool
    locked_at: dt.datetime | None


@dataclass(frozen=True)
class SessionRow:
    name: str
    detail: str | None
    status: str | None
    minutes_late: int | None
    notes: str | None
    source: str | None = None              # staff, self_check_in or auto: how the mark was made
    checked_in: dt.time | None = None      # the local time the learner checked in (self check-in)
    signature: str | None = None           # a drawn signature: its image URL for the PDF fetcher (pdf.py)


@dataclass(frozen=True)
class SignOffFacts:
    """The register's latest sign-off: who, when (local time), and whether a later mark voided it."""

    full_name: str
    signed_at: dt.datetime
    void: bool


@dataclass(frozen=True)
class SessionRegister:
    header: Header
    session: SessionFacts
    rows: list[SessionRow]
    counts: dict[str, int]
    sign_off: SignOffFacts | None = None


@dataclass(frozen=True)
class Column:
    """A session of the cohort register, or a date of legacy daily records (no session)."""

    session_id: int | None
    date: dt.date
    start: dt.time | None
    session_type: str | None
    is_locked: bool

    @property
    def legacy(self) -> bool:
        return self.session_id is None


@dataclass(frozen=True)
class CohortTrainee:
    name: str
    detail: str | None
    cells: tuple[str, ...]        # per column: PRESENT/ABSENT/LATE/EXCUSED, "" unmarked, "-" outside the enrolment
    attended: int                 # PRESENT + LATE over sessions inside the enrolment
    counted: int                  # marked sessions inside the enrolment, EXCUSED not counted

    @property
    def rate(self) -> float | None:
        return self.attended / self.counted if self.counted else None


@dataclass(frozen=True)
class CohortRegister:
    header: Header
    period_start: dt.date
    period_end: dt.date
    columns: list[Column]
    trainees: list[CohortTrainee]
    column_counts: list[dict[str, int]]   # per column: PRESENT/ABSENT/LATE/EXCUSED/UNMARKED


@dataclass(frozen=True)
class Scope:
    """What a document covers: the cohort, and either one session or a date range."""

    kind: DocumentKind
    cohort_id: int
    session_id: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None


# --- header ----------------------------------------------------------------------------------------------------

def _optional(model: type, name: str) -> Any:
    """A column the people feature adds (institution profile, enrolment withdrawal); NULL until it lands."""
    column = getattr(model, name, None)
    return column if column is not None else null()


def load_header(session: Session, cohort_id: int) -> Header:
    row = session.execute(
        select(Institution.name, _optional(Institution, "accreditation_number"), Qualification.code,
               Qualification.title, Cohort.name, Cohort.cohort_type, Institution.time_zone)
        .join(Institution, Institution.id == Cohort.institution_id)
        .outerjoin(Qualification, Qualification.id == Cohort.qualification_id)
        .where(Cohort.id == cohort_id)
    ).one()
    return Header(row[0], row[1], row[2], row[3], row[4], row[5].value, row[6] or "UTC")


def institution_language(session: Session, institution_id: int) -> str:
    """The institution's default language ("en" until the people feature stores one)."""
    column = getattr(Institution, "default_language", None)
    if column is None:
        return "en"
    return session.scalar(select(column).where(Institution.id == institution_id)) or "en"


# --- session register ------------------------------------------------------------------------------------------

def session_register(session: Session, session_id: int, language: str, grace_hours: int,
                     storage: PrivateStorage | None = None) -> SessionRegister:
    """The session's register; with `storage`, the learners' drawn signatures and the latest sign-off too."""
    from core.signatures.reads import for_class_session  # the signatures read registers' data: import when used

    class_session = session.get(ClassSession, session_id)
    if class_session is None:
        raise LookupError(f"class session {session_id} is gone")
    cohort = class_session.cohort
    lock = lock_states(session, [class_session], grace_hours)[class_session.id]  # by hand, or past the cut-off
    rows = roster.load_register(session, cohort, session_id, language)
    key = sort_key(language)
    shown = sorted((r for r in rows if r.active or r.status), key=lambda r: (key(r.name), r.member_id))
    header = load_header(session, cohort.id)
    zone = ZoneInfo(header.time_zone)
    facts = SessionFacts(
        id=class_session.id, date=class_session.session_date, start=class_session.start_time,
        end=class_session.end_time, session_type=class_session.session_type.value,
        room=class_session.room.name if class_session.room else None,
        facilitator=class_session.instructor.full_name if class_session.instructor else None,
        is_locked=lock.locked, locked_at=lock.locked_at)
    signed = for_class_session(session, class_session, cohort)
    drawn = {m: v.signature_id for m, v in signed.learners.items() if v.signature_id is not None}
    images = _signature_images(session, storage, drawn)
    last = signed.sign_off
    return SessionRegister(
        header=header, session=facts,
        rows=[SessionRow(r.name, r.detail, r.status, r.minutes_late, r.notes, r.source,
                         r.checked_in_at.astimezone(zone).time() if r.checked_in_at else None,
                         images.get(r.member_id)) for r in shown],
        counts=marking.status_counts(r.status for r in shown),
        sign_off=SignOffFacts(last.full_name, last.signed_at.astimezone(zone), last.void) if last else None)


def _signature_images(session: Session, storage: PrivateStorage | None, drawn: dict[int, int]) -> dict[int, str]:
    """Member id → the PNG of their drawn signature as a URL the PDF fetcher serves (pdf.signature_image_url)."""
    if storage is None or not drawn:
        return {}
    keys = dict(session.execute(select(LearnerSignature.id, LearnerSignature.storage_key)
                                .where(LearnerSignature.id.in_(drawn.values()))).all())
    images = {}
    for member, signature_id in drawn.items():
        with storage.open(keys[signature_id]) as f:
            images[member] = signature_image_url(f.read())
    return images


# --- cohort register -------------------------------------------------------------------------------------------

def _sessions_in(session: Session, cohort_id: int, start: dt.date, end: dt.date, grace_hours: int) -> list[Column]:
    rows = list(session.scalars(
        select(ClassSession)
        .where(ClassSession.cohort_id == cohort_id, ClassSession.session_date.between(start, end),
               ClassSession.status != SessionStatus.CANCELLED)
        .order_by(ClassSession.starts_at, ClassSession.id)
    ))
    locks = lock_states(session, rows, grace_hours)
    return [Column(s.id, s.session_date, s.start_time, s.session_type.value, locks[s.id].locked) for s in rows]


@dataclass(frozen=True)
class _Member:
    id: int
    name: str
    detail: str | None
    enrolled_on: dt.date | None
    left_on: dt.date | None


def _members(session: Session, cohort: Cohort, session_ids: list[int], start: dt.date) -> list[_Member]:
    """Who belongs on the cohort register: active members, plus anyone with a mark in the range or who left
    during it (they stay on earlier registers with their marks)."""
    if cohort.is_corporate:
        marked = select(CorporateAttendanceRecord.trainee_id).where(
            CorporateAttendanceRecord.session_id.in_(session_ids))
        rows = session.execute(
            select(CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.employee_code)
            .where(CorporateTrainee.cohort_id == cohort.id,
                   or_(CorporateTrainee.active.is_(True), CorporateTrainee.id.in_(marked)))
        ).all()
        return [_Member(r[0], r[1], r[2], None, None) for r in rows]
    withdrawn_on = _optional(Enrolment, "withdrawn_on")
    marked = select(AttendanceRecord.enrolment_id).where(AttendanceRecord.session_id.in_(session_ids))
    stays = [Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.id.in_(marked)]
    if hasattr(Enrolment, "withdrawn_on"):
        stays.append(withdrawn_on > start)
    rows = session.execute(
        select(Enrolment.id, Learner.full_name, Learner.id_number, Enrolment.enrolled_on, withdrawn_on)
        .join(Learner, Learner.id == Enrolment.learner_id)
        .where(Enrolment.cohort_id == cohort.id, or_(*stays))
    ).all()
    return [_Member(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def _marks(session: Session, cohort: Cohort, session_ids: list[int]) -> dict[tuple[int, int], str]:
    spec = roster.spec_for(cohort)
    rec = spec.model
    member = getattr(rec, spec.key)
    rows = session.execute(select(member, rec.session_id, rec.status).where(rec.session_id.in_(session_ids))).all()
    return {(r[0], r[1]): r[2].value for r in rows}


def _legacy_marks(session: Session, cohort: Cohort, start: dt.date, end: dt.date
                  ) -> dict[tuple[int, dt.date], str]:
    if cohort.is_corporate:
        return {}
    rows = session.execute(
        select(AttendanceRecord.enrolment_id, AttendanceRecord.record_date, AttendanceRecord.status)
        .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
        .where(Enrolment.cohort_id == cohort.id, AttendanceRecord.session_id.is_(None),
               AttendanceRecord.record_date.between(start, end))
    ).all()
    return {(r[0], r[1]): r[2].value for r in rows}


def _inside(member: _Member, day: dt.date) -> bool:
    return (member.enrolled_on is None or day >= member.enrolled_on) and (member.left_on is None
                                                                           or day < member.left_on)


def nobody_on(session: Session, cohort: Cohort, scope: Scope) -> bool:
    """True when no session of the register (or of its dates) has anybody on its roster: no enrolled learner
    (or trainee) inside their enrolment on any of its days, and no mark. Such a register is refused."""
    if scope.kind == DocumentKind.SESSION:
        days = list(session.execute(select(ClassSession.id, ClassSession.session_date)
                                    .where(ClassSession.id == scope.session_id)).all())
    else:
        days = list(session.execute(select(ClassSession.id, ClassSession.session_date).where(
            ClassSession.cohort_id == cohort.id,
            ClassSession.session_date.between(scope.period_start, scope.period_end),
            ClassSession.status != SessionStatus.CANCELLED)).all())
    if not days:
        return False  # legacy daily records may fill a range with no sessions: the register shows them
    start = min(day for _, day in days)
    members = _members(session, cohort, [sid for sid, _ in days], start)
    return not any(_inside(m, day) for m in members for _, day in days)


def cohort_register(session: Session, cohort_id: int, start: dt.date, end: dt.date, language: str,
                    grace_hours: int) -> CohortRegister:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise LookupError(f"cohort {cohort_id} is gone")
    sessions = _sessions_in(session, cohort_id, start, end, grace_hours)
    session_ids = [c.session_id for c in sessions if c.session_id is not None]
    marks = _marks(session, cohort, session_ids)
    legacy = _legacy_marks(session, cohort, start, end)
    legacy_days = sorted({day for _, day in legacy})
    columns = sorted([*sessions, *(Column(None, day, None, None, False) for day in legacy_days)],
                     key=lambda c: (c.date, c.start or dt.time(0), c.session_id or 0))
    key = sort_key(language)
    members = sorted(_members(session, cohort, session_ids, start), key=lambda m: (key(m.name), m.id))
    trainees = []
    for m in members:
        cells, attended, counted = [], 0, 0
        for c in columns:
            status = (marks.get((m.id, c.session_id), "") if c.session_id is not None
                      else legacy.get((m.id, c.date), ""))
            if not c.legacy and not _inside(m, c.date):
                cells.append(status or "-")
                continue
            cells.append(status)
            if not c.legacy and status and status != "EXCUSED":
                counted += 1
                attended += status in ATTENDED
        trainees.append(CohortTrainee(m.name, m.detail, tuple(cells), attended, counted))
    column_counts = [marking.status_counts(t.cells[i] or None for t in trainees if t.cells[i] != "-")
                     for i in range(len(columns))]
    return CohortRegister(load_header(session, cohort_id), start, end, columns, trainees, column_counts)


# --- the data's version ----------------------------------------------------------------------------------------

def _record_aggregates(session: Session, model: Any, where: Any) -> tuple[Any, ...]:
    return tuple(session.execute(
        select(func.count(), func.coalesce(func.sum(model.version), 0), func.max(model.updated_at),
               func.max(model.id)).where(where)
    ).one())


def marks_version(session: Session, cohort: Cohort, session_ids: list[int]) -> str:
    """A digest of the marks of these sessions alone (every mark change bumps its row's version, a new mark
    its count): what a sign-off signs; any later mark change makes another digest and voids it."""
    spec = roster.spec_for(cohort)
    aggregates = _record_aggregates(session, spec.model, spec.model.session_id.in_(session_ids or [-1]))
    return hashlib.sha256(repr(aggregates).encode("utf-8")).hexdigest()


def data_version(session: Session, scope: Scope, language: str, fmt: str, grace_hours: int) -> str:
    """A digest of everything the document shows; equal digests mean an identical document (bar its reference
    and printed-at time). Cheap: roster and session rows, plus aggregates of the marks."""
    cohort = session.get(Cohort, scope.cohort_id)
    if cohort is None:
        raise LookupError(f"cohort {scope.cohort_id} is gone")
    parts: list[Any] = [LAYOUT_VERSION, language, fmt, scope.kind.value, scope.period_start, scope.period_end,
                        load_header(session, cohort.id)]
    stmt = (select(ClassSession, Room.name, User.full_name)
            .outerjoin(Room, Room.id == ClassSession.room_id).outerjoin(User, User.id == ClassSession.instructor_id)
            .order_by(ClassSession.id))
    if scope.session_id is not None:
        stmt = stmt.where(ClassSession.id == scope.session_id)
    else:
        stmt = stmt.where(ClassSession.cohort_id == cohort.id,
                          ClassSession.session_date.between(scope.period_start, scope.period_end))
    rows = session.execute(stmt).all()
    # The lock as the rule sees it now (by hand, or past the cut-off): a cut-off passing makes a new version.
    locks = lock_states(session, [r[0] for r in rows], grace_hours)
    parts.append([(s.id, s.session_date, s.start_time, s.end_time, s.session_type, s.status, s.updated_at,
                   locks[s.id].locked, locks[s.id].locked_at, room, instructor) for s, room, instructor in rows])
    ids = [r[0].id for r in rows] or [-1]
    spec = roster.spec_for(cohort)
    parts.append(_record_aggregates(session, spec.model, spec.model.session_id.in_(ids)))
    if cohort.is_corporate:
        members = select(CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.employee_code,
                         CorporateTrainee.active).where(CorporateTrainee.cohort_id == cohort.id)
    else:
        members = (select(Enrolment.id, Learner.full_name, Learner.id_number, Enrolment.status, Enrolment.enrolled_on,
                          _optional(Enrolment, "withdrawn_on"))
                   .join(Learner, Learner.id == Enrolment.learner_id).where(Enrolment.cohort_id == cohort.id))
        if scope.kind == DocumentKind.COHORT:
            parts.append(_record_aggregates(session, AttendanceRecord, and_(
                AttendanceRecord.session_id.is_(None),
                AttendanceRecord.record_date.between(scope.period_start, scope.period_end),
                AttendanceRecord.enrolment_id.in_(select(Enrolment.id).where(Enrolment.cohort_id == cohort.id)))))
    parts.append([tuple(r) for r in session.execute(members.order_by(members.selected_columns[0])).all()])
    if scope.session_id is not None:  # a session register prints its sign-offs and learners' signatures
        parts.append(session.execute(select(func.max(SignOff.id), func.count()).where(
            SignOff.subject_type == "class_session", SignOff.subject_id == scope.session_id)).one())
        parts.append(session.execute(select(func.max(LearnerSignature.id), func.count()).where(
            LearnerSignature.session_id == scope.session_id)).one())
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()
