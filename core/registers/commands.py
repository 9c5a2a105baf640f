"""Typed commands of the register use cases; web/, tasks/ and the CLI build them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from core.fields import Command, Id

MAX_PERIOD_DAYS = 366
LANGUAGES = ("en", "fr", "ar")
Language = Literal["en", "fr", "ar"]  # what a document may be written in


class RequestRegister(Command):
    """`{"kind": "session", "session_id"}` or `{"kind": "cohort", "cohort_id", "from", "to"}`, and a format."""

    kind: Literal["session", "cohort"]
    format: Literal["pdf", "xlsx", "csv"] = "pdf"
    session_id: Id | None = None
    cohort_id: Id | None = None
    period_start: dt.date | None = Field(None, alias="from", description="Cohort registers: first day (inclusive).")
    period_end: dt.date | None = Field(None, alias="to", description="Cohort registers: last day (inclusive).")
    language: Language | None = Field(
        None, description="The document's language. When absent: the request's Accept-Language, then the "
                          "requester's profile language, then the institution's default language.")

    model_config = {"populate_by_name": True, "json_schema_extra": {"oneOf": [
        {"properties": {"kind": {"const": "session"}, "session_id": {"type": "integer"}}, "required": ["session_id"]},
        {"properties": {"kind": {"const": "cohort"}, "cohort_id": {"type": "integer"},
                        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}},
         "required": ["cohort_id", "from", "to"]},
    ]}}

    @model_validator(mode="after")
    def _scope(self) -> RequestRegister:
        if self.kind == "session":
            if self.session_id is None:
                raise ValueError("session_id is required for a session register")
        else:
            if self.cohort_id is None or self.period_start is None or self.period_end is None:
                raise ValueError("cohort_id, from and to are required for a cohort register")
            if self.period_end < self.period_start:
                raise ValueError("to must not be before from")
            if (self.period_end - self.period_start).days >= MAX_PERIOD_DAYS:
                raise ValueError(f"a cohort register covers at most {MAX_PERIOD_DAYS} days")
        return self


class SubmitRegister(Command):
    register_document_id: Id
