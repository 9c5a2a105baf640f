"""Who a learner's account is on the registers: one account (role learner) is tied to at most one public learner
row (whose enrolments put them in public cohorts) and to one corporate trainee row per corporate cohort."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Cohort, CohortType, CorporateTrainee, Enrolment, Learner, User


@dataclass(frozen=True)
class Membership:
    """One cohort the learner is in, and their row on its registers (an enrolment or a corporate trainee)."""

    cohort_id: int
    cohort_name: str
    cohort_type: str
    member_id: int
    active: bool


def memberships(session: Session, user_id: int) -> list[Membership]:
    """Every cohort the account's person is in, public and corporate, by cohort name (two queries)."""
    public = session.execute(
        select(Cohort.id, Cohort.name, Enrolment.id, Enrolment.status)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id).join(Learner, Learner.id == Enrolment.learner_id)
        .where(Learner.user_id == user_id)).all()
    corporate = session.execute(
        select(Cohort.id, Cohort.name, CorporateTrainee.id, CorporateTrainee.active)
        .join(CorporateTrainee, CorporateTrainee.cohort_id == Cohort.id)
        .where(CorporateTrainee.user_id == user_id)).all()
    found = [Membership(r[0], r[1], CohortType.PUBLIC.value, r[2], r[3].value == "ACTIVE") for r in public]
    found += [Membership(r[0], r[1], CohortType.CORPORATE.value, r[2], bool(r[3])) for r in corporate]
    return sorted(found, key=lambda m: (m.cohort_name, m.cohort_id))


def member_in_cohort(session: Session, user: User, cohort: Cohort) -> int | None:
    """The learner's enrolment (public cohort) or trainee row (corporate cohort) in `cohort`, else None."""
    if cohort.cohort_type == CohortType.CORPORATE:
        return session.scalar(select(CorporateTrainee.id).where(CorporateTrainee.cohort_id == cohort.id,
                                                                CorporateTrainee.user_id == user.id))
    return session.scalar(select(Enrolment.id).join(Learner, Learner.id == Enrolment.learner_id)
                          .where(Enrolment.cohort_id == cohort.id, Learner.user_id == user.id)
                          .order_by(Enrolment.id).limit(1))
