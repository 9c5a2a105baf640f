"""Typed commands for personal data: erasure, exports, retention."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from core.fields import Command, clean_text

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
