"""Learners: an institution's people on public cohorts. National ID / passport numbers are unique per
institution where present (the database enforces it too)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import learner_filter
from core.collation import collated, like_pattern, name_matches
from core.db import flush_or_conflict
from core.errors import NotFound
from core.i18n import N_
from core.imports.contacts import normalize_mobile
from core.institutions.phones import institution_mobile
from core.institutions.service import acting_institution
from core.models import Enrolment, Learner, User
from core.personal_data import corrections
from core.uow import unit_of_work

from .commands import CreateLearner, LearnerQuery, UpdateLearner

LEARNER_FIELDS = ("full_name", "id_number", "email", "phone_e164", "date_of_birth")


def _snapshot(learner: Learner) -> dict[str, Any]:
    out = {name: getattr(learner, name) for name in LEARNER_FIELDS}
    out["date_of_birth"] = out["date_of_birth"].isoformat() if out["date_of_birth"] else None
    return out


_PHONE_TEXT = re.compile(r"[0-9 +\-.()]+", re.ASCII)


def _phone_matches(q: str, country: str | None) -> list[Any]:
    """A search for a phone however it is typed: the whole number read as the country reads it (082 555 1234 →
    +27825551234), or its digits inside the stored E.164 (national trunk 0 dropped)."""
    found: list[Any] = []
    if country and (e164 := normalize_mobile(q.strip(), country)[0] if len(q) <= 64 else None):
        found.append(Learner.phone_e164 == e164)
    if _PHONE_TEXT.fullmatch(q.strip()):  # a number, not a name or an ID with letters
        digits = "".join(c for c in q if c.isdigit()).lstrip("0")
        if len(digits) >= 4:
            found.append(Learner.phone_e164.like(f"%{digits}%"))
    return found


def learners_query(user: User, query: LearnerQuery, language: str = "en", country: str | None = None
                   ) -> Select[Any]:
    """Learners the user may see, filtered; found by name accents and case aside (a trigram index on
    names_fold(full_name) serves it on PostgreSQL), ID number, email or phone (however typed, read by `country`),
    in `language`'s name order."""
    stmt = select(Learner).where(learner_filter(user))
    if query.q:
        like = like_pattern(query.q)
        stmt = stmt.where(or_(name_matches(Learner.full_name, query.q), *(
            column.ilike(like, escape="\\") for column in (Learner.id_number, Learner.email, Learner.phone_e164)),
            *_phone_matches(query.q, country)))
    if query.cohort is not None:
        stmt = stmt.where(Learner.id.in_(select(Enrolment.learner_id).where(Enrolment.cohort_id == query.cohort)))
    return stmt.order_by(collated(Learner.full_name, language), Learner.id)


def visible_learner(session: Session, user: User, learner_id: int) -> Learner:
    found = session.scalar(select(Learner).where(Learner.id == learner_id, learner_filter(user)))
    if found is None:
        raise NotFound(N_("No such learner."))
    return found


def _values(session: Session, institution_id: int, command: CreateLearner | UpdateLearner) -> dict[str, Any]:
    """The command's values as columns; the phone read as a mobile of the institution's country."""
    values = command.model_dump(exclude_unset=True, exclude={"institution_id", "reason"})
    if "phone" in values:
        values["phone_e164"] = institution_mobile(session, institution_id, values.pop("phone"))
    return values


def create_learner(session: Session, user: User, command: CreateLearner) -> Learner:
    with unit_of_work(session):
        institution_id = acting_institution(session, user, command.institution_id)
        learner = Learner(institution_id=institution_id,
                          **{**dict.fromkeys(LEARNER_FIELDS), **_values(session, institution_id, command)})
        session.add(learner)
        flush_or_conflict(session, N_("A learner with this ID number already exists here."), "duplicate_id_number")
        audit.record(session, actor_id=user.id, action="learner.create", entity_type="learner", entity_id=learner.id,
                     after=_snapshot(learner))
    return learner


def update_learner(session: Session, user: User, learner_id: int, command: UpdateLearner) -> Learner:
    with unit_of_work(session):
        learner = visible_learner(session, user, learner_id)
        values = _values(session, learner.institution_id, command)
        before = _snapshot(learner)
        for name, value in values.items():
            setattr(learner, name, value)
        flush_or_conflict(session, N_("A learner with this ID number already exists here."), "duplicate_id_number")
        after = _snapshot(learner)
        audit.record(session, actor_id=user.id, action="learner.update", entity_type="learner", entity_id=learner.id,
                     before=before, after=after)
        corrections.record(session, kind="learners", person_id=learner.id, institution_id=learner.institution_id,
                           actor_id=user.id, before=before, after=after, reason=command.reason)
    return learner
