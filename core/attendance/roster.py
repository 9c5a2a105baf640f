"""Who is on a cohort's register. The one place that branches on public vs corporate cohorts."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, join, outerjoin

from core.collation import collated, name_matches, sort_key, sql_language
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    CohortType,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Enrolment,
    EnrolmentStatus,
    Learner,
    User,
)

from . import store


def roster_sizes(session: Session, cohort_ids: Iterable[int]) -> dict[int, int]:
    """Active trainees per cohort, for both kinds of cohort, in two grouped queries."""
    ids = list(set(cohort_ids))
    if not ids:
        return {}
    public = session.execute(
        select(Enrolment.cohort_id, func.count()).where(
            Enrolment.cohort_id.in_(ids), Enrolment.status == EnrolmentStatus.ACTIVE
        ).group_by(Enrolment.cohort_id)
    ).all()
    corporate = session.execute(
        select(CorporateTrainee.cohort_id, func.count()).where(
            CorporateTrainee.cohort_id.in_(ids), CorporateTrainee.active.is_(True)
        ).group_by(CorporateTrainee.cohort_id)
    ).all()
    sizes = dict.fromkeys(ids, 0)
    sizes.update({cid: n for cid, n in public})
    sizes.update({cid: n for cid, n in corporate})
    return sizes


def record_table(cohort: Cohort) -> type[AttendanceRecord] | type[CorporateAttendanceRecord]:
    return CorporateAttendanceRecord if cohort.cohort_type == CohortType.CORPORATE else AttendanceRecord


def marked_counts(session: Session, session_ids: Iterable[int]) -> dict[int, int]:
    """How many records each session has (a session's records live in exactly one of the tables)."""
    ids = list(set(session_ids))
    if not ids:
        return {}
    counts = dict.fromkeys(ids, 0)
    for table in (AttendanceRecord, CorporateAttendanceRecord):
        rows = session.execute(
            select(table.session_id, func.count()).where(table.session_id.in_(ids)).group_by(table.session_id)
        ).all()
        for sid, n in rows:
            counts[sid] += n
    return counts


# ---------------------------------------------------------------------------------------------------------------
# Registers: who is on a session's register, what each has, and which table a mark goes to.
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordSpec:
    """Where a cohort's marks live: the one fact marking code needs to know about the cohort type."""

    kind: str                 # "public" | "corporate"
    model: type[AttendanceRecord] | type[CorporateAttendanceRecord]
    table: str
    key: str                  # the member column: enrolment_id | trainee_id
    member_type: str          # "enrolment" | "corporate_trainee" (at-risk flags, history)
    entity_type: str          # audit events
    conflict_target: str      # ON CONFLICT (…) for the upsert
    has_record_date: bool     # public records also carry the (local) date


PUBLIC_SPEC = RecordSpec("public", AttendanceRecord, "attendance_records", "enrolment_id", "enrolment",
                         "attendance_record", "(enrolment_id, session_id) WHERE session_id IS NOT NULL", True)
CORPORATE_SPEC = RecordSpec("corporate", CorporateAttendanceRecord, "corporate_attendance_records", "trainee_id",
                            "corporate_trainee", "corporate_attendance_record", "(trainee_id, session_id)", False)


def spec_for(cohort: Cohort) -> RecordSpec:
    return CORPORATE_SPEC if cohort.cohort_type == CohortType.CORPORATE else PUBLIC_SPEC


def permissions_for(cohort: Cohort) -> tuple[str, str]:
    """(view, mark) permission names for the cohort's kind."""
    if cohort.cohort_type == CohortType.CORPORATE:
        return "corporate_attendance.view", "corporate_attendance.mark"
    return "attendance.view", "attendance.mark"


@dataclass(frozen=True)
class RegisterRow:
    member_id: int
    name: str
    detail: str | None          # ID number (public) or employee code (corporate)
    active: bool
    record_id: int | None
    status: str | None
    minutes_late: int | None
    notes: str | None
    evidence_file_id: int | None
    marked_by: str | None
    marked_at: dt.datetime | None
    version: int                # 0: never marked
    source: str | None = None   # how the mark was made: staff, self_check_in, auto (None: unmarked)
    checked_in_at: dt.datetime | None = None  # when the learner checked in themselves

    @property
    def has_evidence(self) -> bool:
        return self.evidence_file_id is not None


@dataclass(frozen=True)
class CurrentMark:
    record_id: int
    status: str
    minutes_late: int | None
    notes: str | None
    version: int
    evidence_file_id: int | None

    def values(self) -> tuple[str, int | None, str | None]:
        return (self.status, self.minutes_late, self.notes)


def _enrolled_on_session_day(session_id: Any, day: Any = None) -> Any:
    """A learner is on a session's register while enrolled that day: ACTIVE, or withdrawn from a later date."""
    if day is None:
        day = select(ClassSession.session_date).where(ClassSession.id == session_id).scalar_subquery()
    return or_(Enrolment.status == EnrolmentStatus.ACTIVE,
               and_(Enrolment.status == EnrolmentStatus.WITHDRAWN, Enrolment.withdrawn_on > day))


# The register's columns, in RegisterRow's order (labelled: store.session_with_roster reads them by name).
REGISTER_COLUMNS = ("member_id", "name", "detail", "active", "record_id", "status", "minutes_late", "notes",
                    "evidence_file_id", "marked_by", "marked_at", "version", "source", "checked_in_at")


def members_select(kind: str, session_id: Any, cohort_id: Any, session_day: Any = None) -> Select[Any]:
    """Every member of a session's register with their current mark (REGISTER_COLUMNS), unordered: the session,
    its cohort and its day are bound parameters or the columns of an enclosing query. Its FROM is explicit, so
    store.first_with_rosters can swap the columns for an aggregate of them."""
    spec = CORPORATE_SPEC if kind == "corporate" else PUBLIC_SPEC
    rec = spec.model
    if kind == "corporate":
        active: Any = CorporateTrainee.active.is_(True)
        member = [CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.employee_code, active]
        members: Any = CorporateTrainee
        on = and_(rec.trainee_id == CorporateTrainee.id, rec.session_id == session_id)
        where = CorporateTrainee.cohort_id == cohort_id
    else:
        active = _enrolled_on_session_day(session_id, session_day)
        member = [Enrolment.id, Learner.full_name, Learner.id_number, active]
        members = join(Enrolment, Learner, Learner.id == Enrolment.learner_id)
        on = and_(rec.enrolment_id == Enrolment.id, rec.session_id == session_id)
        where = Enrolment.cohort_id == cohort_id
    columns = [*member, rec.id, rec.status, rec.minutes_late, rec.notes, rec.evidence_file_id, User.full_name,
               rec.marked_at, rec.version, rec.source, rec.checked_in_at]
    # Active members, plus anyone who left but already has a mark for this session (the record stays visible).
    return (select(*(c.label(n) for c, n in zip(columns, REGISTER_COLUMNS, strict=True)))
            .select_from(outerjoin(outerjoin(members, rec, on), User, User.id == rec.marked_by_id))
            .where(where, or_(active, rec.id.is_not(None))))


def member_order(kind: str, language: str) -> list[Any]:
    """The register's order: names in `language`'s collation, then the member's id."""
    if kind == "corporate":
        return [collated(CorporateTrainee.full_name, language), CorporateTrainee.id]
    return [collated(Learner.full_name, language), Enrolment.id]


@functools.cache
def _members_query(kind: str, language: str) -> Select[Any]:
    """The register's query for one kind of cohort and one language's name order, built once: the session
    and cohort are bound parameters (`session_id`, `cohort_id`). Building it took longer than running it."""
    session_id, cohort_id = bindparam("session_id", type_=Integer), bindparam("cohort_id", type_=Integer)
    return members_select(kind, session_id, cohort_id).order_by(*member_order(kind, language))


def register_row(r: Any) -> RegisterRow:
    """A RegisterRow from a row of REGISTER_COLUMNS (a status as its enum or its name)."""
    status = r[5].value if r[5] is not None and not isinstance(r[5], str) else r[5]
    return RegisterRow(r[0], r[1], r[2], bool(r[3]), r[4], status, r[6], r[7], r[8], r[9], r[10], r[11] or 0,
                       r[12], r[13])


def register_row_from_json(r: list[Any]) -> RegisterRow:
    """A RegisterRow from a JSON row of REGISTER_COLUMNS (store.first_with_rosters): its time is ISO text."""
    marked_at, checked_in_at = (dt.datetime.fromisoformat(r[i]).astimezone(dt.UTC) if r[i] else None
                                for i in (10, 13))
    return RegisterRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], marked_at, r[11] or 0,
                       r[12], checked_in_at)


