"""Response schemas of the regulator access API, and the presenters that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import url_for
from pydantic import BaseModel, Field

from core.access.reads import ReadItem
from core.access.requests import CohortChoice, effective_status
from core.models import AccessRequest, Institution


class NamedRef(BaseModel):
    id: int
    name: str


class RegulatorOut(BaseModel):
    id: int
    name: str
    email: str
    agency: str | None = Field(description="The regulator's organization or agency.")


class AccessRequestOut(BaseModel):
    id: int
    institution: NamedRef
    regulator: RegulatorOut
    scope: Literal["institution", "cohorts"]
    cohorts: list[NamedRef] = Field(description="The cohorts asked for (scope `cohorts`).")
    reason: str
    status: Literal["PENDING", "APPROVED", "DENIED", "REVOKED", "EXPIRED"] = Field(
        description="EXPIRED: approved, but its expiry has passed (access has ended by itself).")
    in_force: bool = Field(description="Approved and not expired: the regulator may read now.")
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str | None = Field(description="Why it was denied.")
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    url: str
    reads_url: str


class InstitutionChoiceOut(BaseModel):
    id: int
    name: str


class CohortChoiceOut(BaseModel):
    id: int
    name: str
    course: str | None
    start_date: dt.date | None
    end_date: dt.date | None


class ReadOut(BaseModel):
    id: int
    at: dt.datetime
    regulator_id: int | None
    regulator_name: str | None
    what: str = Field(description="The screen or API endpoint read.")
    path: str
    cohort_id: int | None
    cohort_name: str | None
    resource_type: str | None
    resource_id: int | None


def present_request(req: AccessRequest) -> AccessRequestOut:
    regulator = req.regulator
    return AccessRequestOut(
        id=req.id, institution=NamedRef(id=req.institution.id, name=req.institution.name),
        regulator=RegulatorOut(id=regulator.id, name=regulator.full_name, email=regulator.email,
                               agency=regulator.agency_name),
        scope=req.scope.value, cohorts=[NamedRef(id=c.id, name=c.name) for c in req.cohorts], reason=req.reason,
        status=effective_status(req), in_force=effective_status(req) == "APPROVED", created_at=req.created_at,
        decided_at=req.decided_at, decision_reason=req.decision_reason, expires_at=req.expires_at,
        revoked_at=req.revoked_at, revoke_reason=req.revoke_reason,
        url=url_for("access.api_get", request_id=req.id), reads_url=url_for("access.api_reads", request_id=req.id))


def present_institution(row: Institution) -> InstitutionChoiceOut:
    return InstitutionChoiceOut(id=row.id, name=row.name)


def present_cohort_choice(row: CohortChoice) -> CohortChoiceOut:
    return CohortChoiceOut(id=row.id, name=row.name, course=row.course, start_date=row.start_date,
                           end_date=row.end_date)


def present_read(row: ReadItem) -> ReadOut:
    return ReadOut(id=row.id, at=row.at, regulator_id=row.regulator_id, regulator_name=row.regulator_name,
                   what=row.endpoint, path=row.path, cohort_id=row.cohort_id, cohort_name=row.cohort_name,
                   resource_type=row.resource_type, resource_id=row.resource_id)
