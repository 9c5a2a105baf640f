"""Typed commands the attendance use cases take; web/, tasks/ and the CLI build them.

The per-record rules (which key a cohort uses, status words, minutes only for LATE, who is on the
register) stay in `marking.parse_marks`, which needs the register to judge and reports every bad
record at once; the command fixes the envelope's shape and bounds.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from core.fields import INT32_MAX, NOT_BLANK, AwareDateTime, Command, Id, ShortText
from core.models import AttendanceStatus

from .marking import MAX_NOTES, MAX_RECORDS


class MarkRecord(Command):
    """One trainee's mark: identify them by `enrolment_id` (public cohort) or `trainee_id` (corporate)."""

    enrolment_id: Id | None = None
    trainee_id: Id | None = None
    id: Id | None = Field(None, description="Either key, whatever the cohort type.")
    status: str = Field(json_schema_extra={"enum": [s.value for s in AttendanceStatus]})
    minutes_late: int | None = Field(None, ge=-INT32_MAX, le=INT32_MAX, description="Only with LATE; 0–600.")
    notes: str | None = Field(None, max_length=MAX_NOTES * 4, description=f"At most {MAX_NOTES} characters.")
    expected_version: int | None = Field(None, ge=-INT32_MAX, le=INT32_MAX,
                                         description="The version you loaded (0: not marked yet).")

    def raw(self) -> dict[str, Any]:
        """The record as the marking rules read it (only the keys the client sent)."""
        return self.model_dump(exclude_unset=True)


class MarkRegister(Command):
    session_id: Id
    records: list[MarkRecord] = Field(default_factory=list, max_length=MAX_RECORDS)
    mark_all_present: bool = False
    full_register: bool = Field(False, description="Answer with the whole register instead of only what changed.")


def _reason_required(schema: dict[str, Any]) -> None:
    """The use case refuses a missing or blank reason (`reason_required`, its own code): the description says
    the reason is required text with something besides spaces in it."""
    schema["required"] = ["reason", *schema.get("required", [])]
    reason = schema["properties"]["reason"]
    reason.pop("default", None)
    reason.pop("anyOf", None)
    reason.update(type="string", maxLength=255, pattern=NOT_BLANK)


class LockSession(Command):
    model_config = {"json_schema_extra": _reason_required}

    reason: ShortText | None = Field(None, description="Why the register is closed by hand (required; audited).")


class UnlockSession(Command):
    model_config = {"json_schema_extra": _reason_required}

    reason: ShortText | None = Field(None, description="Why it is reopened (required; audited).")
    relock_after: AwareDateTime | None = Field(None, description="Keep it open until then; ISO 8601 with offset.")
