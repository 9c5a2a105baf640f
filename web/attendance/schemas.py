"""Response schemas of the attendance API (the register as clients see it), built from the domain's objects
(core.attendance: Register, SessionInfo, RegisterRow, the evidence row, audited changes) with
`model_validate(..., from_attributes=True)`, by the schema of the register's key (REGISTER_OUT, MARK_RESULT:
a row names its cohort's own key, `enrolment_id` or `trainee_id`; answers are dumped with `exclude_unset`, so
it names no other). The evidence URL without its id comes in the validation context (`evidence_base`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
)

from ..contract import file_field, file_required


def _iso(value: Any) -> Any:
    """A date or an aware datetime as ISO 8601 text, as the API has always written them (+00:00, not Z)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _hh_mm(value: Any) -> Any:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else value


IsoText = Annotated[str, BeforeValidator(_iso)]
IsoTextOrNone = Annotated[str | None, BeforeValidator(_iso)]
ClockText = Annotated[str, BeforeValidator(_hh_mm)]


class RegisterSession(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cohort_id: int
    cohort_name: str
    cohort_type: str
    session_date: IsoText
    start_time: ClockText
    end_time: ClockText
    starts_at: IsoTextOrNone
    ends_at: IsoTextOrNone
    time_zone: str
    session_type: str
    title: str | None
    status: str
    room: str | None
    instructor: str | None
    is_locked: bool
    locked_at: IsoTextOrNone
    lock_reason: str | None
    relock_after: IsoTextOrNone
    auto_lock_at: IsoTextOrNone


class RegisterPermissions(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    mark: bool
    lock: bool
    unlock: bool


class RegisterRowOut(BaseModel):
    """One trainee on the register: `id` and the cohort's own key (`enrolment_id` or `trainee_id`) both name them."""

    id: int
    enrolment_id: int | None = None
    trainee_id: int | None = None
    name: str
    reference: str | None
    active: bool
    record_id: int | None
    status: str | None
    minutes_late: int | None
    notes: str | None
    has_evidence: bool
    evidence_url: str | None
    marked_by: str | None
    marked_at: str | None
    version: int | None
    source: Literal["staff", "self_check_in", "auto"] | None = Field(
        None, description="How the mark was made: staff (the register), self_check_in (the learner), auto "
                          "(unmarked when check-in closed). None: not marked.")
    checked_in_at: str | None = Field(None, description="When the learner checked in themselves (ISO 8601).")


class RegisterOut(BaseModel):
    session: RegisterSession
    key: str
    permissions: RegisterPermissions
    counts: dict[str, int]
    trainees: list[RegisterRowOut]


class MarkConflict(BaseModel):
    id: int
    enrolment_id: int | None = None
    trainee_id: int | None = None
    expected_version: int | None
    current_version: int
    current: dict[str, Any] | None
    reason: str
    message: str


class MarkResult(BaseModel):
    """By default what the mark changed: the counts and the changed rows (the client holds the rest of the
    register). With `full_register`: the whole register (`session`, `permissions`, every row) as well."""

    # Named by alias: a field called `register` would shadow BaseModel.register (and inherit it as its default).
    register_kind: Literal["changes", "full"] = Field(alias="register",
                                                      description="changes: what the mark changed; full: every row.")
    session_id: int | None = None
    key: str
    counts: dict[str, int]
    changed: list[int]
    conflicts: list[MarkConflict]
    trainees: list[RegisterRowOut]
    session: RegisterSession | None = None
    permissions: RegisterPermissions | None = None


# ---------------------------------------------------------------------------------------------------------------
# The same answers built from the domain's objects. Each reads its fields by their domain names, one name each
# (a name looked up in vain costs an exception per row), and exists once per cohort key, so that a row carries
# its own cohort's key and no other; each dumps exactly as the declared schema above (the suite checks every
# answer against it).
# ---------------------------------------------------------------------------------------------------------------


class _RowFromRegister(BaseModel):
    """RegisterRowOut from a RegisterRow (core.attendance.roster); the evidence id made a URL with the request's
    `evidence_base` (validation context)."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("evidence_url", mode="before", check_fields=False)
    @classmethod
    def _evidence_url(cls, value: Any, info: ValidationInfo) -> Any:
        return None if value is None else f"{info.context['evidence_base']}{value}"  # type: ignore[index]


def _row_from_register(key: str) -> Any:
    """The row schema of one cohort key: RegisterRowOut's fields in its order, each read by its domain name."""
    by_domain_name = {"id": "member_id", key: "member_id", "reference": "detail", "evidence_url": "evidence_file_id"}
    fields: dict[str, Any] = {}
    for name, info in RegisterRowOut.model_fields.items():
        if name in KEYS and name != key:
            continue
        kind = IsoTextOrNone if name in ("marked_at", "checked_in_at") else int if name == key else info.annotation
        fields[name] = (kind, Field(validation_alias=by_domain_name.get(name, name)))
    return create_model(f"_RowOf_{key}", __base__=_RowFromRegister, **fields)


KEYS = ("enrolment_id", "trainee_id")
_PublicRow = _row_from_register("enrolment_id")
_CorporateRow = _row_from_register("trainee_id")


class _RegisterFromDomain(BaseModel):
    """RegisterOut from a Register (core.attendance.reads)."""

    model_config = ConfigDict(from_attributes=True)

    session: RegisterSession = Field(validation_alias="info")
    key: str
    permissions: RegisterPermissions
    counts: dict[str, int]


class _PublicRegister(_RegisterFromDomain):
    trainees: list[_PublicRow] = Field(validation_alias="rows")  # type: ignore[valid-type]


class _CorporateRegister(_RegisterFromDomain):
    trainees: list[_CorporateRow] = Field(validation_alias="rows")  # type: ignore[valid-type]


class _MarkFromDomain(BaseModel):
    """MarkResult from a mark's outcome (web.attendance.mark_result names its parts)."""

    model_config = ConfigDict(from_attributes=True)

    register_kind: Literal["changes", "full"] = Field(alias="register")
    session_id: int | None = None
    key: str
    counts: dict[str, int]
    changed: list[int]
    conflicts: list[MarkConflict]
    session: RegisterSession | None = Field(None, validation_alias="info")
    permissions: RegisterPermissions | None = None


class _PublicMark(_MarkFromDomain):
    trainees: list[_PublicRow]  # type: ignore[valid-type]


class _CorporateMark(_MarkFromDomain):
    trainees: list[_CorporateRow]  # type: ignore[valid-type]


# By the register's key: the schema that builds each answer.
REGISTER_OUT: dict[str, type[_RegisterFromDomain]] = {"enrolment_id": _PublicRegister,
                                                     "trainee_id": _CorporateRegister}
MARK_RESULT: dict[str, type[_MarkFromDomain]] = {"enrolment_id": _PublicMark, "trainee_id": _CorporateMark}


class EvidenceOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


class HistoryItem(BaseModel):
    """One audited change of a mark."""

    at: str
    action: str
    by: str | None
    from_: dict[str, Any] | None = Field(alias="from")
    to: dict[str, Any] | None


class _EvidenceFromRow(BaseModel):
    """EvidenceOut from an EvidenceFile row; its URL from the request's `evidence_base` (validation context)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str = Field(validation_alias="original_filename")
    content_type: str
    size_bytes: int
    sha256: str
    url: str = Field(validation_alias="id")

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any, info: ValidationInfo) -> Any:
        return f"{info.context['evidence_base']}{value}"  # type: ignore[index]


class _HistoryFromChange(BaseModel):
    """HistoryItem from a MarkChange (core.attendance.evidence)."""

    model_config = ConfigDict(from_attributes=True)

    at: IsoText
    action: str
    by: str | None
    from_: dict[str, Any] | None = Field(validation_alias="before", serialization_alias="from")
    to: dict[str, Any] | None = Field(validation_alias="after")


EVIDENCE_OUT = _EvidenceFromRow
HISTORY_ITEM = _HistoryFromChange


class EvidenceUpload(BaseModel):
    """multipart/form-data with the sick note in `file` (PDF, JPEG or PNG; checked by content)."""

    model_config = {"json_schema_extra": file_required}

    file: Any = file_field("The sick note: PDF, JPEG or PNG.")
