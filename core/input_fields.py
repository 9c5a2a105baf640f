"""Field types for values people type (forms and JSON alike): email, mobile phone, optional text, dates
and numbers where a blank form field means "none".

Each normalizes what it accepts (lower-case email) and refuses the rest with a sentence, so a bad value is a
422 naming the field whatever the edge (API, screen, CLI). A phone depends on the institution's country, which
the command does not know: it is kept as typed (bounded, clean text) and read by the use case
(core.institutions.phones.institution_mobile). Builds on core.fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from core.fields import Count, Id, clean_text, never_null
from core.imports.contacts import normalize_email


def blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


_blank_to_none = blank_to_none


def _email(value: str) -> str:
    normalized, problem = normalize_email(clean_text(value.strip()))
    if normalized is None:
        raise ValueError(problem or "not a valid email address")
    return normalized.lower()


# What the description publishes: a plain subset of what the validator accepts (every string it matches is
# accepted, as tests/unit/test_input_fields.py checks).
PLAIN_EMAIL = r"^[A-Za-z0-9_+-]{1,64}@([A-Za-z0-9]{1,30}\.){1,3}[A-Za-z]{2,20}$"

Email = Annotated[str, Field(max_length=320, json_schema_extra={"pattern": PLAIN_EMAIL}), AfterValidator(_email)]
OptionalEmail = Annotated[Email | None, BeforeValidator(_blank_to_none)]
MobilePhone = Annotated[str, Field(max_length=64, examples=["082 555 1234", "+27825551234"],
                                   description="A mobile of the institution's country (national form), or any "
                                               "valid mobile in international form; stored as E.164."),
                        AfterValidator(clean_text)]
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
