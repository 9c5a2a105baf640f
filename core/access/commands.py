"""Typed commands for accounts and regulator access requests; web/ (API and screens), tasks and the CLI build them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from core.fields import AwareDateTime, Command, Id, Language, PageQuery, SearchText, ShortText, clean_text

MAX_COHORTS_PER_REQUEST = 200
MIN_REASON = 10

Reason = Annotated[str, Field(min_length=MIN_REASON, max_length=2000), AfterValidator(clean_text)]
DecisionReason = Annotated[str, Field(min_length=3, max_length=2000), AfterValidator(clean_text)]


class CreateAccessRequest(Command):
    institution_id: Id
    scope: Literal["institution", "cohorts"] = Field(
        description="`institution`: every cohort of the institution; `cohorts`: only those in `cohort_ids`.")
    cohort_ids: list[Id] = Field(default_factory=list, max_length=MAX_COHORTS_PER_REQUEST,
                                 description="The cohorts asked for (scope `cohorts` only).")
    reason: Reason = Field(description=f"Why access is needed (at least {MIN_REASON} characters).")
    agency_name: ShortText | None = Field(
        None, description="Your organization or agency; remembered on your account when given.")


class ApproveAccessRequest(Command):
    expires_at: AwareDateTime = Field(description="When access ends by itself (at most a year ahead).")


class CloseAccessRequest(Command):
    """Deny a pending request, or revoke an approved one: the reason is kept and told to the regulator."""

    reason: DecisionReason


class AccessRequestQuery(PageQuery):
    status: Literal["PENDING", "APPROVED", "DENIED", "REVOKED", "EXPIRED"] | None = Field(
        None, description="Only requests in this state (EXPIRED: approved, but past its expiry).")


class ChoiceQuery(PageQuery):
    """Institutions or cohorts to ask for, by name."""

    q: SearchText = Field("", description="Part of the name.")
    per_page: int = Field(20, ge=1, le=100)


class CohortChoiceQuery(ChoiceQuery):
    institution_id: Id


TokenName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(clean_text)]


class CreateApiToken(Command):
    """A personal API token (profile screen, `flask users create-token`, tests)."""

    name: TokenName = "API token"


class ChooseLanguage(Command):
    """A user's own language (Profile). None (or empty): no choice, so the browser's and then the
    institution's default language apply."""

    language: Annotated[Language | None, BeforeValidator(lambda v: v or None)] = Field(
        None, description="`en`, `fr` or `ar`; empty for the browser's language.")
