"""Typed commands for staff accounts, passwords, learners and enrolments."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from core.fields import Command, Id, Name, PageQuery, SearchText
from core.input_fields import PLAIN_EMAIL, OptionalDate, OptionalEmail, OptionalMobile, bounded, kept
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
    organization_id: Id | None = Field(None, description="Organization members only.")
    password: str | None = Field(None, min_length=1, max_length=200,
                                 description="Optional first password; without one the user is mailed a link "
                                             "to choose it.")
    cohort_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS,
                                 description="Cohorts a teacher facilitates.")


class UpdateUser(Command):
    """Only the keys sent are changed. `{"active": false}` deactivates: sessions and tokens end at once."""

    full_name: kept(Name) = Field(None, max_length=200)
    role: kept(RoleName) = None
    active: kept(bool) = None
    cohort_ids: list[Id] | None = Field(None, max_length=MAX_IDS, description="Cohorts a teacher facilitates.")


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


class LearnerQuery(PageQuery):
    q: SearchText = ""
    cohort: Id | None = Field(None, description="Only learners enrolled in this cohort.")


class Enrol(Command):
    learner_ids: list[Id] = Field(min_length=1, max_length=MAX_IDS)
    enrolled_on: OptionalDate = Field(None, description="Defaults to the later of today and the cohort's start.")


class Withdraw(Command):
    date: dt.date = Field(description="From this date the learner leaves the registers.")
    reason: Reason = None


class EnrolmentQuery(PageQuery):
    status: Literal["ACTIVE", "WITHDRAWN", "COMPLETED"] | None = None


ROLES_AN_ADMIN_GIVES = frozenset({Role.ADMIN, Role.SUPPORT, Role.TEACHER})
