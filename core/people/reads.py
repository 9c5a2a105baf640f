"""What a learner's page shows: their enrolments across cohorts with each attendance rate, their attendance
history, and the documents about them (registers of their cohorts, evidence attached to their marks).

Each read is one query; rates count what the cohort page counts (core.cohorts.stats: sessions inside the
enrolment, EXCUSED neither way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access.scoping import cohort_filter
from core.at_risk.reads import enrolment_levels
from core.cohorts.stats import Rate, enrolment_rates
from core.models import (
    AttendanceRecord,
    ClassSession,
    Cohort,
    DocumentKind,
    DocumentStatus,
    Enrolment,
    EvidenceFile,
    Learner,
    RegisterDocument,
    User,
)

HISTORY_LIMIT = 200
DOCUMENT_LIMIT = 50


@dataclass(frozen=True)
class LearnerEnrolment:
    id: int
    cohort_id: int
    cohort_name: str
    status: str
    enrolled_on: dt.date | None
    withdrawn_on: dt.date | None
    rate: Rate
    level: str | None = None    # at-risk standing (issue 24)
    margin: int | None = None


@dataclass(frozen=True)
class HistoryEntry:
    day: dt.date
    cohort_name: str
    session_id: int | None
    session_start: dt.time | None
    status: str
    minutes_late: int | None
    notes: str | None
    evidence_id: int | None
    evidence_name: str | None


@dataclass(frozen=True)
class LearnerDocument:
    id: int
    cohort_name: str
    kind: str
    format: str
    language: str
    period_start: dt.date | None
    period_end: dt.date | None
    created_at: dt.datetime


def learner_enrolments(session: Session, user: User, learner: Learner) -> list[LearnerEnrolment]:
    """The learner's enrolments in cohorts the user may see, newest first, each with its own rate."""
    rows = session.execute(
        select(Enrolment.id, Cohort.id, Cohort.name, Enrolment.status, Enrolment.enrolled_on, Enrolment.withdrawn_on)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.learner_id == learner.id, cohort_filter(user))
        .order_by(Enrolment.enrolled_on.desc().nulls_last(), Enrolment.id.desc())).all()
    rates = enrolment_rates(session, [r[0] for r in rows])
    standing = enrolment_levels(session, [r[0] for r in rows])
    return [LearnerEnrolment(eid, cid, name, status.value, enrolled_on, withdrawn_on, rates.get(eid, Rate()),
                             *standing.get(eid, (None, None)))
            for eid, cid, name, status, enrolled_on, withdrawn_on in rows]


def attendance_history(session: Session, user: User, learner: Learner, limit: int = HISTORY_LIMIT
                       ) -> list[HistoryEntry]:
    """The learner's marks in cohorts the user may see, newest first (at most `limit`)."""
    rows = session.execute(
        select(AttendanceRecord.record_date, Cohort.name, AttendanceRecord.session_id, ClassSession.start_time,
               AttendanceRecord.status, AttendanceRecord.minutes_late, AttendanceRecord.notes,
               EvidenceFile.id, EvidenceFile.original_filename)
        .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(ClassSession, ClassSession.id == AttendanceRecord.session_id)
        .outerjoin(EvidenceFile, EvidenceFile.id == AttendanceRecord.evidence_file_id)
        .where(Enrolment.learner_id == learner.id, cohort_filter(user))
        .order_by(AttendanceRecord.record_date.desc(), ClassSession.start_time.desc().nulls_last())
        .limit(limit)).all()
    return [HistoryEntry(day, cohort, sid, start, status.value, late, notes, eid, ename)
            for day, cohort, sid, start, status, late, notes, eid, ename in rows]


def learner_documents(session: Session, user: User, learner: Learner, limit: int = DOCUMENT_LIMIT
                      ) -> list[LearnerDocument]:
    """Ready register documents of the cohorts the learner is enrolled in (and the user may see), newest first."""
    cohorts = select(Enrolment.cohort_id).where(Enrolment.learner_id == learner.id)
    rows = session.execute(
        select(RegisterDocument.id, Cohort.name, RegisterDocument.kind, RegisterDocument.format,
               RegisterDocument.language, RegisterDocument.period_start, RegisterDocument.period_end,
               RegisterDocument.created_at)
        .join(Cohort, Cohort.id == RegisterDocument.cohort_id)
        .where(RegisterDocument.cohort_id.in_(cohorts), cohort_filter(user),
               RegisterDocument.status == DocumentStatus.READY,
               RegisterDocument.kind.in_([DocumentKind.SESSION, DocumentKind.COHORT]))
        .order_by(RegisterDocument.created_at.desc(), RegisterDocument.id.desc()).limit(limit)).all()
    return [LearnerDocument(did, name, kind.value, fmt.value, language, start, end, created)
            for did, name, kind, fmt, language, start, end, created in rows]