def load_register(session: Session, cohort: Cohort, session_id: int, language: str = "en") -> list[RegisterRow]:
    """Every member of the session's register with their current mark, in one query; names in `language`'s
    order."""
    rows = session.execute(_members_query(spec_for(cohort).kind, sql_language(language)),
                           {"session_id": session_id, "cohort_id": cohort.id}).all()
    return [register_row(r) for r in rows]


def member_ids(session: Session, cohort: Cohort, session_id: int) -> dict[int, bool]:
    """Ids a mark may name for this session → whether the member is active."""
    spec = spec_for(cohort)
    rec = spec.model
    if spec.kind == "corporate":
        stmt = (select(CorporateTrainee.id, CorporateTrainee.active)
                .outerjoin(rec, and_(rec.trainee_id == CorporateTrainee.id, rec.session_id == session_id))
                .where(CorporateTrainee.cohort_id == cohort.id,
                       or_(CorporateTrainee.active.is_(True), rec.id.is_not(None))))
    else:
        enrolled = _enrolled_on_session_day(session_id)
        stmt = (select(Enrolment.id, enrolled)
                .outerjoin(rec, and_(rec.enrolment_id == Enrolment.id, rec.session_id == session_id))
                .where(Enrolment.cohort_id == cohort.id, or_(enrolled, rec.id.is_not(None))))
    return {member_id: bool(active) for member_id, active in session.execute(stmt).all()}


