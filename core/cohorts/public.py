"""Public cohorts (learners enrol in them), the status path every cohort follows, and facilitators."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import visible_cohort
from core.collation import collated
from core.errors import ValidationError
from core.i18n import N_
from core.institutions.service import acting_institution
from core.models import Cohort, CohortStatus, CohortType, Role, User, cohort_facilitators
from core.uow import unit_of_work

from .commands import CreatePublicCohort, SetFacilitators, UpdateCohort
from .service import check_dates, check_qualification, cohort_snapshot, field_problem

# ACTIVE → COMPLETED → ARCHIVED; a completed cohort may be reopened. Cancelling has its own use case.
STATUS_TRANSITIONS: dict[CohortStatus, frozenset[CohortStatus]] = {
    CohortStatus.ACTIVE: frozenset({CohortStatus.COMPLETED}),
    CohortStatus.COMPLETED: frozenset({CohortStatus.ARCHIVED, CohortStatus.ACTIVE}),
    CohortStatus.ARCHIVED: frozenset(),
    CohortStatus.CANCELLED: frozenset(),
}


def create_public_cohort(session: Session, user: User, command: CreatePublicCohort) -> Cohort:
    with unit_of_work(session):
        institution_id = acting_institution(session, user, command.institution_id)
        check_qualification(session, institution_id, command.qualification_id)
        check_dates(command.start_date, command.end_date)
        cohort = Cohort(institution_id=institution_id, cohort_type=CohortType.PUBLIC, status=CohortStatus.ACTIVE,
                        created_by_id=user.id, **command.model_dump(exclude={"institution_id"}))
        session.add(cohort)
        session.flush()
        audit.record(session, actor_id=user.id, action="cohort.create", entity_type="cohort", entity_id=cohort.id,
                     after=cohort_snapshot(cohort))
    return cohort


def update_cohort(session: Session, user: User, cohort_id: int, command: UpdateCohort) -> Cohort:
    """Edit name, course and dates, or move the status along its path (either kind of cohort)."""
    with unit_of_work(session):
        cohort = visible_cohort(session, user, cohort_id, "cohorts.update")
        values = command.model_dump(exclude_unset=True)
        if "name" in values and not values["name"]:
            raise field_problem("name", N_("Name is required."), "required")
        if cohort.cohort_type == CohortType.PUBLIC and "qualification_id" in values \
                and values["qualification_id"] is None:
            raise field_problem("qualification_id", N_("A public cohort needs a qualification."), "required")
        check_qualification(session, cohort.institution_id, values.get("qualification_id"))
        check_dates(values.get("start_date", cohort.start_date), values.get("end_date", cohort.end_date))
        before = {**cohort_snapshot(cohort), "status": cohort.status.value}
        if (status := values.pop("status", None)) is not None:
            _move(cohort, CohortStatus(status))
        elif cohort.status in (CohortStatus.ARCHIVED, CohortStatus.CANCELLED):
            raise ValidationError(N_("This cohort is %(status)s and can no longer be edited."),
                                  code="cohort_closed", params={"status": cohort.status.value})
        for name, value in values.items():
            setattr(cohort, name, value)
        audit.record(session, actor_id=user.id, action="cohort.update", entity_type="cohort", entity_id=cohort.id,
                     before=before, after={**cohort_snapshot(cohort), "status": cohort.status.value})
    return cohort


def _move(cohort: Cohort, new: CohortStatus) -> None:
    if new == cohort.status:
        return
    if new not in STATUS_TRANSITIONS[cohort.status]:
        raise ValidationError(N_("A cohort cannot go from %(old)s to %(new)s."), code="invalid_transition",
                              params={"old": cohort.status.value, "new": new.value},
                              details=[{"field": "status", "message": "ACTIVE → COMPLETED → ARCHIVED."}])
    cohort.status = new


def facilitators(session: Session, cohort: Cohort, language: str = "en") -> list[User]:
    return list(session.scalars(
        select(User).join(cohort_facilitators, cohort_facilitators.c.user_id == User.id)
        .where(cohort_facilitators.c.cohort_id == cohort.id).order_by(collated(User.full_name, language), User.id)))


def set_facilitators(session: Session, user: User, cohort_id: int, command: SetFacilitators, language: str = "en"
                     ) -> list[User]:
    """Replace the cohort's facilitators with these teachers of its institution."""
    with unit_of_work(session):
        cohort = visible_cohort(session, user, cohort_id, "cohorts.update")
        ids = sorted(set(command.user_ids))
        found = set(session.scalars(select(User.id).where(
            User.id.in_(ids), User.institution_id == cohort.institution_id, User.role == Role.TEACHER,
            User.active.is_(True))))
        if missing := [i for i in ids if i not in found]:
            raise ValidationError(N_("Facilitators must be active teachers of this institution."),
                                  code="not_a_teacher",
                                  details=[{"field": "user_ids", "message": f"User {i} is not an active teacher "
                                                                            "here."} for i in missing])
        before = sorted(u.id for u in facilitators(session, cohort))
        session.execute(delete(cohort_facilitators).where(cohort_facilitators.c.cohort_id == cohort.id))
        if ids:
            session.execute(insert(cohort_facilitators), [{"cohort_id": cohort.id, "user_id": i} for i in ids])
        session.expire(cohort, ["facilitators"])
        audit.record(session, actor_id=user.id, action="cohort.facilitators", entity_type="cohort",
                     entity_id=cohort.id, before={"user_ids": before}, after={"user_ids": ids})
        return facilitators(session, cohort, language)
