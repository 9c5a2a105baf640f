"""Response and upload schemas of the seal administration API (never any private key)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.models import InstitutionSeal

from ..contract import file_field, file_required


class SealUpload(BaseModel):
    """multipart/form-data: the PKCS#12 in `file` and its `password`."""

    model_config = {"json_schema_extra": file_required}

    file: Any = file_field("A password-protected PKCS#12 (.p12/.pfx): the seal's certificate and private key.")
    password: str | None = Field(None, max_length=1000, description="The PKCS#12's password.")


class InstitutionSealOut(BaseModel):
    fingerprint: str = Field(description="SHA-256 of the certificate (DER), hex.")
    subject: str
    source: Literal["generated", "uploaded"]
    not_before: dt.datetime
    not_after: dt.datetime
    created_at: dt.datetime
    replaced_at: dt.datetime | None = Field(description="Null for the seal in force; kept after replacement so "
                                                        "what it sealed still verifies.")


class SealsOut(BaseModel):
    institution_id: int
    in_force: InstitutionSealOut | None
    history: list[InstitutionSealOut] = Field(description="Every seal, the one in force first.")


def present_seal(seal: InstitutionSeal) -> InstitutionSealOut:
    return InstitutionSealOut(fingerprint=seal.fingerprint, subject=seal.subject, source=seal.source,  # type: ignore[arg-type]
                              not_before=seal.not_before, not_after=seal.not_after, created_at=seal.created_at,
                              replaced_at=seal.replaced_at)


def present_seals(institution_id: int, seals: list[InstitutionSeal]) -> dict[str, object]:
    in_force = next((s for s in seals if s.replaced_at is None), None)
    return SealsOut(institution_id=institution_id, in_force=present_seal(in_force) if in_force else None,
                    history=[present_seal(s) for s in seals]).model_dump(mode="json")
