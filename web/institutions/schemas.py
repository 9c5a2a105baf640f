"""Response schemas: institutions and qualifications as clients see them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from core.models import Institution, Qualification


class InstitutionOut(BaseModel):
    id: int
    name: str
    slug: str
    time_zone: str
    country: str = Field(description="ISO 3166-1 alpha-2: phones and public holidays follow it.")
    default_language: str
    accreditation_number: str | None
    address: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None


class QualificationOut(BaseModel):
    id: int
    institution_id: int
    code: str
    title: str
    level: str | None
    active: bool


def present_institution(inst: Institution) -> dict[str, object]:
    return {name: getattr(inst, name) for name in InstitutionOut.model_fields}


def present_qualification(q: Qualification) -> dict[str, object]:
    return {name: getattr(q, name) for name in QualificationOut.model_fields}
