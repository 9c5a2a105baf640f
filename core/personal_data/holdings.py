"""Everything held on one person, as plain data for their export: profile, account, enrolments, every mark with
its audit trail, check-ins, apologies, evidence, documents naming them, corrections, and who saw their data
(staff views and exports, regulator reads, organization reports that included them)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.models import (
    AccessRequest,
    AccessRequestRead,
    Apology,
    AttendanceRecord,
    AuditEvent,
    CheckInAttempt,
    ClassSession,
    Cohort,
    CorporateAttendanceRecord,
    DocumentKind,
    DocumentStatus,
    Enrolment,
    EvidenceFile,
    Institution,
    LearnerSignature,
    Organization,
    PersonalDataAccess,
    RegisterDocument,
    User,
)

from . import corrections
from .people import PERSONAL_FIELDS, Person, snapshot
from .subjects import Subjects

ORG_REPORTS = (DocumentKind.DELIVERY_REPORT_PDF, DocumentKind.DELIVERY_REPORT_XLSX, DocumentKind.PROGRESS_REPORT_PDF)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _enum(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def collect(session: Session, person: Person, subjects: Subjects) -> dict[str, Any]:
    inst = session.get(Institution, person.institution_id) if person.institution_id else None
    out: dict[str, Any] = {
        "person": {"kind": person.kind, "id": person.id, **snapshot(person.kind, person.row)},
        "institution": {"name": inst.name if inst else None,
                        "information_officer": {"name": inst.information_officer_name if inst else None,
                                                "email": inst.information_officer_email if inst else None}},
        "linked_records": [{"kind": kind, "id": row.id, **snapshot(kind, row)}
                           for kind in ("learners", "trainees", "users") for row in getattr(subjects, kind)
                           if not (kind == person.kind and row.id == person.id)],
        "accounts": [{"id": u.id, "email": u.email, "role": _enum(u.role), "language": u.language,
                      "active": u.active, "last_login_at": _iso(u.last_login_at)} for u in subjects.users],
    }
    out["enrolments"] = _enrolments(session, subjects)
    out["marks"] = _marks(session, subjects)
    out["check_ins"] = _check_ins(session, subjects)
    out["apologies"] = [{"id": a.id, "reason": a.reason, "status": _enum(a.status), "created_at": _iso(a.created_at),
                         "decided_at": _iso(a.decided_at), "decision_reason": a.decision_reason,
                         "evidence_file_id": a.evidence_file_id}
                        for a in session.scalars(select(Apology).where(Apology.user_id.in_(subjects.ids("users")))
                                                 .order_by(Apology.id))]
    out["corrections"] = [corrections.present(c) for kind in ("learners", "trainees", "users")
                          for i in subjects.ids(kind) for c in corrections.history(session, kind, i)]
    out["documents"] = documents_naming(session, subjects)
    out["seen_by"] = seen_by(session, subjects)
    return out


def _enrolments(session: Session, subjects: Subjects) -> list[dict[str, Any]]:
    rows = session.execute(select(Enrolment, Cohort.name).outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
                           .where(Enrolment.id.in_(subjects.enrolment_ids)).order_by(Enrolment.id)).all()
    found = [{"id": e.id, "cohort_id": e.cohort_id, "cohort": name, "status": _enum(e.status),
              "enrolled_on": _iso(e.enrolled_on), "withdrawn_on": _iso(e.withdrawn_on),
              "withdrawal_reason": e.withdrawal_reason} for e, name in rows]
    for t in subjects.trainees:
        cohort = session.get(Cohort, t.cohort_id)
        found.append({"trainee_id": t.id, "cohort_id": t.cohort_id, "cohort": cohort.name if cohort else None,
                      "active": t.active})
    return found


def _marks(session: Session, subjects: Subjects) -> list[dict[str, Any]]:
    """Every mark with its session's date and its audit trail (one query for the marks, one for the trail)."""
    marks: list[dict[str, Any]] = []
    for model, entity, member in ((AttendanceRecord, "attendance_record", AttendanceRecord.enrolment_id.in_(
            subjects.enrolment_ids)), (CorporateAttendanceRecord, "corporate_attendance_record",
                                       CorporateAttendanceRecord.trainee_id.in_(subjects.ids("trainees")))):
        rows = session.execute(select(model, ClassSession.starts_at, ClassSession.cohort_id)
                               .outerjoin(ClassSession, ClassSession.id == model.session_id).where(member)
                               .order_by(model.id)).all()
        if not rows:
            continue
        trail: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for ev in session.scalars(select(AuditEvent).where(AuditEvent.entity_type == entity, AuditEvent.entity_id.in_(
                [r[0].id for r in rows])).order_by(AuditEvent.id)):
            trail[ev.entity_id].append({"at": _iso(ev.at), "action": ev.action, "actor_id": ev.actor_id,
                                        "before": ev.before, "after": ev.after})
        for rec, starts_at, cohort_id in rows:
            marks.append({"id": rec.id, "table": entity, "session_id": rec.session_id, "cohort_id": cohort_id,
                          "session_starts_at": _iso(starts_at), "record_date": _iso(getattr(rec, "record_date", None)),
                          "status": _enum(rec.status), "minutes_late": rec.minutes_late, "notes": rec.notes,
                          "source": rec.source, "marked_at": _iso(rec.marked_at),
                          "checked_in_at": _iso(rec.checked_in_at), "evidence_file_id": rec.evidence_file_id,
                          "audit_trail": trail.get(rec.id, [])})
    return marks


