"""Typed commands for apologies: what a learner sends, what staff decide, which list they read."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from core.attendance.marking import MAX_NOTES
from core.fields import NOT_BLANK, Command, Id, PageQuery, clean_text

MAX_SESSIONS = 50


Reason = Annotated[str, Field(min_length=1, max_length=MAX_NOTES, json_schema_extra={"pattern": NOT_BLANK}),
                   BeforeValidator(lambda v: clean_text(v) if isinstance(v, str) else v)]


class SendApology(Command):
    """An apology for one or more of my sessions that have not started, with a reason."""

    session_ids: list[Id] = Field(
        min_length=1, max_length=MAX_SESSIONS, description="Sessions of my cohorts that have not started.")
    reason: Reason = Field(description=f"Why, in at most {MAX_NOTES} characters (kept as the mark's note).")


class DeclineApology(Command):
    reason: Reason = Field(description="Why it is declined: mailed to the learner.")


class ApologyQuery(PageQuery):
    status: Literal["pending", "approved", "declined"] | None = None
