"""The access log: a staff member's view of a person's page, or an export of their data, recorded like a
regulator's read (in the viewing transaction), and listed in that person's own export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.models import PersonalDataAccess, User
from core.uow import unit_of_work

from .people import Person


def record(session: Session, viewer: User, person: Person, action: str) -> None:
    """Add the row to the caller's transaction (a learner reading their own record is not logged)."""
    if person.kind == "users" and person.id == viewer.id:
        return
    session.add(PersonalDataAccess(institution_id=person.institution_id, person_kind=person.kind,
                                   person_id=person.id, viewer_id=viewer.id, viewer_role=str(viewer.role.value),
                                   action=action, at=clock.now()))


def record_view(session: Session, viewer: User, kind: str, person_id: int, institution_id: int | None) -> None:
    """A page view as its own short transaction (screens and API reads that show a person); one's own page is
    not logged."""
    if kind == "users" and person_id == viewer.id:
        return
    with unit_of_work(session):
        session.add(PersonalDataAccess(institution_id=institution_id, person_kind=kind, person_id=person_id,
                                       viewer_id=viewer.id, viewer_role=str(viewer.role.value), action="view",
                                       at=clock.now()))


def entries(session: Session, kind: str, person_id: int, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.execute(select(PersonalDataAccess, User.full_name).outerjoin(
        User, User.id == PersonalDataAccess.viewer_id).where(PersonalDataAccess.person_kind == kind,
                                                             PersonalDataAccess.person_id == person_id)
        .order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc()).limit(limit)).all()
    return [{"at": a.at.isoformat(), "action": a.action, "by": name, "role": a.viewer_role} for a, name in rows]
