"""Response schemas: cohorts (both kinds, with progress), organizations, agreements, facilitators."""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import BaseModel, ConfigDict, Field

from core.cohorts.stats import CohortStats, MemberRate
from core.models import AgreementStatus, Cohort, CorporateAgreement, Organization, Qualification, User


class QualificationRef(BaseModel):
    id: int
    code: str
    title: str


class CohortItem(BaseModel):
    id: int
    name: str
    type: str
    status: str
    qualification: QualificationRef | None
    start_date: str | None
    end_date: str | None
    trainee_count: int
    sessions_held: int
    sessions_planned: int
    attendance_rate: float | None
    unmarked_sessions: int
    organization_id: int | None
    url: str


class MemberRateOut(BaseModel):
    id: int
    name: str
    reference: str | None
    active: bool
    attended: int
    counted: int
    attendance_rate: float | None
    level: str | None = Field(None, description="At-risk level: ok, watch, at_risk or cannot_reach.")
    margin: int | None = Field(None, description="Sessions that may still be missed (negative: out of reach).")


class FacilitatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    email: str


class CohortDetail(CohortItem):
    attended: int
    counted: int
    required_rate: float | None = Field(None, description="The cohort's own required rate (null: inherited).")
    absence_limit: int | None = Field(None, description="The cohort's own consecutive-absence limit.")
    facilitators: list[FacilitatorOut]
    members: list[MemberRateOut]
    sessions_url: str


class FacilitatorList(BaseModel):
    cohort_id: int
    items: list[FacilitatorOut]


class OrganizationOut(BaseModel):
    id: int
    name: str
    registration_number: str | None
    contact_email: str | None
    contact_phone: str | None
    agreements_url: str


class AgreementOut(BaseModel):
    id: int
    organization_id: int
    organization_name: str | None
    reference: str
    title: str
    status: str
    start_date: str | None
    end_date: str | None
    can_spawn_cohorts: bool


class CorporateCohortOut(BaseModel):
    id: int
    name: str
    cohort_type: str
    status: str
    organization_id: int | None
    agreement_id: int | None
    qualification_id: int | None
    start_date: str | None
    end_date: str | None
    proposal_reference: str | None
    request_reference: str | None
    contact_name: str | None
    contact_phone: str | None
    notes: str | None
    expected_trainee_count: int | None
    trainee_count: int | None
    session_count: int | None
    url: str


class CancelledCohortOut(CorporateCohortOut):
    sessions_cancelled: int


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def present_cohort_item(c: Cohort, q: Qualification | None, s: CohortStats) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "type": c.cohort_type.value, "status": c.status.value,
            "qualification": {"id": q.id, "code": q.code, "title": q.title} if q else None,
            "start_date": _iso(c.start_date), "end_date": _iso(c.end_date), "trainee_count": s.trainee_count,
            "sessions_held": s.sessions_held, "sessions_planned": s.sessions_planned,
            "attendance_rate": s.rate.value, "unmarked_sessions": s.unmarked_sessions,
            "organization_id": c.organization_id, "url": url_for("cohorts.cohort_page", cohort_id=c.id)}


def present_member(m: MemberRate) -> dict[str, Any]:
    return {"id": m.member_id, "name": m.name, "reference": m.reference, "active": m.active,
            "attended": m.rate.attended, "counted": m.rate.counted, "attendance_rate": m.rate.value,
            "level": m.level, "margin": m.margin}


def present_facilitator(u: User) -> dict[str, Any]:
    return FacilitatorOut.model_validate(u, from_attributes=True).model_dump()


def present_organization(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "registration_number": org.registration_number,
            "contact_email": org.contact_email, "contact_phone": org.contact_phone,
            "agreements_url": url_for("cohorts.api_agreement_list", organization_id=org.id)}


def present_agreement(agreement: CorporateAgreement, organization_name: str | None = None) -> dict[str, Any]:
    return {"id": agreement.id, "organization_id": agreement.organization_id, "organization_name": organization_name,
            "reference": agreement.reference, "title": agreement.title, "status": agreement.status.value,
            "start_date": _iso(agreement.start_date), "end_date": _iso(agreement.end_date),
            "can_spawn_cohorts": agreement.status == AgreementStatus.ACTIVE}


def present_corporate_cohort(c: Cohort, trainees: int | None = None, sessions: int | None = None) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "cohort_type": c.cohort_type.value, "status": c.status.value,
            "organization_id": c.organization_id, "agreement_id": c.agreement_id,
            "qualification_id": c.qualification_id, "start_date": _iso(c.start_date), "end_date": _iso(c.end_date),
            "proposal_reference": c.proposal_reference, "request_reference": c.request_reference,
            "contact_name": c.contact_name, "contact_phone": c.contact_phone, "notes": c.notes,
            "expected_trainee_count": c.expected_trainee_count, "trainee_count": trainees,
            "session_count": sessions, "url": url_for("cohorts.corporate_cohort_detail", cohort_id=c.id)}
