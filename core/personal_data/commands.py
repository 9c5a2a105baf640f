"""Typed commands for personal data: erasure, exports, retention."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from core.fields import Command, Id, clean_text
from core.input_fields import OptionalEmail

ReasonText = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(clean_text)]


class Erase(Command):
    reason: ReasonText = Field(description="Why the person is erased (kept; their former values are taken out).")
    password: Annotated[str | None, AfterValidator(lambda v: v if v is None else clean_text(v))] = Field(
        None, max_length=200, description="The acting admin's password: a fresh confirmation.")


Days = Annotated[int, Field(ge=1, le=36500)]
Years = Annotated[int, Field(ge=1, le=100)]


class RetentionSettings(Command):
    """Only the keys sent change."""

    import_files_days: Days | None = Field(None, description="Import files are deleted this many days after "
                                                             "commit (default 90).")
    error_reports_days: Days | None = Field(None, description="Import rows and error reports (default 90 days).")
    evidence_years: Years | None = Field(None, description="Evidence, after the cohort ends (default 5 years).")
    registers_years: Years | None = Field(None, description="Submitted registers (default 10 years).")
    invoices_years: Years | None = Field(None, description="Invoices and credit notes (default 10 years).")


Text2000 = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(clean_text)]
ShortText = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(clean_text)]


class ProcessingEntry(Command):
    purpose: Text2000
    data_categories: list[ShortText] = Field(default_factory=list, max_length=50)
    data_subjects: list[ShortText] = Field(default_factory=list, max_length=50)
    recipients: list[ShortText] = Field(default_factory=list, max_length=50)
    transfers_abroad: Text2000 = "none"
    retention: Text2000 = "see the retention policy"
    security: list[ShortText] = Field(default_factory=list, max_length=50)


class SaveProcessingRegister(Command):
    """`entries` replaces the register (leave it out to keep it); the officer's name and email are the
    institution's information / data-protection officer, shown on verify pages and in exports."""

    entries: list[ProcessingEntry] | None = Field(None, max_length=200)
    information_officer_name: Annotated[str | None, AfterValidator(lambda v: v if v is None else clean_text(v))] = (
        Field(None, max_length=200))
    information_officer_email: OptionalEmail = None


class NamedPerson(Command):
    kind: Literal["learners", "trainees", "users"]
    id: Id


class RecordBreach(Command):
    found_at: dt.datetime = Field(description="When the incident was found (ISO 8601 with offset).")
    description: Text2000 = Field(description="What happened.")
    data_categories: list[ShortText] = Field(default_factory=list, max_length=50)
    cohort_ids: list[Id] = Field(default_factory=list, max_length=1000,
                                 description="Cohorts whose people are concerned (everyone in them is affected).")
    people: list[NamedPerson] = Field(default_factory=list, max_length=10_000)
    measures: Annotated[str | None, AfterValidator(lambda v: v if v is None else clean_text(v))] = Field(
        None, max_length=5000)
    notified_whom: Annotated[str | None, AfterValidator(lambda v: v if v is None else clean_text(v))] = Field(
        None, max_length=2000)
    notified_at: dt.datetime | None = None

    @field_validator("found_at", "notified_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone offset, e.g. 2026-11-17T09:30:00+01:00")
        return value
