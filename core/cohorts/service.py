"""Organizations, their corporate agreements, and the corporate cohorts an ACTIVE agreement spawns.

Each use case takes a typed command (core.cohorts.commands) and is one unit of work.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.collation import collated, like_pattern, name_matches
from core.db import flush_or_conflict
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.institutions.phones import institution_mobile
from core.institutions.service import acting_institution
from core.models import (
    AgreementStatus,
    ClassSession,
    Cohort,
    CohortStatus,
    CohortType,
    CorporateAgreement,
    CorporateTrainee,
    Institution,
    Organization,
    Qualification,
    Role,
    SessionStatus,
    User,
)
from core.uow import unit_of_work

from .commands import (
    CreateAgreement,
    CreateCorporateCohort,
    CreateOrganization,
    SetAgreementStatus,
    UpdateCorporateCohort,
)

__all__ = ["like_pattern"]

# Which agreement status may follow which. EXPIRED and TERMINATED are final.
AGREEMENT_TRANSITIONS: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.SUSPENDED, AgreementStatus.EXPIRED,
                                       AgreementStatus.TERMINATED}),
    AgreementStatus.SUSPENDED: frozenset({AgreementStatus.ACTIVE, AgreementStatus.EXPIRED,
                                          AgreementStatus.TERMINATED}),
    AgreementStatus.EXPIRED: frozenset(),
    AgreementStatus.TERMINATED: frozenset(),
}
COHORT_EDITABLE = ("name", "qualification_id", "start_date", "end_date", "proposal_reference", "request_reference",
                   "contact_name", "contact_phone", "notes", "expected_trainee_count", "required_rate", "absence_limit")


def field_problem(field: str, message: str, code: str = "validation_error") -> ValidationError:
    """One field's problem as the API's 422 (details: [{field, message}])."""
    return ValidationError(message, code=code, details=[{"field": field, "message": message}])


def check_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise field_problem("end_date", N_("The end date is before the start date."), "dates_out_of_order")


def check_qualification(session: Session, institution_id: int, qualification_id: int | None) -> None:
    if qualification_id is None:
        return
    found = session.scalar(select(Qualification.id).where(Qualification.id == qualification_id,
                                                          Qualification.institution_id == institution_id))
    if found is None:
        raise field_problem("qualification_id", N_("No such qualification."), "unknown_qualification")


def _institution_filter(user: User, column: Any) -> ColumnElement[bool]:
    return true() if user.role == Role.SUPER_ADMIN else column == user.institution_id


# ---------------------------------------------------------------- organizations


def visible_organization(session: Session, user: User, organization_id: int) -> Organization:
    org = session.scalar(select(Organization).where(
        Organization.id == organization_id, _institution_filter(user, Organization.institution_id)))
    if org is None:
        raise NotFound(N_("No such organization."))
    return org


def organizations_query(user: User, q: str = "", language: str = "en") -> Select[Any]:
    stmt = select(Organization).where(_institution_filter(user, Organization.institution_id))
    if q:
        stmt = stmt.where(name_matches(Organization.name, q))
    return stmt.order_by(collated(Organization.name, language), Organization.id)


def create_organization(session: Session, user: User, command: CreateOrganization) -> Organization:
    with unit_of_work(session):
        institution_id = acting_institution(session, user, command.institution_id)
        org = Organization(institution_id=institution_id, **command.model_dump(exclude={"institution_id"}))
        org.contact_phone = institution_mobile(session, institution_id, command.contact_phone, "contact_phone")
        session.add(org)
        flush_or_conflict(session, N_("An organization with this name already exists."), "duplicate_organization")
        audit.record(session, actor_id=user.id, action="organization.create", entity_type="organization",
                     entity_id=org.id, after={"name": org.name})
    return org


# ---------------------------------------------------------------- agreements


def visible_agreement(session: Session, user: User, agreement_id: int) -> CorporateAgreement:
    agreement = session.scalar(
        select(CorporateAgreement).join(Organization, Organization.id == CorporateAgreement.organization_id)
        .where(CorporateAgreement.id == agreement_id, _institution_filter(user, Organization.institution_id)))
    if agreement is None:
        raise NotFound(N_("No such agreement."))
    return agreement


def agreements_query(user: User, *, organization_id: int | None = None, status: str | None = None) -> Select[Any]:
    stmt = (select(CorporateAgreement, Organization.name.label("organization_name"))
            .join(Organization, Organization.id == CorporateAgreement.organization_id)
            .where(_institution_filter(user, Organization.institution_id)))
    if organization_id is not None:
        stmt = stmt.where(CorporateAgreement.organization_id == organization_id)
    if status:
        stmt = stmt.where(CorporateAgreement.status == AgreementStatus(status))
    return stmt.order_by(CorporateAgreement.created_at.desc(), CorporateAgreement.id.desc())


def create_agreement(session: Session, user: User, organization_id: int,
                     command: CreateAgreement) -> CorporateAgreement:
    with unit_of_work(session):
        org = visible_organization(session, user, organization_id)
        check_dates(command.start_date, command.end_date)
        agreement = CorporateAgreement(organization_id=org.id, **command.model_dump())
        session.add(agreement)
        flush_or_conflict(session, N_("An agreement with this reference already exists."), "duplicate_agreement")
        audit.record(session, actor_id=user.id, action="agreement.create", entity_type="corporate_agreement",
                     entity_id=agreement.id, after={"reference": agreement.reference, "status": command.status})
    return agreement


def set_agreement_status(session: Session, user: User, agreement_id: int,
                         command: SetAgreementStatus) -> CorporateAgreement:
    with unit_of_work(session):
        agreement = visible_agreement(session, user, agreement_id)
        new, old = AgreementStatus(command.status), agreement.status
        if new == old:
            return agreement
        if new not in AGREEMENT_TRANSITIONS[old]:
            raise ValidationError(N_("An agreement cannot go from %(old)s to %(new)s."), code="invalid_transition",
                                  params={"old": old.value, "new": new.value})
        agreement.status = new
        audit.record(session, actor_id=user.id, action="agreement.status", entity_type="corporate_agreement",
                     entity_id=agreement.id, before={"status": old.value}, after={"status": new.value})
    return agreement


# ---------------------------------------------------------------- corporate cohorts


def corporate_cohort(session: Session, cohort: Cohort) -> Cohort:
    """`cohort` (already scope-checked) if it is a corporate one; 404 otherwise."""
    if cohort.cohort_type != CohortType.CORPORATE:
        raise NotFound(N_("No such corporate cohort."))
    return cohort


def _zone(session: Session, institution_id: int) -> str:
    inst = session.get(Institution, institution_id)
    return inst.time_zone if inst else "UTC"


def create_corporate_cohort(session: Session, user: User, agreement_id: int,
                            command: CreateCorporateCohort) -> Cohort:
    with unit_of_work(session):
        agreement = visible_agreement(session, user, agreement_id)
        if agreement.status != AgreementStatus.ACTIVE:
            raise ValidationError(N_("Agreement %(reference)s is %(status)s: only an ACTIVE agreement can start a "
                                     "cohort."), code="agreement_not_active",
                                  params={"reference": agreement.reference, "status": agreement.status.value})
        org = session.get(Organization, agreement.organization_id)
        assert org is not None
        values = command.model_dump()
        check_qualification(session, org.institution_id, command.qualification_id)
        values["start_date"] = (command.start_date or agreement.start_date
                                or clock.today_in(_zone(session, org.institution_id)))
        values["end_date"] = command.end_date or agreement.end_date
        check_dates(values["start_date"], values["end_date"])
        values["name"] = command.name or f"{org.name} — {agreement.title}"[:200]
        values["contact_phone"] = institution_mobile(session, org.institution_id, command.contact_phone,
                                                     "contact_phone")
        cohort = Cohort(institution_id=org.institution_id, cohort_type=CohortType.CORPORATE,
                        status=CohortStatus.ACTIVE, organization_id=org.id, agreement_id=agreement.id,
                        created_by_id=user.id, **values)
        session.add(cohort)
        session.flush()
        audit.record(session, actor_id=user.id, action="corporate_cohort.create", entity_type="cohort",
                     entity_id=cohort.id, after=cohort_snapshot(cohort), context={"agreement_id": agreement.id})
    return cohort


def update_corporate_cohort(session: Session, user: User, cohort: Cohort, command: UpdateCorporateCohort) -> Cohort:
    with unit_of_work(session):
        corporate_cohort(session, cohort)
        if cohort.status == CohortStatus.CANCELLED:
            raise ValidationError(N_("A cancelled cohort cannot be edited."), code="cohort_cancelled")
        values = command.model_dump(exclude_unset=True)
        if "name" in values and not values["name"]:
            raise field_problem("name", N_("Name is required."), "required")
        check_qualification(session, cohort.institution_id, values.get("qualification_id"))
        check_dates(values.get("start_date", cohort.start_date), values.get("end_date", cohort.end_date))
        if "contact_phone" in values:
            values["contact_phone"] = institution_mobile(session, cohort.institution_id, values["contact_phone"],
                                                         "contact_phone")
        before = cohort_snapshot(cohort)
        for name, value in values.items():
            setattr(cohort, name, value)
        audit.record(session, actor_id=user.id, action="corporate_cohort.update", entity_type="cohort",
                     entity_id=cohort.id, before=before, after=cohort_snapshot(cohort))
    return cohort


def cancel_corporate_cohort(session: Session, user: User, cohort: Cohort) -> int:
    """Cancel the cohort and its future sessions; past sessions and attendance records stay. Returns
    how many sessions were cancelled."""
    with unit_of_work(session):
        corporate_cohort(session, cohort)
        if cohort.status == CohortStatus.CANCELLED:
            return 0
        before = cohort.status.value
        cohort.status = CohortStatus.CANCELLED
        cancelled = session.execute(
            update(ClassSession)
            .where(ClassSession.cohort_id == cohort.id, ClassSession.starts_at > clock.now(),
                   ClassSession.status == SessionStatus.SCHEDULED)
            .values(status=SessionStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        audit.record(session, actor_id=user.id, action="corporate_cohort.cancel", entity_type="cohort",
                     entity_id=cohort.id, before={"status": before},
                     after={"status": "CANCELLED", "sessions_cancelled": cancelled})
    return int(cancelled or 0)


def cohort_snapshot(cohort: Cohort) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in COHORT_EDITABLE:
        value = getattr(cohort, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def trainees_query(cohort_id: int, q: str = "", language: str = "en") -> Select[Any]:
    """A cohort's trainees, searchable by name (accents and case aside), email, phone, employee code or
    department; in `language`'s name order."""
    stmt = select(CorporateTrainee).where(CorporateTrainee.cohort_id == cohort_id)
    if q:
        like = like_pattern(q)
        stmt = stmt.where(or_(
            name_matches(CorporateTrainee.full_name, q), name_matches(CorporateTrainee.department, q),
            *(col.ilike(like, escape="\\") for col in (
                CorporateTrainee.email, CorporateTrainee.phone_e164, CorporateTrainee.employee_code))))
    return stmt.order_by(collated(CorporateTrainee.full_name, language), CorporateTrainee.id)
