"""Typed commands the attendance use cases take; web/, tasks/ and the CLI build them.

A mark's own fields are judged here, on `MarkRecord`: the status (any case; one of the four), minutes late
(0–600, only with LATE), notes (trimmed, blank is none, at most 500 characters) and the expected version
(≥ 0). What needs the register (which key the cohort uses, who is on it, a trainee named twice, before the
start, the lock) stays in the domain (`marking.parse_marks`, `marks.mark`).

A record that breaks one of those field rules does not refuse the whole request as a malformed one: it is kept
as a `RefusedRecord` with its reasons (`marking.RecordError`: index, field, reason code, message, value), so
that the answer lists every bad record at once, the register's own findings included, under one 422 as the API
has always answered it (`details.records`). A value of the wrong type (a number for the status, words for the
minutes) is a malformed request, refused by the schema with the fields named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from core.fields import INT32_MAX, NOT_BLANK, AwareDateTime, Command, Id, ShortText
from core.models import AttendanceStatus

from .marking import MAX_MINUTES_LATE, MAX_NOTES, MAX_RECORDS, STATUSES, RecordError

_LATE = AttendanceStatus.LATE.value
_INVALID_STATUS = f"status must be one of {', '.join(STATUSES)}."
_OUT_OF_RANGE = f"minutes_late must be a whole number from 0 to {MAX_MINUTES_LATE}."
_ONLY_FOR_LATE = "minutes_late is only allowed when the status is LATE."
_TOO_LONG = f"notes must be at most {MAX_NOTES} characters."
_INVALID_VERSION = "expected_version must be a whole number ≥ 0 (0: not marked yet)."


def _refuse(reason: str, message: str, value: Any) -> PydanticCustomError:
    """A field rule broken: its reason code is the error's type (what `RecordError.reason` says)."""
    return PydanticCustomError(reason, message.replace("{", "{{").replace("}", "}}"), {"value": value})


def _status(value: str) -> str:
    status = value.upper()
    if status not in STATUSES:
        raise _refuse("invalid_status", _INVALID_STATUS, value)
    return status


def _notes(value: str) -> str | None:
    if not value:
        return None  # blank (trimmed already): no note
    if len(value) > MAX_NOTES:
        raise _refuse("too_long", _TOO_LONG, len(value))
    return value


def _version(value: int) -> int:
    if value < 0:
        raise _refuse("invalid_version", _INVALID_VERSION, value)
    return value


# The reason codes of the field rules above: a record breaking only these is refused on its own.
RECORD_RULES = frozenset({"invalid_status", "out_of_range", "only_for_late", "too_long", "invalid_version"})


class MarkRecord(Command):
    """One trainee's mark: identify them by `enrolment_id` (public cohort) or `trainee_id` (corporate)."""

    problems: ClassVar[Sequence[RecordError]] = ()  # a RefusedRecord's broken field rules; none here
    enrolment_id: Id | None = None
    trainee_id: Id | None = None
    id: Id | None = Field(None, description="Either key, whatever the cohort type.")
    status: Annotated[str, AfterValidator(_status)] = Field(
        json_schema_extra={"enum": [s.value for s in AttendanceStatus]})
    minutes_late: int | None = Field(None, ge=-INT32_MAX, le=INT32_MAX, description="Only with LATE; 0–600.")
    notes: Annotated[str | None, AfterValidator(lambda v: None if v is None else _notes(v))] = Field(
        None, max_length=MAX_NOTES * 4, description=f"At most {MAX_NOTES} characters.")
    expected_version: Annotated[int | None, AfterValidator(lambda v: None if v is None else _version(v))] = Field(
        None, ge=-INT32_MAX, le=INT32_MAX, description="The version you loaded (0: not marked yet).")

    @field_validator("minutes_late")
    @classmethod
    def _minutes(cls, value: int | None, info: ValidationInfo) -> int | None:
        """Run only for minutes the client sent; `status` is in `info.data` when it passed its own rule."""
        if value is None:
            return None
        if not 0 <= value <= MAX_MINUTES_LATE:
            raise _refuse("out_of_range", _OUT_OF_RANGE, value)
        if info.data.get("status", _LATE) != _LATE:
            raise _refuse("only_for_late", _ONLY_FOR_LATE, value)
        return value


class _RecordKeys(Command):
    enrolment_id: Id | None = None
    trainee_id: Id | None = None
    id: Id | None = None


class RefusedRecord(MarkRecord):
    """A record whose own fields break the rules above: its keys (so the register can still say whether the
    trainee is on it) and `problems`, one RecordError per broken rule."""

    _problems: list[RecordError] = PrivateAttr(default_factory=list)

    @property  # type: ignore[override]
    def problems(self) -> list[RecordError]:
        return self._problems

    @classmethod
    def of(cls, raw: dict[str, Any], problems: list[RecordError]) -> RefusedRecord:
        keys = _RecordKeys.model_validate(raw)
        refused = cls.model_construct(_fields_set=keys.model_fields_set, status="", **dict(keys))
        refused._problems = problems
        return refused


class MarkRegister(Command):
    session_id: Id
    records: list[MarkRecord] = Field(default_factory=list, max_length=MAX_RECORDS)
    mark_all_present: bool = False
    full_register: bool = Field(False, description="Answer with the whole register instead of only what changed.")

    @field_validator("records", mode="wrap")
    @classmethod
    def _record_by_record(cls, value: Any, handler: Any) -> list[MarkRecord]:
        """Every record in one pass (the common case); when some break only field rules, those are kept as
        RefusedRecords and the rest validated on their own. Any other error refuses the request (as before)."""
        try:
            return handler(value)  # type: ignore[no-any-return]
        except ValidationError as exc:
            errors = exc.errors()
            malformed = [e for e in errors if e["type"] not in RECORD_RULES or len(e["loc"]) != 2]
            if malformed:
                raise ValidationError.from_exception_data(exc.title, [_again(e) for e in malformed]) from None
        problems: dict[int, list[RecordError]] = {}
        for e in errors:
            index, field = e["loc"]
            problems.setdefault(int(index), []).append(
                RecordError(int(index), str(field), e["type"], e["msg"], (e.get("ctx") or {}).get("value")))
        return [RefusedRecord.of(raw, problems[i]) if i in problems else MarkRecord.model_validate(raw)
                for i, raw in enumerate(value)]


def _again(error: Any) -> Any:
    """A pydantic error as it can be raised again (its message is rebuilt from its type and context)."""
    return {"type": error["type"], "loc": error["loc"], "input": error["input"],
            **({"ctx": error["ctx"]} if "ctx" in error else {})}


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
