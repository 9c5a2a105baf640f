"""Typed commands for staff accounts, passwords, learners and enrolments."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from core.fields import Command, Day, Id, Name, PageQuery, SearchText, clean_text
from core.input_fields import (
    PLAIN_EMAIL,
    OptionalDate,
    OptionalEmail,
    OptionalId,
    OptionalMobile,
    blank_to_none,
    bounded,
    kept,
)
from core.models import Role

RoleName = Literal["super_admin", "admin", "support", "teacher", "org_member", "regulator"]
IdNumber = bounded(40)
Reason = bounded(300)
MAX_IDS = 1000


class CreateUser(Command):
    email: str = Field(max_length=320, description="Sign-in address (unique).",
                       json_schema_extra={"pattern": PLAIN_EMAIL})
    full_name: Name = Field(max_length=200)
    role: RoleName
    institution_id: Id | None = Field(None, description="super_admin only; an admin's own institution otherwise.")
    organization_id: OptionalId = Field(None, description="Organization members (role org_member) only: one of "
                                                          "the institution's organizations.")
    phone: OptionalMobile = None
    # A blank form field is no password: the person is mailed a link to choose one.
    password: Annotated[str | None, BeforeValidator(blank_to_none)] = Field(
        None, min_length=1, max_length=200,
        description="Optional first password; without one the user is mailed a link to choose it.")
    cohort_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS,
                                 description="Cohorts a teacher facilitates.")


class UpdateUser(Command):
    """Only the keys sent are changed. `{"active": false}` deactivates: sessions and tokens end at once."""

    full_name: kept(Name) = Field(None, max_length=200)
    role: kept(RoleName) = None
    active: kept(bool) = None
    phone: OptionalMobile = None
    cohort_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Cohorts a teacher facilitates.")
    reason: Reason = Field(None, description="Why a personal field changes (kept in the corrections history).")


class UserQuery(PageQuery):
    q: SearchText = ""
    role: RoleName | None = None
    active: bool | None = None


class RequestPasswordReset(Command):
    email: str = Field(max_length=320)


class ResetPassword(Command):
    token: str = Field(min_length=1, max_length=1000)
    password: str = Field(min_length=1, max_length=200)


class ChangePassword(Command):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class LearnerFields(Command):
    id_number: IdNumber = Field(None, description="National ID or passport number; unique per institution.")
    email: OptionalEmail = None
    phone: OptionalMobile = None
    date_of_birth: OptionalDate = None


class CreateLearner(LearnerFields):
    full_name: Name = Field(max_length=200)
    institution_id: Id | None = Field(None, description="super_admin only; your institution otherwise.")


class UpdateLearner(LearnerFields):
    full_name: kept(Name) = Field(None, max_length=200)
    reason: Reason = Field(None, description="Why a personal field changes (kept in the corrections history).")


class LearnerQuery(PageQuery):
    q: SearchText = ""
    cohort: Id | None = Field(None, description="Only learners enrolled in this cohort.")


def _id_number_list(value: object) -> object:
    """A pasted list (one per line, or separated by commas, semicolons or tabs: a passport number may hold a
    space) as a list; a list stays."""
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[\r\n\t,;]+", value) if part.strip()]
    return value


IdNumberText = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(clean_text)]
EnrolmentDay = Annotated[Day | None, BeforeValidator(blank_to_none)]


class Enrol(Command):
    """Learners by id, by ID number, or both; an unknown ID number is reported, not an error."""

    learner_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    id_numbers: Annotated[list[IdNumberText], BeforeValidator(_id_number_list)] = Field(
        default_factory=list, max_length=MAX_IDS, description="National ID or passport numbers (each unknown one "
                                                               "is reported in `unknown_id_numbers`).")
    enrolled_on: EnrolmentDay = Field(None, description="Defaults to the later of today and the cohort's start.")

    @model_validator(mode="after")
    def _someone(self) -> Enrol:
        if not self.learner_ids and not self.id_numbers:
            raise ValueError("name at least one learner: learner_ids or id_numbers")
        return self


class UpdateEnrolment(Command):
    enrolled_on: Day = Field(description="From this date the learner's sessions count (marks before it included).")


class Withdraw(Command):
    date: dt.date = Field(description="From this date the learner leaves the registers.")
    reason: Reason = None


class EnrolmentQuery(PageQuery):
    status: Literal["ACTIVE", "WITHDRAWN", "COMPLETED"] | None = None


ROLES_AN_ADMIN_GIVES = frozenset({Role.ADMIN, Role.SUPPORT, Role.TEACHER, Role.ORG_MEMBER})


class InviteLearners(Command):
    """Who to invite to their own account: `learner_ids` (a public cohort's learners, a corporate cohort's
    trainees) or `all` (everyone in the cohort with an email address)."""

    learner_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS,
                                  description="Learner ids (public cohort) or trainee ids (corporate cohort).")
    all: bool = Field(False, description="Everyone in the cohort who has an email address.")

    @model_validator(mode="after")
    def _someone(self) -> InviteLearners:
        if not self.all and not self.learner_ids:
            raise ValueError("Name learner_ids, or send all: true.")
        return self
