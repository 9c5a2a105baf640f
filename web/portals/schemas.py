"""Response schemas of the organization portal API, and the presenters that fill them.

No trainee name, phone or email appears in any of them, except `trainees` of a programme (names and
employee codes only) for an organization granted `corporate_reports.view`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import url_for
from pydantic import BaseModel, Field

from core.models import OrganizationGrant, RegisterDocument
from core.portals.programmes import Programme, ProgrammeDetail, SessionLine, TraineeProgress
from core.portals.reports import report_of


class AttendanceCounts(BaseModel):
    PRESENT: int
    ABSENT: int
    LATE: int
    EXCUSED: int


RATE = Field(description="Present and late over present, late and absent (0–1); null before any such mark.")


class ProgrammeOut(BaseModel):
    cohort_id: int
    name: str
    course: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    status: str
    trainees: int
    sessions_planned: int = Field(description="Sessions not cancelled, past and future.")
    sessions_held: int = Field(description="Sessions not cancelled that have ended.")
    sessions_cancelled: int
    attendance: AttendanceCounts
    attendance_rate: float | None = RATE
    url: str


class OrganizationRef(BaseModel):
    id: int
    name: str


class ProgrammePage(BaseModel):
    organization: OrganizationRef | None
    organizations: list[OrganizationRef] = Field(description="Every organization you belong to.")
    items: list[ProgrammeOut]
    page: int
    per_page: int
    total: int
    pages: int


class SessionOut(BaseModel):
    session_id: int
    date: dt.date
    start_time: str
    end_time: str
    session_type: str
    delivery: Literal["delivered", "not_marked", "cancelled", "planned"] = Field(
        description="planned until it ends; then delivered if its register holds marks, else not_marked.")
    hours: float
    attendance: AttendanceCounts
    attendance_rate: float | None = RATE
    locked: bool = Field(False, description="The register is locked (by hand, or past its cut-off), as it shows.")


class TraineeProgressOut(BaseModel):
    trainee_id: int
    name: str
    employee_code: str | None
    attendance: AttendanceCounts
    sessions_missed: int
    attendance_rate: float | None = RATE
    level: str | None = Field(None, description="At-risk level: ok, watch, at_risk or cannot_reach.")
    margin: int | None = Field(None, description="Sessions that may still be missed (negative: out of reach).")


class ProgrammeDetailOut(BaseModel):
    programme: ProgrammeOut
    organization: OrganizationRef
    time_zone: str
    hours_delivered: float
    sessions: list[SessionOut]
    reports_allowed: bool = Field(description="The organization may download delivery and progress reports.")
    trainees: list[TraineeProgressOut] | None = Field(
        description="Your employees' progress; only for organizations granted corporate_reports.view.")


class ReportOut(BaseModel):
    id: int
    cohort_id: int
    kind: Literal["delivery", "progress"]
    format: Literal["pdf", "xlsx"]
    status: Literal["PENDING", "BUILDING", "READY", "FAILED"]
    status_url: str
    download_url: str | None
    sha256: str | None
    size_bytes: int | None
    error: str | None
    reference: str = Field(description="Public: printed on the report; /verify/<reference> checks it.")
    verify_url: str
    language: str = Field(description="The report's language: the one asked for, else the institution's default.")


class GrantOut(BaseModel):
    organization_id: int
    permission: str
    granted_at: dt.datetime
    granted_by_id: int | None


def present_programme(p: Programme) -> ProgrammeOut:
    return ProgrammeOut(
        cohort_id=p.cohort_id, name=p.name, course=p.course, start_date=p.start_date, end_date=p.end_date,
        status=p.status, trainees=p.trainees, sessions_planned=p.sessions_planned, sessions_held=p.sessions_held,
        sessions_cancelled=p.sessions_cancelled, attendance=AttendanceCounts(**p.attendance),
        attendance_rate=p.attendance_rate, url=url_for("portals.api_programme", cohort_id=p.cohort_id))


def _session(s: SessionLine) -> SessionOut:
    return SessionOut(session_id=s.session_id, date=s.date, start_time=s.start_time.strftime("%H:%M"),
                      end_time=s.end_time.strftime("%H:%M"), session_type=s.session_type, delivery=s.delivery,
                      hours=s.hours, attendance=AttendanceCounts(**s.attendance), attendance_rate=s.attendance_rate,
                      locked=s.locked)


def _trainee(t: TraineeProgress) -> TraineeProgressOut:
    return TraineeProgressOut(trainee_id=t.trainee_id, name=t.name, employee_code=t.employee_code,
                              attendance=AttendanceCounts(**t.attendance), sessions_missed=t.sessions_missed,
                              attendance_rate=t.attendance_rate, level=t.level, margin=t.margin)


def present_detail(d: ProgrammeDetail) -> ProgrammeDetailOut:
    return ProgrammeDetailOut(
        programme=present_programme(d.programme),
        organization=OrganizationRef(id=d.organization.id, name=d.organization.name),
        time_zone=d.time_zone, hours_delivered=d.hours_delivered, sessions=[_session(s) for s in d.sessions],
        reports_allowed=d.reports_allowed,
        trainees=[_trainee(t) for t in d.trainees] if d.trainees is not None else None)


def present_report(doc: RegisterDocument) -> ReportOut:
    kind, fmt = report_of(doc)
    ready = doc.status.value == "READY"
    return ReportOut(id=doc.id, cohort_id=doc.cohort_id, kind=kind, format=fmt, status=doc.status.value,
                     status_url=url_for("portals.api_report", document_id=doc.id),
                     download_url=url_for("portals.download_report", document_id=doc.id) if ready else None,
                     sha256=doc.sha256, size_bytes=doc.size_bytes, error=doc.error_message, reference=doc.reference,
                     verify_url=url_for("registers.verify_reference", reference=doc.reference),
                     language=doc.language)


def present_grant(g: OrganizationGrant) -> GrantOut:
    return GrantOut(organization_id=g.organization_id, permission=g.permission, granted_at=g.granted_at,
                    granted_by_id=g.granted_by_id)
