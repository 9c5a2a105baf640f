"""Response schemas of a learner's own API (/api/me/*) and of apologies, built from core.me and core.apologies
objects with `model_validate(..., from_attributes=True)`. File URLs come in the validation context
(`evidence_base`: the download URL without its id)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from core.apologies.commands import MAX_SESSIONS
from core.attendance.marking import MAX_NOTES

from ..attendance.schemas import ClockText, IsoText, IsoTextOrNone
from ..contract import file_field


def _evidence_url(data: Any, info: ValidationInfo) -> Any:
    """`evidence_url` from the object's `evidence_file_id` and the context's download URL base."""
    base = (info.context or {}).get("evidence_base")
    evidence_id = getattr(data, "evidence_file_id", None)
    if base is None or evidence_id is None or isinstance(data, dict):
        return data
    return {**{k: getattr(data, k) for k in data.__dataclass_fields__}, "evidence_url": f"{base}{evidence_id}"}


class MySessionOut(BaseModel):
    """One session of one of my cohorts, with my mark (`status` null: not marked yet)."""

    model_config = ConfigDict(from_attributes=True)

    session_id: int
    cohort_id: int
    cohort_name: str
    date: IsoText
    start_time: ClockText
    end_time: ClockText
    starts_at: IsoText
    ends_at: IsoText
    session_type: str
    title: str | None
    room: str | None
    cancelled: bool
    status: str | None = Field(description="PRESENT, LATE, ABSENT, EXCUSED, or null when not marked.")
    minutes_late: int | None
    notes: str | None
    marked_by: str | None = Field(description="Who made the mark.")
    marked_at: IsoTextOrNone
    evidence_name: str | None
    evidence_url: str | None = None

    _url = model_validator(mode="before")(_evidence_url)


class CohortAttendanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    cohort_id: int
    cohort_name: str
    cohort_type: str
    active: bool
    rate: float | None = Field(description="Attended (present or late) of marked sessions; excused not counted.")
    required_rate: float
    at_risk: bool
    level: str | None = Field(None, description="At-risk level: ok, watch, at_risk or cannot_reach.")
    margin: int | None = Field(None, description="Sessions I may still miss and stay at the required rate.")
    counts: dict[str, int]
    sessions: list[MySessionOut]


class MyAttendanceOut(BaseModel):
    cohorts: list[CohortAttendanceOut]


class ApologySessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: int
    cohort_id: int
    cohort_name: str
    date: IsoText
    start_time: ClockText
    end_time: ClockText


class ApologyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str = Field(description="pending, approved or declined.")
    reason: str
    learner: str
    sessions: list[ApologySessionOut]
    evidence_name: str | None
    evidence_url: str | None = None
    sent_at: IsoText
    decided_by: str | None
    decided_at: IsoTextOrNone
    decision_reason: str | None

    _url = model_validator(mode="before")(_evidence_url)


def _form_text(description: str, max_length: int) -> Any:
    """A multipart text part, documented as a string; read by the view as the typed command (SendApology), so a
    part this model cannot judge (a file where text belongs) gets the command's own 422, not spectree's."""

    def as_text(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema.update(type="string", maxLength=max_length)

    return Field(None, description=description, json_schema_extra=as_text)


class ApologyUpload(BaseModel):
    """multipart/form-data: `session_ids` ("12,13" or the field repeated), `reason`, and optionally `file`."""

    session_ids: Any = _form_text("Session ids, comma-separated.", MAX_SESSIONS * 11)
    reason: Any = _form_text(f"Why, in at most {MAX_NOTES} characters.", MAX_NOTES)
    file: Any = file_field("A document for the apology: PDF, JPEG or PNG (checked by content).")
