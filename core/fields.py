"""Field types every command and request schema shares: bounded ids, clean bounded text, paging.

Declared once so that every edge (API, CLI, tasks) rejects the same bad input the same way: ids that
cannot exist in an `integer` column, text with NUL bytes or lone UTF-16 surrogates (PostgreSQL and
UTF-8 encoders refuse both), and absurd page numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

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


# Published for text that must hold more than spaces (and, like all text, no NUL): names, reasons.
NOT_BLANK = "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$"


def _without_null(schema: dict[str, Any]) -> None:
    """Publish a field that may be left out but never sent as null without its `null` branch (and without the
    `null` default, which only stands for "left out")."""
    variants = schema.get("anyOf")
    if variants:
        kept = [variant for variant in variants if variant.get("type") != "null"]
        del schema["anyOf"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    if schema.get("default", 0) is None:
        del schema["default"]


def _without_null_or_blank(schema: dict[str, Any]) -> None:
    _without_null(schema)
    schema["pattern"] = NOT_BLANK


def never_null(default: Any = None, *, blank: bool = True, **kwargs: Any) -> Any:
    """`Field(default, …)` for a field a validator refuses as null (and, with `blank=False`, as blank text): the
    description says so too."""
    return Field(default, json_schema_extra=_without_null if blank else _without_null_or_blank, **kwargs)


def _in_first_and_last_year(schema: dict[str, Any]) -> None:
    schema["pattern"] = f"^({FIRST_DAY.year // 100}|2[0-9])[0-9][0-9]-"  # FIRST_DAY.year … LAST_DAY.year


Id = Annotated[int, Field(ge=1, le=INT32_MAX, description="A resource id.")]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Text = Annotated[str, Field(max_length=2000), AfterValidator(clean_text)]
ShortText = Annotated[str, Field(max_length=255), AfterValidator(clean_text)]
Name = Annotated[str, Field(min_length=1, max_length=255, json_schema_extra={"pattern": NOT_BLANK}),
                 AfterValidator(clean_text)]
SearchText = Annotated[str, Field(max_length=200), AfterValidator(clean_text)]
Date = dt.date
Day = Annotated[dt.date, Field(ge=FIRST_DAY, le=LAST_DAY, description=f"YYYY-MM-DD, {FIRST_DAY} … {LAST_DAY}.",
                                json_schema_extra=_in_first_and_last_year)]
AwareDateTime = Annotated[AwareDatetime, Field(description="ISO 8601 with an offset.")]


class Command(BaseModel):
    """Base of request bodies and commands: strings trimmed, unknown keys ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class PageQuery(Command):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)