def _check_ins(session: Session, subjects: Subjects) -> list[dict[str, Any]]:
    if not subjects.users:
        return []
    return [{"session_id": c.session_id, "at": _iso(c.at), "accepted": c.accepted, "reason": c.reason,
             "address": c.address, "device_id": c.device_id}
            for c in session.scalars(select(CheckInAttempt).where(CheckInAttempt.user_id.in_(subjects.ids("users")))
                                     .order_by(CheckInAttempt.id))]


def evidence_files(session: Session, subjects: Subjects) -> list[EvidenceFile]:
    ids = select(AttendanceRecord.evidence_file_id).where(AttendanceRecord.enrolment_id.in_(subjects.enrolment_ids))
    ids = ids.union(select(CorporateAttendanceRecord.evidence_file_id).where(
        CorporateAttendanceRecord.trainee_id.in_(subjects.ids("trainees"))),
        select(Apology.evidence_file_id).where(Apology.user_id.in_(subjects.ids("users"))))
    return list(session.scalars(select(EvidenceFile).where(EvidenceFile.id.in_(ids.scalar_subquery()))
                                .order_by(EvidenceFile.id)))


def signature_files(session: Session, subjects: Subjects) -> list[LearnerSignature]:
    cond = []
    if subjects.enrolment_ids:
        cond.append(and_(LearnerSignature.member_type == "enrolment",
                         LearnerSignature.member_id.in_(subjects.enrolment_ids)))
    if subjects.trainees:
        cond.append(and_(LearnerSignature.member_type == "corporate_trainee",
                         LearnerSignature.member_id.in_(subjects.ids("trainees"))))
    if not cond:
        return []
    return list(session.scalars(select(LearnerSignature).where(or_(*cond)).order_by(LearnerSignature.id)))


def documents_naming(session: Session, subjects: Subjects) -> list[dict[str, Any]]:
    """Ready register documents and client reports of the person's cohorts (each names the cohort's people)."""
    if not subjects.cohort_ids:
        return []
    return [{"id": d.id, "reference": d.reference, "kind": _enum(d.kind), "format": _enum(d.format),
             "cohort_id": d.cohort_id, "created_at": _iso(d.created_at), "storage_key": d.storage_key}
            for d in session.scalars(select(RegisterDocument).where(
                RegisterDocument.cohort_id.in_(subjects.cohort_ids), RegisterDocument.status == DocumentStatus.READY,
                RegisterDocument.storage_key.is_not(None)).order_by(RegisterDocument.id))]


def seen_by(session: Session, subjects: Subjects) -> dict[str, Any]:
    """Who saw the person's data: staff views and exports (the access log), regulator reads of their cohorts under
    a grant, and client organizations' reports that included them."""
    people = [and_(PersonalDataAccess.person_kind == kind, PersonalDataAccess.person_id.in_(subjects.ids(kind)))
              for kind in ("learners", "trainees", "users") if subjects.ids(kind)]
    staff = session.execute(select(PersonalDataAccess, User.full_name).outerjoin(
        User, User.id == PersonalDataAccess.viewer_id).where(or_(*people)).order_by(PersonalDataAccess.at)
                            ).all() if people else []
    reads = session.execute(select(AccessRequestRead, User.full_name, User.agency_name).join(
        AccessRequest, AccessRequest.id == AccessRequestRead.access_request_id).outerjoin(
        User, User.id == AccessRequestRead.regulator_id).where(AccessRequestRead.cohort_id.in_(subjects.cohort_ids))
                            .order_by(AccessRequestRead.at)).all() if subjects.cohort_ids else []
    reports = []
    if subjects.cohort_ids:
        reports = session.execute(
            select(RegisterDocument, Organization.name).join(Cohort, Cohort.id == RegisterDocument.cohort_id)
            .outerjoin(Organization, Organization.id == Cohort.organization_id)
            .where(RegisterDocument.cohort_id.in_(subjects.cohort_ids), RegisterDocument.kind.in_(ORG_REPORTS))
            .order_by(RegisterDocument.id)).all()
    return {
        "staff": [{"at": _iso(a.at), "action": a.action, "by": name, "role": a.viewer_role} for a, name in staff],
        "regulators": [{"at": _iso(r.at), "by": name, "agency": agency, "what": r.resource_type or r.endpoint,
                        "cohort_id": r.cohort_id, "access_request_id": r.access_request_id}
                       for r, name, agency in reads],
        "organizations": [{"organization": org, "report": _enum(d.kind), "reference": d.reference,
                           "created_at": _iso(d.created_at)} for d, org in reports],
    }


__all__ = ["PERSONAL_FIELDS", "collect", "documents_naming", "evidence_files", "seen_by"]
