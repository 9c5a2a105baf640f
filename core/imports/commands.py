"""Typed queries the import screens and API take (the upload itself is a file stream, not a command)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from core.fields import Command, PageQuery, SearchText


class ImportRowsQuery(PageQuery):
    ok: bool | None = Field(None, description="true: valid rows only; false: rows with errors only; "
                                              "absent or `all`: every row.")

    @field_validator("ok", mode="before")
    @classmethod
    def _all_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in ("", "all") else value


class TraineesQuery(PageQuery):
    q: SearchText = Field("", description="Matches name, email, phone, employee code or department.")


class CommitImport(Command):
    confirm_duplicate_file: bool = Field(False, description="Add a file already added to this cohort again.")
    include_possible_duplicates: bool = Field(False, description="Add rows flagged possible_duplicate too.")
