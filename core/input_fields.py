"""Field types for values people type (forms and JSON alike): email, Algerian mobile, optional text, dates
and numbers where a blank form field means "none".

Each normalizes what it accepts (lower-case email, E.164 phone) and refuses the rest with a sentence, so a
bad value is a 422 naming the field whatever the edge (API, screen, CLI). Builds on core.fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from core.fields import Count, Id, clean_text, never_null
from core.imports.contacts import normalize_dz_mobile, normalize_email
from core.imports.rules import REASONS


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _email(value: str) -> str:
    normalized, problem = normalize_email(clean_text(value.strip()))
    if normalized is None:
        raise ValueError(problem or "not a valid email address")
    return normalized.lower()


def _mobile(value: str) -> str:
    e164, code = normalize_dz_mobile(clean_text(value.strip()))
    if code or e164 is None:
        raise ValueError(REASONS.get(code or "", "Not a valid phone number."))
    return e164


# What the description publishes (a plain subset of what the validators accept, without the lookarounds of
# phonenumbers' metadata): every string these match is accepted, as tests/unit/test_input_fields.py checks.
PLAIN_EMAIL = r"^[A-Za-z0-9_+-]{1,64}@([A-Za-z0-9]{1,30}\.){1,3}[A-Za-z]{2,20}$"
DZ_MOBILE = r"^(\+213|00213|0)?(5(4[0-29]|6[0-4])[0-9]{6}|(55|6[0-9]|7[7-9])[0-9]{7})$"

Email = Annotated[str, Field(max_length=320, json_schema_extra={"pattern": PLAIN_EMAIL}), AfterValidator(_email)]
OptionalEmail = Annotated[Email | None, BeforeValidator(_blank_to_none)]
MobilePhone = Annotated[str, Field(max_length=64, description="An Algerian mobile; stored as E.164 (+213…).",
                                   json_schema_extra={"pattern": DZ_MOBILE}),
                        AfterValidator(_mobile)]
OptionalMobile = Annotated[MobilePhone | None, BeforeValidator(_blank_to_none)]


def bounded(limit: int) -> Any:
    """Optional text of at most `limit` characters; blank becomes None."""
    text = Annotated[str, Field(max_length=limit), AfterValidator(clean_text)]
    return Annotated[text | None, BeforeValidator(_blank_to_none)]


def _not_emptied(value: object) -> object:
    if value is None:
        raise ValueError("cannot be empty (leave the field out to keep its value)")
    return value


def kept(kind: Any) -> Any:
    """A PATCH field that may be left out (the stored value stays) but not sent as null.

    The validator runs only on a value sent: an absent field keeps its default (None: unchanged)."""
    return Annotated[kind | None, AfterValidator(_not_emptied), never_null()]


OptionalDate = Annotated[dt.date | None, BeforeValidator(_blank_to_none)]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
OptionalCount = Annotated[Count | None, BeforeValidator(_blank_to_none)]
