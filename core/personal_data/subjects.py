"""One person's rows everywhere: the learner, trainee and user rows that are the same person (linked through
their account), the cohorts and marks hanging off them, and the values that identify them (for erasure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.models import (
    AttendanceRecord,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Enrolment,
    Learner,
    PersonalDataCorrection,
    User,
)

from .people import Person

# Values too short to be anyone's (an initial, "-") are not searched for inside other text.
MIN_NEEDLE = 3
IDENTIFYING = ("full_name", "id_number", "email", "phone_e164", "employee_code")


@dataclass
class Subjects:
    learners: list[Learner] = field(default_factory=list)
    trainees: list[CorporateTrainee] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    enrolment_ids: list[int] = field(default_factory=list)
    cohort_ids: list[int] = field(default_factory=list)

    def ids(self, kind: str) -> list[int]:
        rows: list[Any] = {"learners": self.learners, "trainees": self.trainees, "users": self.users}[kind]
        return [r.id for r in rows]

    def public_marks(self) -> Any:
        return select(AttendanceRecord.id).where(AttendanceRecord.enrolment_id.in_(self.enrolment_ids))

    def corporate_marks(self) -> Any:
        return select(CorporateAttendanceRecord.id).where(
            CorporateAttendanceRecord.trainee_id.in_(self.ids("trainees")))


def gather(session: Session, person: Person, *, lock: bool = True) -> Subjects:
    """Every row that is this person: the row asked for, its account, and the account's other rows."""
    found = Subjects()
    user_ids: set[int] = set()
    if person.kind == "users":
        user_ids.add(person.id)
    elif person.row.user_id is not None:
        user_ids.add(person.row.user_id)

    def rows(model: Any, own: bool) -> list[Any]:
        cond = [model.user_id.in_(user_ids)] if user_ids else []
        if own:
            cond.append(model.id == person.id)
        if not cond:
            return []
        stmt = select(model).where(or_(*cond)).order_by(model.id)
        return list(session.scalars(stmt.with_for_update() if lock else stmt))

    found.learners = rows(Learner, person.kind == "learners")
    found.trainees = rows(CorporateTrainee, person.kind == "trainees")
    if user_ids:
        stmt = select(User).where(User.id.in_(user_ids)).order_by(User.id)
        found.users = list(session.scalars(stmt.with_for_update() if lock else stmt))
    if found.learners:
        enrolments = session.execute(select(Enrolment.id, Enrolment.cohort_id)
                                     .where(Enrolment.learner_id.in_(found.ids("learners")))).all()
        found.enrolment_ids = [e.id for e in enrolments]
        found.cohort_ids = [e.cohort_id for e in enrolments if e.cohort_id is not None]
    found.cohort_ids = sorted({*found.cohort_ids, *(t.cohort_id for t in found.trainees)})
    return found


def identifying_values(session: Session, subjects: Subjects) -> list[str]:
    """The values that name the person (current ones, and former ones from the corrections history), longest
    first, so that replacing them in other text leaves no part behind."""
    values: set[str] = set()
    for row in (*subjects.learners, *subjects.trainees, *subjects.users):
        for name in IDENTIFYING:
            if (value := getattr(row, name, None)) is not None:
                values.add(str(value))
    people = [(kind, i) for kind in ("learners", "trainees", "users") for i in subjects.ids(kind)]
    if people:
        past = session.execute(select(PersonalDataCorrection.field, PersonalDataCorrection.old_value,
                                      PersonalDataCorrection.new_value).where(or_(*(
            (PersonalDataCorrection.person_kind == k) & (PersonalDataCorrection.person_id == i) for k, i in people))))
        for name, old, new in past:
            if name in IDENTIFYING:
                values.update(v for v in (old, new) if v)
    return sorted((v for v in values if len(v.strip()) >= MIN_NEEDLE), key=len, reverse=True)
