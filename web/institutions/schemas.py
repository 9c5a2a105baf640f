"""Response schemas: institutions and qualifications as clients see them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.finance.billing import billing_json
from core.models import Institution, Qualification

from ..finance.schemas import BillingOut


class InstitutionOut(BillingOut):
    """The institution's settings with its billing details (BillingOut: legal name … default tax rate)."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    time_zone: str
    country: str = Field(description="ISO 3166-1 alpha-2: phones and public holidays follow it.")
    default_language: str
    accreditation_number: str | None
    address: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    excused_counts_as: str = "not_counted"
    at_risk_rules: dict[str, list[str]] | None = None
    information_officer_name: str | None = None
    information_officer_email: str | None = None


class QualificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    code: str
    title: str
    level: str | None
    active: bool
    required_rate: float | None = None
    absence_limit: int | None = None


def present_institution(inst: Institution) -> dict[str, object]:
    """An institution as its schema reads it from the row (the list envelope takes dicts)."""
    return InstitutionOut.model_validate({**billing_json(inst), **{
        name: getattr(inst, name) for name in InstitutionOut.model_fields if name not in BillingOut.model_fields}}
    ).model_dump()


def present_qualification(q: Qualification) -> dict[str, object]:
    return QualificationOut.model_validate(q, from_attributes=True).model_dump()
