"""Learner accounts (issue 21): an admin invites a cohort's learners or trainees to their own account.

One person has one account (role learner), found by email address within the institution: a public learner's row
and every corporate trainee row with that address are tied to it, so someone in several cohorts signs in once.
The invitation is the staff welcome mail (core.people.jobs.WELCOME_LINK, written to the outbox in the same
transaction, sent after commit) with its single-use link to choose a password, in the learner's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, jobs
from core.access.scoping import visible_cohort
from core.errors import ValidationError
from core.i18n import N_
from core.models import Cohort, CohortType, CorporateTrainee, Enrolment, Learner, Role, User
from core.uow import unit_of_work

from .commands import InviteLearners
from .jobs import WELCOME_LINK


@dataclass(frozen=True)
class Invitee:
    """A cohort member who may get an account: their row's id, name, address and account (if any)."""

    id: int
    full_name: str
    email: str | None
    user_id: int | None


@dataclass
class InvitationOutcome:
    invited: list[int] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)


def _invitees(session: Session, cohort: Cohort) -> list[Invitee]:
    if cohort.cohort_type == CohortType.CORPORATE:
        rows = session.execute(select(CorporateTrainee.id, CorporateTrainee.full_name, CorporateTrainee.email,
                                      CorporateTrainee.user_id)
                               .where(CorporateTrainee.cohort_id == cohort.id).order_by(CorporateTrainee.id)).all()
    else:
        rows = session.execute(select(Learner.id, Learner.full_name, Learner.email, Learner.user_id)
                               .join(Enrolment, Enrolment.learner_id == Learner.id)
                               .where(Enrolment.cohort_id == cohort.id).distinct().order_by(Learner.id)).all()
    return [Invitee(*r) for r in rows]


def _chosen(members: list[Invitee], command: InviteLearners) -> list[Invitee]:
    if command.all:
        return members
    by_id = {m.id: m for m in members}
    if unknown := [i for i in dict.fromkeys(command.learner_ids) if i not in by_id]:
        raise ValidationError(N_("Some of these people are not in this cohort; nobody was invited."),
                              code="unknown_learner",
                              details=[{"field": "learner_ids", "message": f"Not in this cohort: {i}."}
                                       for i in unknown])
    return [by_id[i] for i in dict.fromkeys(command.learner_ids)]


def _account_for(session: Session, cohort: Cohort, invitee: Invitee) -> tuple[User | None, str | None]:
    """The person's account, made if they have none; or why they cannot have one here."""
    if invitee.user_id is not None:
        user = session.get(User, invitee.user_id)
        return (user, None) if user is not None and user.role == Role.LEARNER else (None, "not_a_learner_account")
    if not invitee.email:
        return None, "no_email"
    user = session.scalar(select(User).where(User.email == invitee.email.lower()))
    if user is None:
        user = User(email=invitee.email.lower(), full_name=invitee.full_name, role=Role.LEARNER,
                    institution_id=cohort.institution_id, password_hash=None)
        session.add(user)
        session.flush()
    elif user.role != Role.LEARNER or user.institution_id != cohort.institution_id:
        return None, "email_in_use"
    return user, None


def _tie(session: Session, cohort: Cohort, user: User) -> None:
    """Tie every row of this person (same address, same institution, no account yet) to the account: at most one
    learner row, and each corporate trainee row."""
    has_learner = session.scalar(select(Learner.id).where(Learner.user_id == user.id))
    if has_learner is None:
        learner_id = session.scalar(select(Learner.id).where(
            Learner.institution_id == cohort.institution_id, func.lower(Learner.email) == user.email,
            Learner.user_id.is_(None))
            .order_by(Learner.id).limit(1))
        if learner_id is not None:
            session.execute(update(Learner).where(Learner.id == learner_id).values(user_id=user.id))
    in_institution = select(Cohort.id).where(Cohort.institution_id == cohort.institution_id)
    already = select(CorporateTrainee.cohort_id).where(CorporateTrainee.user_id == user.id)
    session.execute(update(CorporateTrainee).where(
        CorporateTrainee.email == user.email, CorporateTrainee.user_id.is_(None),
        CorporateTrainee.cohort_id.in_(in_institution), CorporateTrainee.cohort_id.not_in(already))
        .values(user_id=user.id).execution_options(synchronize_session=False))


def invite_learners(session: Session, actor: User, cohort_id: int, command: InviteLearners) -> InvitationOutcome:
    """Make (or find) each chosen person's account, tie their rows to it, and queue the welcome mail with a link to
    choose a password. Someone who already chose a password is not mailed again; someone with no address, or
    whose address belongs to a staff account, is skipped with a reason. One transaction."""
    outcome = InvitationOutcome()
    with unit_of_work(session):
        cohort = visible_cohort(session, actor, cohort_id, "learners.invite")
        for invitee in _chosen(_invitees(session, cohort), command):
            user, problem = _account_for(session, cohort, invitee)
            if user is None:
                if not (command.all and problem == "no_email"):
                    outcome.skipped.append({"id": invitee.id, "reason": problem})
                continue
            _tie(session, cohort, user)
            if user.password_hash is not None:
                outcome.skipped.append({"id": invitee.id, "reason": "already_signed_up"})
                continue
            jobs.enqueue(session, WELCOME_LINK, user.id)
            audit.record(session, actor_id=actor.id, action="learner.invite", entity_type="user", entity_id=user.id,
                         after={"email": user.email, "cohort_id": cohort.id, "member_id": invitee.id})
            outcome.invited.append(invitee.id)
    return outcome
