"""Typed queries of the at-risk view (web/ builds them from the query string)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.fields import Id, PageQuery

LevelName = Literal["ok", "watch", "at_risk", "cannot_reach"]


class AtRiskQuery(PageQuery):
    """Every trainee at `watch` or worse (or at `level`), in cohorts the caller may see."""

    cohort: Id | None = None
    qualification: Id | None = None
    organization: Id | None = None
    facilitator: Id | None = None
    level: LevelName | None = None
    sort: Literal["margin", "-margin"] = Field("margin", description="margin: smallest margin first.")
