"""Typed commands of the organization portal; web/ (API and screens) and tasks build them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.fields import Command, Id, PageQuery
from core.registers.commands import Language


class ProgrammeQuery(PageQuery):
    organization_id: Id | None = Field(
        None, description="For members of several organizations: which one (default: the one last chosen).")


class RequestReport(Command):
    kind: Literal["delivery", "progress"] = Field(
        description="`delivery`: sessions delivered vs planned, hours, attendance per session; "
                    "`progress`: each of your employees' attendance % and sessions missed.")
    format: Literal["pdf", "xlsx"] = "pdf"
    language: Language | None = Field(
        None, description="The report's language. When absent: the request's Accept-Language, then the "
                          "requester's profile language, then the institution's default language.")


class GrantPermission(Command):
    permission: Literal["corporate_reports.view", "corporate_finance.view"] = Field(
        description="What the organization's members may then do.")
