"""Erasure (POPIA s.24, law 18-07): one transaction replaces the person's personal fields with a stable pseudonym,
closes their account, takes their former values out of the audit trail, the corrections history and the rows
that repeat them, and records the erasure without the erased values. Files go after commit (an outbox job);
legal holds win: marks stay (rates unchanged), submitted registers are kept until their retention ends.

Idempotent: a second call answers what the first did."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import Text, and_, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from core import audit, clock, jobs
from core.access.confirmation import confirm_password
from core.audit_trail import redaction
from core.models import (
    AccessRequestNotice,
    Apology,
    AtRiskNotice,
    AttendanceRecord,
    AuditEvent,
    CheckInAttempt,
    CorporateAttendanceRecord,
    Enrolment,
    LoginAttempt,
    OrgEmployee,
    PersonalDataCorrection,
    PersonalDataErasure,
    ReminderSent,
    TraineeImportRow,
    User,
)
from core.models.documents import _ALPHABET
from core.people.staff import end_access
from core.uow import unit_of_work

from . import holds
from .jobs import DELETE_ERASED_FILES
from .people import ENTITY_TYPES, Person, visible_person
from .policy import policy_of
from .scrub import json_forms, scrub_json, scrub_text
from .subjects import Subjects, gather, identifying_values

ERASED_MAIL_DOMAIN = "erased.invalid"  # RFC 2606: never delivered
_LABELS = {"learners": "learner", "trainees": "trainee", "users": "user"}


def pseudonym(kind: str, person_id: int) -> str:
    """Stable for the same person ("Erased learner 7F3K"), read aloud without 0/O or 1/I."""
    digest = hashlib.sha256(f"{kind}:{person_id}".encode()).digest()
    return f"Erased {_LABELS[kind]} " + "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:4])


def erase(session: Session, actor: User, kind: str, person_id: int, reason: str, password: str | None,
          confirmed_at: dt.datetime | None = None) -> tuple[PersonalDataErasure, bool]:
    """Erase the person (404 outside the actor's institution); (the erasure, True when this call did it)."""
    with unit_of_work(session):
        person = visible_person(session, actor, kind, person_id, for_update=True)
        confirm_password(session, actor, password, confirmed_at)
        done = session.scalar(select(PersonalDataErasure).where(PersonalDataErasure.person_kind == kind,
                                                                PersonalDataErasure.person_id == person_id))
        if done is not None:
            return done, False
        erasure = _erase(session, actor, person, reason)
    return erasure, True


def _erase(session: Session, actor: User, person: Person, reason: str) -> PersonalDataErasure:
    subjects = gather(session, person)
    values = identifying_values(session, subjects)
    name = pseudonym(person.kind, person.id)
    policy = policy_of(session, person.institution_id)
    pending: list[str] = []
    summary: dict[str, Any] = {}
    held = holds.documents(session, subjects, policy, pending)
    summary["evidence_files"] = holds.evidence(session, subjects, pending)
    summary["signatures"] = holds.signatures(session, subjects, pending)
    summary["earlier_exports"] = holds.earlier_exports(session, subjects, pending)
    summary["import_rows"], held_imports = holds.import_files(
        session, person.institution_id, _import_match(subjects, values), {
            "full_name": name, "phone_e164": None, "email": None, "job_title": None, "employee_code": None,
            "department": None, "id_number": None, "date_of_birth": None}, policy, pending)
    held.extend(held_imports)
    summary["audit_events"] = _scrub_audit(session, subjects, values, name, actor.id)
    summary["free_text"] = _scrub_free_text(session, subjects, values, name)
    summary["corrections"] = _forget_corrections(session, subjects)
    _close_accounts(session, subjects, name)
    _pseudonymize(subjects, name)
    summary["marks_kept"] = _count_marks(session, subjects)
    summary["documents_held"] = len(held)
    safe_reason = _without(reason, values, name)
    erasure = PersonalDataErasure(
        institution_id=person.institution_id, person_kind=person.kind, person_id=person.id, pseudonym=name,
        reason=safe_reason, requested_by_id=actor.id, erased_at=clock.now(), summary=summary, held={"items": held},
        pending_files={"keys": sorted(set(pending))},
        completed_at=None if held else clock.now())
    session.add(erasure)
    session.flush()
    audit.record(session, actor_id=actor.id, action="personal_data.erase", entity_type=ENTITY_TYPES[person.kind],
                 entity_id=person.id, after={"pseudonym": name},
                 context={"reason": safe_reason, "erasure_id": erasure.id, "held": len(held)})
    if pending:
        jobs.enqueue(session, DELETE_ERASED_FILES, erasure.id)
    return erasure


def _without(text: str, values: list[str], name: str) -> str:
    for value in values:
        text = text.replace(value, name)
    return text


def _import_match(subjects: Subjects, values: list[str]) -> Any:
    rows = [*subjects.learners, *subjects.trainees, *subjects.users]
    emails = {r.email for r in rows if getattr(r, "email", None)}
    phones = {r.phone_e164 for r in rows if getattr(r, "phone_e164", None)}
    ids = {r.id_number for r in subjects.learners if r.id_number}
    cond = [TraineeImportRow.email.in_(emails), TraineeImportRow.phone_e164.in_(phones),
            TraineeImportRow.id_number.in_(ids)]
    return or_(*cond)


def _scrub_audit(session: Session, subjects: Subjects, values: list[str], name: str, actor_id: int) -> int:
    """Before/after/context of the audit events about the person, their marks and enrolments; the rewrite is
    recorded in the hash-chained trail (core.audit_trail.redaction), so it is a lawful redaction, not a break."""
    about = [and_(AuditEvent.entity_type == ENTITY_TYPES[kind], AuditEvent.entity_id.in_(subjects.ids(kind)))
             for kind in ("learners", "trainees", "users") if subjects.ids(kind)]
    if subjects.enrolment_ids:
        about.append(and_(AuditEvent.entity_type == "enrolment", AuditEvent.entity_id.in_(subjects.enrolment_ids)))
        about.append(and_(AuditEvent.entity_type == "attendance_record",
                          AuditEvent.entity_id.in_(subjects.public_marks())))
    if subjects.trainees:
        about.append(and_(AuditEvent.entity_type == "corporate_attendance_record",
                          AuditEvent.entity_id.in_(subjects.corporate_marks())))
    if not about:
        return 0
    where = or_(*about)
    # Only the rows that hold a former value are rewritten: the redaction, recorded in the chain itself, names them.
    touched = select(AuditEvent.id).where(where, or_(*(cast(c, Text).contains(n, autoescape=True)
                                                        for c in (AuditEvent.before, AuditEvent.after,
                                                                  AuditEvent.context) for n in json_forms(values))))
    redaction.record(session, session.scalars(touched), actor_id=actor_id, reason="personal_data.erase")
    return sum(scrub_json(session, column, where, values, name)
               for column in (AuditEvent.before, AuditEvent.after, AuditEvent.context))


def _scrub_free_text(session: Session, subjects: Subjects, values: list[str], name: str) -> int:
    """Notes on their marks, withdrawal reasons, delivery errors of mails to them; their apologies' reasons
    (their own words about their health) are emptied."""
    changed = 0
    if subjects.enrolment_ids:
        changed += scrub_text(session, AttendanceRecord.notes,
                              AttendanceRecord.enrolment_id.in_(subjects.enrolment_ids), values, name)
        changed += scrub_text(session, Enrolment.withdrawal_reason, Enrolment.id.in_(subjects.enrolment_ids),
                              values, name)
    if subjects.trainees:
        changed += scrub_text(session, CorporateAttendanceRecord.notes,
                              CorporateAttendanceRecord.trainee_id.in_(subjects.ids("trainees")), values, name)
    if user_ids := subjects.ids("users"):
        changed += session.execute(update(Apology).where(Apology.user_id.in_(user_ids))
                                   .values(reason=name)).rowcount or 0  # type: ignore[attr-defined]
        for model in (ReminderSent, AtRiskNotice, AccessRequestNotice):
            session.execute(update(model).where(model.recipient_id.in_(user_ids), model.last_error.is_not(None))
                            .values(last_error=None))
        session.execute(update(CheckInAttempt).where(CheckInAttempt.user_id.in_(user_ids))
                        .values(address=None, device_id=None))
    emails = [r.email for r in (*subjects.learners, *subjects.trainees, *subjects.users) if r.email]
    if emails:
        session.execute(delete(LoginAttempt).where(LoginAttempt.email.in_(emails)))
    return changed


def _forget_corrections(session: Session, subjects: Subjects) -> int:
    """The corrections stay (a change was made, by whom, when, why); their values go."""
    cond = [and_(PersonalDataCorrection.person_kind == kind, PersonalDataCorrection.person_id.in_(subjects.ids(kind)))
            for kind in ("learners", "trainees", "users") if subjects.ids(kind)]
    if not cond:
        return 0
    return session.execute(update(PersonalDataCorrection).where(or_(*cond))
                           .values(old_value=None, new_value=None, reason=None)).rowcount or 0  # type: ignore[attr-defined]


def _close_accounts(session: Session, subjects: Subjects, name: str) -> None:
    for account in subjects.users:
        end_access(session, account.id)
        account.email = f"erased-{account.id}@{ERASED_MAIL_DOMAIN}"
        account.full_name, account.phone_e164, account.password_hash = name, None, None
        account.active, account.agency_name = False, None
    employee_ids = [t.org_employee_id for t in subjects.trainees if t.org_employee_id is not None]
    if employee_ids:
        session.execute(update(OrgEmployee).where(OrgEmployee.id.in_(employee_ids)).values(
            full_name=name, employee_code=None, email=None, phone_e164=None, department=None, job_title=None))


def _pseudonymize(subjects: Subjects, name: str) -> None:
    for learner in subjects.learners:
        learner.full_name = name
        learner.id_number = learner.email = learner.phone_e164 = None
        learner.date_of_birth = None
    for trainee in subjects.trainees:
        trainee.full_name = name
        trainee.phone_e164 = trainee.email = trainee.job_title = None
        trainee.employee_code = trainee.department = None


def _count_marks(session: Session, subjects: Subjects) -> int:
    from sqlalchemy import func

    public = session.scalar(select(func.count()).select_from(subjects.public_marks().subquery())) or 0
    corporate = session.scalar(select(func.count()).select_from(subjects.corporate_marks().subquery())) or 0
    return int(public) + int(corporate)


def delete_files(session: Session, storage: Any, erasure_id: int) -> int:
    """The job after commit: delete the files the erasure listed (missing ones are fine), then record it. Run
    again (a crash, a redelivery) it deletes what is left and records the same."""
    erasure = session.get(PersonalDataErasure, erasure_id)
    if erasure is None:
        return 0
    keys = list((erasure.pending_files or {}).get("keys", []))
    for key in keys:
        storage.delete(key)
    with unit_of_work(session):
        session.execute(update(PersonalDataErasure).where(PersonalDataErasure.id == erasure_id)
                        .values(pending_files={"keys": []}, files_deleted_at=clock.now()))
    return len(keys)


def present(erasure: PersonalDataErasure, *, done_now: bool) -> dict[str, Any]:
    held = [{k: v for k, v in item.items() if k != "storage_key"} for item in (erasure.held or {}).get("items", [])]
    return {"id": erasure.id, "kind": erasure.person_kind, "person_id": erasure.person_id,
            "pseudonym": erasure.pseudonym, "erased_at": erasure.erased_at.isoformat(),
            "status": "COMPLETE" if erasure.completed_at is not None else "HELD", "already_erased": not done_now,
            "held": held, "summary": erasure.summary,
            "files_pending": len((erasure.pending_files or {}).get("keys", [])),
            "completed_at": erasure.completed_at.isoformat() if erasure.completed_at else None}


def erasure_of(session: Session, kind: str, person_id: int) -> PersonalDataErasure | None:
    return session.scalar(select(PersonalDataErasure).where(PersonalDataErasure.person_kind == kind,
                                                            PersonalDataErasure.person_id == person_id))


def is_erased(person: Person) -> bool:
    return str(getattr(person.row, "full_name", "")).startswith("Erased ")
