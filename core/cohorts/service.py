"""Organizations, their corporate agreements, and the corporate cohorts an ACTIVE agreement spawns.

Each public function is one transaction. Inputs arrive as plain dicts of strings (form or JSON);
problems are collected per field and raised as one ValidationError with `details`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.orm import Session

from core import audit, clock
from core.db import flush_or_conflict
from core.errors import NotFound, ValidationError
from core.imports.rules import REASONS, normalize_dz_mobile, normalize_email
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
                   "contact_name", "contact_phone", "notes", "expected_trainee_count")


class _Fields:
    """Collects per-field problems while reading an input mapping."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str, limit: int, required: bool = False, label: str | None = None) -> str | None:
        raw = self.data.get(name)
        value = "" if raw is None else str(raw).strip()
        if not value:
            if required:
                self.errors[name] = f"{label or name.replace('_', ' ').capitalize()} is required."
            return None
        if len(value) > limit:
            self.errors[name] = f"At most {limit} characters."
            return None
        return value

    def date(self, name: str) -> dt.date | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            self.errors[name] = "Use a date like 2026-03-31."
            return None

    def integer(self, name: str, minimum: int = 0) -> int | None:
        raw = self.data.get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(str(raw).strip())
        except ValueError:
            self.errors[name] = "Enter a whole number."
            return None
        if value < minimum:
            self.errors[name] = f"Must be at least {minimum}."
            return None
        return value

    def phone(self, name: str) -> str | None:
        value = self.text(name, 40)
        if value is None:
            return None
        e164, code = normalize_dz_mobile(value)
        if code:
            self.errors[name] = REASONS[code]
        return e164

    def email(self, name: str) -> str | None:
        value = self.text(name, 254)
        if value is None:
            return None
        email, problem = normalize_email(value)
        if problem:
            self.errors[name] = problem
        return email

    def check(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))
            raise ValidationError(first if len(self.errors) == 1 else f"Please correct the marked fields: {first}",
                                  details=self.errors)


def _institution_filter(user: User, column: Any) -> ColumnElement[bool]:
    return true() if user.role == Role.SUPER_ADMIN else column == user.institution_id


# ---------------------------------------------------------------- organizations


def visible_organization(session: Session, user: User, organization_id: int) -> Organization:
    org = session.scalar(select(Organization).where(
        Organization.id == organization_id, _institution_filter(user, Organization.institution_id)))
    if org is None:
        raise NotFound("No such organization.")
    return org


def organizations_query(user: User, q: str = "") -> Any:
    stmt = select(Organization).where(_institution_filter(user, Organization.institution_id))
    if q:
        stmt = stmt.where(Organization.name.ilike(like_pattern(q), escape="\\"))
    return stmt.order_by(Organization.name, Organization.id)


def create_organization(session: Session, user: User, data: Mapping[str, Any]) -> Organization:
    f = _Fields(data)
    name = f.text("name", 200, required=True)
    registration = f.text("registration_number", 80)
    email = f.email("contact_email")
    phone = f.phone("contact_phone")
    institution_id = user.institution_id or _default_institution(session, data)
    f.check()
    org = Organization(institution_id=institution_id, name=name, registration_number=registration,
                       contact_email=email, contact_phone=phone)
    session.add(org)
    flush_or_conflict(session, f"An organization named “{name}” already exists.", "duplicate_organization")
    audit.record(session, actor_id=user.id, action="organization.create", entity_type="organization",
                 entity_id=org.id, after={"name": name})
    session.commit()
    return org


def _default_institution(session: Session, data: Mapping[str, Any]) -> int:
    raw = data.get("institution_id")
    if raw not in (None, ""):
        try:
            inst = session.get(Institution, int(str(raw)))
        except ValueError:
            inst = None
        if inst is not None:
            return inst.id
    first = session.scalar(select(Institution.id).order_by(Institution.id).limit(1))
    if first is None:
        raise ValidationError("Create an institution first.")
    return first


# ---------------------------------------------------------------- agreements


def visible_agreement(session: Session, user: User, agreement_id: int) -> CorporateAgreement:
    agreement = session.scalar(
        select(CorporateAgreement).join(Organization, Organization.id == CorporateAgreement.organization_id)
        .where(CorporateAgreement.id == agreement_id, _institution_filter(user, Organization.institution_id)))
    if agreement is None:
        raise NotFound("No such agreement.")
    return agreement


