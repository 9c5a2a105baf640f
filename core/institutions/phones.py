"""Phones people type on forms and in the API (learners, staff, contacts), read by the institution's country.

A number written nationally (`082 555 1234`) is a mobile of the institution's country; one written
internationally (`+44 7400 123456`) is accepted when it is a valid mobile of its own country. Letters are
refused, never read through a keypad. A refusal names the form expected, with an example for that country.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.i18n import fill
from core.imports.contacts import normalize_mobile
from core.imports.rules import phone_problem
from core.models import Institution

DEFAULT_COUNTRY = "DZ"  # the seed's country: an institution without one (only before migration 0017)


def institution_country(session: Session, institution_id: int | None) -> str:
    if institution_id is None:
        return DEFAULT_COUNTRY
    return session.scalar(select(Institution.country).where(Institution.id == institution_id)) or DEFAULT_COUNTRY


def mobile_problem(field: str, raw: str, code: str, country: str) -> ValidationError:
    problem = phone_problem(field, raw, code, country)
    template, params = problem.get("template") or problem["message"], problem.get("params") or {}
    return ValidationError(template, code=code, params=params,
                           details=[{"field": field, "message": fill(template, params)}])


def read_mobile(raw: str | None, country: str, field: str = "phone") -> str | None:
    """`raw` as E.164 (None stays None); a ValidationError naming `field` and the expected form otherwise."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    e164, code = normalize_mobile(text, country) if len(text) <= 64 else (None, "phone_invalid")
    if e164 is None:
        raise mobile_problem(field, text, code or "phone_invalid", country)
    return e164


def institution_mobile(session: Session, institution_id: int | None, raw: str | None, field: str = "phone"
                       ) -> str | None:
    """read_mobile with the country of this institution."""
    if raw is None or not raw.strip():
        return None
    return read_mobile(raw, institution_country(session, institution_id), field)
