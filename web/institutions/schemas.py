"""Response schemas: institutions and qualifications as clients see them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from core.models import Institution, Qualification


class InstitutionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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


def present_institution(inst: Institution) -> dict[str, object]:
    """An institution as its schema reads it from the row (the list envelope takes dicts)."""
    return InstitutionOut.model_validate(inst, from_attributes=True).model_dump()


def present_qualification(q: Qualification) -> dict[str, object]:
    return QualificationOut.model_validate(q, from_attributes=True).model_dump()