def agreements_query(user: User, *, organization_id: int | None = None, status: str | None = None) -> Any:
    stmt = (select(CorporateAgreement, Organization.name.label("organization_name"))
            .join(Organization, Organization.id == CorporateAgreement.organization_id)
            .where(_institution_filter(user, Organization.institution_id)))
    if organization_id is not None:
        stmt = stmt.where(CorporateAgreement.organization_id == organization_id)
    if status:
        stmt = stmt.where(CorporateAgreement.status == parse_agreement_status(status))
    return stmt.order_by(CorporateAgreement.created_at.desc(), CorporateAgreement.id.desc())


def parse_agreement_status(raw: Any) -> AgreementStatus:
    try:
        return AgreementStatus(str(raw or "").strip().upper())
    except ValueError:
        allowed = ", ".join(s.value for s in AgreementStatus)
        raise ValidationError(f"Status must be one of {allowed}.", code="invalid_status",
                              details={"status": f"One of {allowed}."}) from None


def create_agreement(session: Session, user: User, organization_id: int,
                     data: Mapping[str, Any]) -> CorporateAgreement:
    org = visible_organization(session, user, organization_id)
    f = _Fields(data)
    reference = f.text("reference", 60, required=True)
    title = f.text("title", 200, required=True)
    start, end = f.date("start_date"), f.date("end_date")
    status = AgreementStatus.DRAFT
    if data.get("status"):
        try:
            status = parse_agreement_status(data["status"])
        except ValidationError as exc:
            f.errors["status"] = exc.message
    if start and end and end < start:
        f.errors["end_date"] = "The end date is before the start date."
    f.check()
    agreement = CorporateAgreement(organization_id=org.id, reference=reference, title=title, status=status,
                                   start_date=start, end_date=end)
    session.add(agreement)
    flush_or_conflict(session, f"An agreement with reference “{reference}” already exists.", "duplicate_agreement")
    audit.record(session, actor_id=user.id, action="agreement.create", entity_type="corporate_agreement",
                 entity_id=agreement.id, after={"reference": reference, "status": status.value})
    session.commit()
    return agreement


def set_agreement_status(session: Session, user: User, agreement_id: int, raw_status: Any) -> CorporateAgreement:
    agreement = visible_agreement(session, user, agreement_id)
    new = parse_agreement_status(raw_status)
    old = agreement.status
    if new == old:
        return agreement
    if new not in AGREEMENT_TRANSITIONS[old]:
        raise ValidationError(f"An agreement cannot go from {old.value} to {new.value}.",
                              code="invalid_transition")
    agreement.status = new
    audit.record(session, actor_id=user.id, action="agreement.status", entity_type="corporate_agreement",
                 entity_id=agreement.id, before={"status": old.value}, after={"status": new.value})
    session.commit()
    return agreement


# ---------------------------------------------------------------- corporate cohorts


def corporate_cohort(session: Session, cohort: Cohort) -> Cohort:
    """`cohort` (already scope-checked) if it is a corporate one; 404 otherwise."""
    if cohort.cohort_type != CohortType.CORPORATE:
        raise NotFound("No such corporate cohort.")
    return cohort


def _qualification(session: Session, f: _Fields, institution_id: int) -> int | None:
    qualification_id = f.integer("qualification_id", minimum=1)
    if qualification_id is None:
        return None
    found = session.scalar(select(Qualification.id).where(Qualification.id == qualification_id,
                                                          Qualification.institution_id == institution_id))
    if found is None:
        f.errors["qualification_id"] = "No such course."
    return found