def current_marks(session: Session, cohort: Cohort, session_id: int, *, for_update: bool = False
                  ) -> dict[int, CurrentMark]:
    """The session's stored marks by member id (their rows locked when asked: store.locked)."""
    spec = spec_for(cohort)
    rec = spec.model
    key = getattr(rec, spec.key)
    stmt = select(key, rec.id, rec.status, rec.minutes_late, rec.notes, rec.version, rec.evidence_file_id).where(
        rec.session_id == session_id)
    if for_update:
        stmt = store.locked(session, stmt)
    return {r[0]: CurrentMark(r[1], r[2].value, r[3], r[4], r[5], r[6]) for r in session.execute(stmt).all()}


def member_name(session: Session, cohort: Cohort, member_id: int) -> str | None:
    if spec_for(cohort).kind == "corporate":
        return session.scalar(select(CorporateTrainee.full_name).where(
            CorporateTrainee.id == member_id, CorporateTrainee.cohort_id == cohort.id))
    return session.scalar(select(Learner.full_name).join(Enrolment, Enrolment.learner_id == Learner.id).where(
        Enrolment.id == member_id, Enrolment.cohort_id == cohort.id))


def record_for_evidence(session: Session, evidence_id: int
                        ) -> tuple[RecordSpec, int, int] | None:
    """(spec, session_id, member_id) of the record holding this evidence file, whichever table it is in."""
    for spec in (PUBLIC_SPEC, CORPORATE_SPEC):
        rec = spec.model
        row = session.execute(select(rec.session_id, getattr(rec, spec.key)).where(
            rec.evidence_file_id == evidence_id).limit(1)).first()
        if row is not None and row[0] is not None:
            return spec, row[0], row[1]
    return None


@dataclass(frozen=True)
class MemberMark:
    """One mark of one member, for attendance rates (at-risk digests)."""

    cohort_id: int
    member_type: str
    member_id: int
    name: str
    starts_at: dt.datetime
    status: str


