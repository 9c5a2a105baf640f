"""Typed commands for cohorts (public and corporate), organizations, agreements, facilitators."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.at_risk.fields import AbsenceLimit, RequiredRate
from core.fields import Command, Id, Name, PageQuery, SearchText, never_null
from core.input_fields import OptionalCount, OptionalDate, OptionalEmail, OptionalId, OptionalMobile, bounded

CohortStatusName = Literal["ACTIVE", "COMPLETED", "ARCHIVED", "CANCELLED"]
AgreementStatusName = Literal["DRAFT", "ACTIVE", "SUSPENDED", "EXPIRED", "TERMINATED"]
Reference = bounded(80)
PersonName = bounded(200)
Notes = bounded(10_000)
OptionalName = bounded(200)


class CohortListQuery(PageQuery):
    type: Literal["public", "corporate"] | None = None
    status: CohortStatusName | None = None
    q: SearchText = ""
    qualification: Id | None = None
    facilitator: Id | None = None


class CreatePublicCohort(Command):
    name: Name = Field(max_length=200)
    qualification_id: Id
    start_date: OptionalDate = None
    end_date: OptionalDate = None
    institution_id: Id | None = Field(None, description="super_admin only; your institution otherwise.")


class UpdateCohort(Command):
    """Only the keys sent change. `status` moves ACTIVE → COMPLETED → ARCHIVED (or back to ACTIVE from COMPLETED)."""

    name: Name | None = never_null(max_length=200)
    qualification_id: OptionalId = None
    start_date: OptionalDate = None
    end_date: OptionalDate = None
    status: CohortStatusName | None = None
    required_rate: RequiredRate | None = None
    absence_limit: AbsenceLimit | None = None


class SetFacilitators(Command):
    user_ids: list[Id] = Field(max_length=200, description="Teachers of the cohort's institution (replaces the list).")


class OrganizationQuery(PageQuery):
    q: SearchText = ""


class CreateOrganization(Command):
    name: Name = Field(max_length=200)
    registration_number: Reference = None
    contact_email: OptionalEmail = None
    contact_phone: OptionalMobile = None
    institution_id: OptionalId = Field(None, description="super_admin only; your institution otherwise.")


class AgreementQuery(PageQuery):
    status: AgreementStatusName | None = None


class CreateAgreement(Command):
    reference: Name = Field(max_length=60)
    title: Name = Field(max_length=200)
    status: AgreementStatusName = "DRAFT"
    start_date: OptionalDate = None
    end_date: OptionalDate = None


class SetAgreementStatus(Command):
    status: AgreementStatusName


class CorporateCohortFields(Command):
    qualification_id: OptionalId = None
    start_date: OptionalDate = None
    end_date: OptionalDate = None
    proposal_reference: Reference = None
    request_reference: Reference = None
    contact_name: PersonName = None
    contact_phone: OptionalMobile = None
    notes: Notes = None
    expected_trainee_count: OptionalCount = None


class CreateCorporateCohort(CorporateCohortFields):
    name: OptionalName = Field(None, description="Defaults to “organization — agreement”.")


class UpdateCorporateCohort(CorporateCohortFields):
    """Only the keys sent change."""

    name: OptionalName = never_null(blank=False)


class CorporateCohortQuery(PageQuery):
    q: SearchText = ""
    status: CohortStatusName | None = None
