"""Field types every command and request schema shares: bounded ids, clean bounded text, paging.

Declared once so that every edge (API, CLI, tasks) rejects the same bad input the same way: ids that
cannot exist in an `integer` column, text with NUL bytes or lone UTF-16 surrogates (PostgreSQL and
UTF-8 encoders refuse both), and absurd page numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core.i18n import N_

# The product's languages (core.i18n.LANGUAGES), as a field type: a new language is added in both.
Language = Literal["en", "fr", "ar"]
INT32_MAX = 2**31 - 1
MAX_PAGE = 1_000_000
MAX_PER_PAGE = 1000
# Dates a schedule, a holiday or a calendar window may name: wide enough for any real programme, narrow
# enough that a local time on them always converts to UTC (year 1 or 9999 would overflow `datetime`).
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)


def clean_text(value: str) -> str:
    """Refuse what no database column can hold: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise ValueError(N_("must not contain NUL bytes"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(N_("must be valid Unicode text (no lone surrogates)")) from None
    return value


Id = Annotated[int, Field(ge=1, le=INT32_MAX, description="A resource id.")]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Text = Annotated[str, Field(max_length=2000), AfterValidator(clean_text)]
ShortText = Annotated[str, Field(max_length=255), AfterValidator(clean_text)]
Name = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(clean_text)]
SearchText = Annotated[str, Field(max_length=200), AfterValidator(clean_text)]
Date = dt.date
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD.")]
AwareDateTime = Annotated[AwareDatetime, Field(description="ISO 8601 with an offset.")]


class Command(BaseModel):
    """Base of request bodies and commands: strings trimmed, unknown keys ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class PageQuery(Command):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)