def cohort_marks(session: Session, cohort_ids: Iterable[int]) -> list[MemberMark]:
    """Every session mark of active members of these cohorts (both kinds), oldest first, in two queries."""
    ids = list(set(cohort_ids))
    if not ids:
        return []
    public = session.execute(
        select(Enrolment.cohort_id, Enrolment.id, Learner.full_name, ClassSession.starts_at, AttendanceRecord.status)
        .join(Learner, Learner.id == Enrolment.learner_id)
        .join(AttendanceRecord, AttendanceRecord.enrolment_id == Enrolment.id)
        .join(ClassSession, ClassSession.id == AttendanceRecord.session_id)
        .where(Enrolment.cohort_id.in_(ids), Enrolment.status == EnrolmentStatus.ACTIVE)
    ).all()
    corporate = session.execute(
        select(CorporateTrainee.cohort_id, CorporateTrainee.id, CorporateTrainee.full_name, ClassSession.starts_at,
               CorporateAttendanceRecord.status)
        .join(CorporateAttendanceRecord, CorporateAttendanceRecord.trainee_id == CorporateTrainee.id)
        .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
        .where(CorporateTrainee.cohort_id.in_(ids), CorporateTrainee.active.is_(True))
    ).all()
    marks = [MemberMark(r[0], PUBLIC_SPEC.member_type, r[1], r[2], r[3], r[4].value) for r in public]
    marks += [MemberMark(r[0], CORPORATE_SPEC.member_type, r[1], r[2], r[3], r[4].value) for r in corporate]
    marks.sort(key=lambda m: (m.cohort_id, m.member_type, m.member_id, m.starts_at))
    return marks


@dataclass(frozen=True)
class DailyRecord:
    cohort_id: int
    cohort_name: str
    name: str
    session_id: int | None
    session_label: str | None
    status: str
    minutes_late: int | None
    notes: str | None
    marked_at: dt.datetime | None


def daily_records(session: Session, day: dt.date, cohort_clause: Any, search: str | None = None,
                  language: str = "en") -> list[DailyRecord]:
    """All records of one local date: public ones by record_date (legacy daily records included), corporate
    ones by their session's date. `cohort_clause` is the caller's visibility filter on Cohort. `search` finds
    a trainee or cohort name, accents and case aside; names sort by `language`'s collation."""
    term = search.strip() if search and search.strip() else None
    public_stmt = (
        select(Cohort.id, Cohort.name, Learner.full_name, AttendanceRecord.session_id, ClassSession.start_time,
               AttendanceRecord.status, AttendanceRecord.minutes_late, AttendanceRecord.notes,
               AttendanceRecord.marked_at)
        .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
        .join(Learner, Learner.id == Enrolment.learner_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(ClassSession, ClassSession.id == AttendanceRecord.session_id)
        .where(AttendanceRecord.record_date == day, cohort_clause)
    )
    corporate_stmt = (
        select(Cohort.id, Cohort.name, CorporateTrainee.full_name, CorporateAttendanceRecord.session_id,
               ClassSession.start_time, CorporateAttendanceRecord.status, CorporateAttendanceRecord.minutes_late,
               CorporateAttendanceRecord.notes, CorporateAttendanceRecord.marked_at)
        .join(CorporateTrainee, CorporateTrainee.id == CorporateAttendanceRecord.trainee_id)
        .join(ClassSession, ClassSession.id == CorporateAttendanceRecord.session_id)
        .join(Cohort, Cohort.id == CorporateTrainee.cohort_id)
        .where(ClassSession.session_date == day, cohort_clause)
    )
    if term:
        public_stmt = public_stmt.where(or_(name_matches(Learner.full_name, term), name_matches(Cohort.name, term)))
        corporate_stmt = corporate_stmt.where(or_(name_matches(CorporateTrainee.full_name, term),
                                                  name_matches(Cohort.name, term)))
    rows = [*session.execute(public_stmt).all(), *session.execute(corporate_stmt).all()]
    records = [DailyRecord(r[0], r[1], r[2], r[3], r[4].strftime("%H:%M") if r[4] else None, r[5].value, r[6],
                           r[7], r[8]) for r in rows]
    key = sort_key(language)  # two queries' rows together: sorted here, by collation
    records.sort(key=lambda d: (key(d.cohort_name), d.cohort_id, d.session_label or "", key(d.name)))
    return records
