"""Typed queries of a learner's own API."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from core.fields import Command, Day


class MySessionsQuery(Command):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", populate_by_name=True)

    start: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: the institution's today.")
    end: Day | None = Field(None, alias="to", description="YYYY-MM-DD; default: 30 days after `from`.")