def create_corporate_cohort(session: Session, user: User, agreement_id: int,
                            data: Mapping[str, Any]) -> Cohort:
    agreement = visible_agreement(session, user, agreement_id)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ValidationError(f"Agreement {agreement.reference} is {agreement.status.value}: only an ACTIVE "
                              "agreement can start a cohort.", code="agreement_not_active")
    org = session.get(Organization, agreement.organization_id)
    assert org is not None
    f = _Fields(data)
    values = _cohort_values(session, f, org.institution_id)
    start = values.get("start_date") or agreement.start_date or clock.today_in(_zone(session, org.institution_id))
    end = values.get("end_date") or agreement.end_date
    if end and end < start:
        f.errors["end_date"] = "The end date is before the start date."
    f.check()
    values.update(start_date=start, end_date=end)
    values["name"] = values.get("name") or f"{org.name} — {agreement.title}"[:200]
    cohort = Cohort(institution_id=org.institution_id, cohort_type=CohortType.CORPORATE, status=CohortStatus.ACTIVE,
                    organization_id=org.id, agreement_id=agreement.id, created_by_id=user.id, **values)
    session.add(cohort)
    session.flush()
    audit.record(session, actor_id=user.id, action="corporate_cohort.create", entity_type="cohort",
                 entity_id=cohort.id, after=_snapshot(cohort), context={"agreement_id": agreement.id})
    session.commit()
    return cohort


def _zone(session: Session, institution_id: int) -> str:
    inst = session.get(Institution, institution_id)
    return inst.time_zone if inst else "UTC"


def _cohort_values(session: Session, f: _Fields, institution_id: int, only_present: bool = False) -> dict[str, Any]:
    readers = {
        "name": lambda: f.text("name", 200),
        "qualification_id": lambda: _qualification(session, f, institution_id),
        "start_date": lambda: f.date("start_date"),
        "end_date": lambda: f.date("end_date"),
        "proposal_reference": lambda: f.text("proposal_reference", 80),
        "request_reference": lambda: f.text("request_reference", 80),
        "contact_name": lambda: f.text("contact_name", 200),
        "contact_phone": lambda: f.phone("contact_phone"),
        "notes": lambda: f.text("notes", 10_000),
        "expected_trainee_count": lambda: f.integer("expected_trainee_count", minimum=0),
    }
    return {name: read() for name, read in readers.items() if not only_present or name in f.data}


def update_corporate_cohort(session: Session, user: User, cohort: Cohort, data: Mapping[str, Any],
                            partial: bool = False) -> Cohort:
    corporate_cohort(session, cohort)
    if cohort.status == CohortStatus.CANCELLED:
        raise ValidationError("A cancelled cohort cannot be edited.", code="cohort_cancelled")
    f = _Fields(data)
    values = _cohort_values(session, f, cohort.institution_id, only_present=partial)
    if "name" in values and not values["name"]:
        f.errors["name"] = "Name is required."
    start = values.get("start_date", cohort.start_date) if "start_date" in values else cohort.start_date
    end = values.get("end_date", cohort.end_date) if "end_date" in values else cohort.end_date
    if start and end and end < start:
        f.errors["end_date"] = "The end date is before the start date."
    f.check()
    before = _snapshot(cohort)
    for name, value in values.items():
        setattr(cohort, name, value)
    audit.record(session, actor_id=user.id, action="corporate_cohort.update", entity_type="cohort",
                 entity_id=cohort.id, before=before, after=_snapshot(cohort))
    session.commit()
    return cohort


def cancel_corporate_cohort(session: Session, user: User, cohort: Cohort) -> int:
    """Cancel the cohort and its future sessions; past sessions and attendance records stay. Returns
    how many sessions were cancelled."""
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
    session.commit()
    return int(cancelled or 0)


def _snapshot(cohort: Cohort) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in COHORT_EDITABLE:
        value = getattr(cohort, name)
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def like_pattern(q: str) -> str:
    """`%q%` for ILIKE, with the user's own % and _ taken literally (escape character backslash)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def trainees_query(cohort_id: int, q: str = "") -> Any:
    """A cohort's trainees, searchable by name, email, phone, employee code or department."""
    stmt = select(CorporateTrainee).where(CorporateTrainee.cohort_id == cohort_id)
    if q:
        like = like_pattern(q)
        stmt = stmt.where(or_(*(col.ilike(like, escape="\\") for col in (
            CorporateTrainee.full_name, CorporateTrainee.email, CorporateTrainee.phone_e164,
            CorporateTrainee.employee_code, CorporateTrainee.department))))
    return stmt.order_by(CorporateTrainee.full_name, CorporateTrainee.id)
