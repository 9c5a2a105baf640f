"""Enrolments: learners on a public cohort. A withdrawal takes effect from its date: the learner leaves the
registers of sessions on or after it and keeps their place (and marks) on earlier ones."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import cohort_filter, visible_cohort
from core.collation import collated
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.models import Cohort, CohortStatus, CohortType, Enrolment, EnrolmentStatus, Institution, Learner, User
from core.people.commands import Enrol, UpdateEnrolment, Withdraw
from core.uow import unit_of_work


@dataclass(frozen=True)
class EnrolOutcome:
    enrolled: list[Enrolment]
    already: list[Enrolment]
    unknown_id_numbers: list[str] = field(default_factory=list)


def public_cohort(session: Session, user: User, cohort_id: int, permission: str) -> Cohort:
    cohort = visible_cohort(session, user, cohort_id, permission)
    if cohort.cohort_type != CohortType.PUBLIC:
        raise NotFound(N_("No such public cohort."))
    return cohort


def enrolments_query(cohort_id: int, status: str | None = None, language: str = "en") -> Select[Any]:
    stmt = (select(Enrolment, Learner).join(Learner, Learner.id == Enrolment.learner_id)
            .where(Enrolment.cohort_id == cohort_id))
    if status:
        stmt = stmt.where(Enrolment.status == EnrolmentStatus(status))
    return stmt.order_by(collated(Learner.full_name, language), Enrolment.id)


def enrol(session: Session, user: User, cohort_id: int, command: Enrol) -> EnrolOutcome:
    """Enrol these learners; those already on the cohort are reported, not changed. One unit of work."""
    with unit_of_work(session):
        cohort = public_cohort(session, user, cohort_id, "learners.manage")
        if cohort.status != CohortStatus.ACTIVE:
            raise ValidationError(N_("Learners can be enrolled only in an active cohort."), code="cohort_not_active")
        by_number, unknown = learners_by_id_number(session, cohort.institution_id, command.id_numbers)
        ids = list(dict.fromkeys([*command.learner_ids, *by_number]))
        found = set(session.scalars(select(Learner.id).where(Learner.id.in_(ids),
                                                             Learner.institution_id == cohort.institution_id)))
        if missing := [i for i in ids if i not in found]:
            raise ValidationError(N_("Some learners are not at this institution."), code="unknown_learner",
                                  details=[{"field": "learner_ids", "message": f"No such learner: {i}."}
                                           for i in missing])
        existing = {e.learner_id: e for e in session.scalars(
            select(Enrolment).where(Enrolment.cohort_id == cohort.id, Enrolment.learner_id.in_(ids)))}
        if command.enrolled_on is not None:
            _check_enrolment_date(cohort, command.enrolled_on)
        enrolled_on = command.enrolled_on or default_enrolment_date(session, cohort)
        new = [Enrolment(learner_id=i, cohort_id=cohort.id, qualification_id=cohort.qualification_id,
                         status=EnrolmentStatus.ACTIVE, enrolled_on=enrolled_on) for i in ids if i not in existing]
        session.add_all(new)
        session.flush()
        audit.record_many(session, ({"actor_id": user.id, "action": "enrolment.create", "entity_type": "enrolment",
                                     "institution_id": cohort.institution_id, "entity_id": e.id,
                                     "after": {"learner_id": e.learner_id, "cohort_id": cohort.id,
                                               "enrolled_on": enrolled_on.isoformat()}}
                                    for e in new))
        return EnrolOutcome(new, [existing[i] for i in ids if i in existing], unknown)


def learners_by_id_number(session: Session, institution_id: int, id_numbers: list[str]) -> tuple[list[int], list[str]]:
    """The institution's learners with these ID numbers (in the order given), and the numbers nobody has."""
    wanted = list(dict.fromkeys(n.strip() for n in id_numbers if n.strip()))
    if not wanted:
        return [], []
    found = dict(session.execute(select(Learner.id_number, Learner.id).where(
        Learner.institution_id == institution_id, Learner.id_number.in_(wanted))).all())
    return [found[n] for n in wanted if n in found], [n for n in wanted if n not in found]


def _check_enrolment_date(cohort: Cohort, day: dt.date) -> None:
    if cohort.end_date is not None and day > cohort.end_date:
        raise ValidationError(N_("The enrolment date is after the cohort's end (%(end)s)."), code="date_after_end",
                              params={"end": cohort.end_date.isoformat()},
                              details=[{"field": "enrolled_on", "message": "After the cohort's end."}])


def update_enrolment(session: Session, user: User, enrolment_id: int, command: UpdateEnrolment) -> Enrolment:
    """Correct the enrolment date: rates then count every session on or after it, marks backfilled before the
    old date included; the learner joins (or leaves) the registers of the sessions between the two dates."""
    with unit_of_work(session):
        enrolment = _manageable_enrolment(session, user, enrolment_id)
        cohort = session.get(Cohort, enrolment.cohort_id)
        assert cohort is not None
        _check_enrolment_date(cohort, command.enrolled_on)
        if enrolment.withdrawn_on is not None and command.enrolled_on >= enrolment.withdrawn_on:
            raise ValidationError(N_("The enrolment date must be before the withdrawal date (%(date)s)."),
                                  code="date_after_withdrawal", params={"date": enrolment.withdrawn_on.isoformat()},
                                  details=[{"field": "enrolled_on", "message": "Not before the withdrawal date."}])
        before = {"enrolled_on": enrolment.enrolled_on.isoformat() if enrolment.enrolled_on else None}
        enrolment.enrolled_on = command.enrolled_on
        audit.record(session, actor_id=user.id, action="enrolment.update", entity_type="enrolment",
                     entity_id=enrolment.id, before=before, after={"enrolled_on": command.enrolled_on.isoformat()})
    return enrolment


def _manageable_enrolment(session: Session, user: User, enrolment_id: int) -> Enrolment:
    enrolment = session.scalar(select(Enrolment).join(Cohort, Cohort.id == Enrolment.cohort_id)
                               .where(Enrolment.id == enrolment_id, cohort_filter(user)))
    if enrolment is None:
        raise NotFound(N_("No such enrolment."))
    return enrolment


def default_enrolment_date(session: Session, cohort: Cohort) -> Any:
    zone = session.scalar(select(Institution.time_zone).where(Institution.id == cohort.institution_id)) or "UTC"
    today = clock.today_in(zone)
    return max(today, cohort.start_date) if cohort.start_date else today


def withdraw(session: Session, user: User, enrolment_id: int, command: Withdraw) -> Enrolment:
    with unit_of_work(session):
        enrolment = _manageable_enrolment(session, user, enrolment_id)
        if enrolment.status == EnrolmentStatus.WITHDRAWN:
            raise ValidationError(N_("This learner has already been withdrawn."), code="already_withdrawn")
        if enrolment.enrolled_on and command.date < enrolment.enrolled_on:
            raise ValidationError(N_("The withdrawal date is before the enrolment date."), code="date_before_enrolment",
                                  details=[{"field": "date", "message": "Before the enrolment date."}])
        before = {"status": enrolment.status.value}
        enrolment.status = EnrolmentStatus.WITHDRAWN
        enrolment.withdrawn_on, enrolment.withdrawal_reason = command.date, command.reason
        audit.record(session, actor_id=user.id, action="enrolment.withdraw", entity_type="enrolment",
                     entity_id=enrolment.id, before=before,
                     after={"status": "WITHDRAWN", "withdrawn_on": command.date.isoformat(), "reason": command.reason})
    return enrolment
