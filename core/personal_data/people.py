"""Whose data: a learner, a corporate trainee or a user (`<kind>` in the URLs), found within the actor's
institution (404 otherwise, so other tenants' ids leak nothing), and the personal fields each kind holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.i18n import N_
from core.models import Cohort, CorporateTrainee, Learner, Role, User

Kind = Literal["learners", "trainees", "users"]
KINDS: tuple[Kind, ...] = ("learners", "trainees", "users")
MODELS: dict[str, Any] = {"learners": Learner, "trainees": CorporateTrainee, "users": User}
# The audit trail's name for each kind (core.audit entity_type).
ENTITY_TYPES = {"learners": "learner", "trainees": "corporate_trainee", "users": "user"}
# The personal fields an erasure replaces or empties, per kind (the list: name, ID number, phone, email,
# date of birth, employee code, job title; a trainee's department with them).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "learners": ("full_name", "id_number", "email", "phone_e164", "date_of_birth"),
    "trainees": ("full_name", "phone_e164", "email", "job_title", "employee_code", "department"),
    "users": ("full_name", "email", "phone_e164"),
}


@dataclass
class Person:
    kind: str
    row: Any
    institution_id: int | None
    language: str = "en"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.row.id)


def institution_of(session: Session, kind: str, row: Any) -> int | None:
    if kind == "trainees":
        return session.scalar(select(Cohort.institution_id).where(Cohort.id == row.cohort_id))
    return row.institution_id  # type: ignore[no-any-return]


def load_person(session: Session, kind: str, person_id: int, *, for_update: bool = False) -> Person | None:
    if kind not in MODELS:
        return None
    model = MODELS[kind]
    stmt = select(model).where(model.id == person_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None:
        return None
    return Person(kind=kind, row=row, institution_id=institution_of(session, kind, row))


def visible_person(session: Session, actor: User, kind: str, person_id: int, *, for_update: bool = False) -> Person:
    """The person, if the actor's institution holds them (a super admin reaches every institution)."""
    person = load_person(session, kind, person_id, for_update=for_update)
    if person is None or (actor.role != Role.SUPER_ADMIN and person.institution_id != actor.institution_id):
        raise NotFound(N_("No such person."))
    return person


def field_text(value: Any) -> str | None:
    """A field's value as the corrections history and the export keep it."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def snapshot(kind: str, row: Any) -> dict[str, str | None]:
    return {name: field_text(getattr(row, name)) for name in PERSONAL_FIELDS[kind]}
