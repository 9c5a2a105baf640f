"""The audit of regulator reads: every read a regulator makes is recorded under the grant(s) that
allowed it, so an institution can see what was looked at under each request it approved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from core import clock
from core.fields import PageQuery
from core.models import (
    AccessRequest,
    AccessRequestRead,
    AccessScope,
    ClassSession,
    Cohort,
    RegisterDocument,
    User,
    access_request_cohorts,
)
from core.uow import unit_of_work

from .requests import visible_request
from .scoping import grants_in_force

# URL parameters that name what was read, and how to find that thing's cohort.
_RESOURCES: dict[str, tuple[str, Any]] = {
    "cohort_id": ("cohort", None),
    "session_id": ("class_session", (ClassSession.cohort_id, ClassSession.id)),
    "document_id": ("register_document", (RegisterDocument.cohort_id, RegisterDocument.id)),
}


@dataclass(frozen=True)
class ReadItem:
    id: int
    at: dt.datetime
    regulator_id: int | None
    regulator_name: str | None
    endpoint: str
    path: str
    cohort_id: int | None
    cohort_name: str | None
    resource_type: str | None
    resource_id: int | None


def _resource(session: Session, view_args: Mapping[str, Any]) -> tuple[str | None, int | None, int | None]:
    """(resource type, resource id, cohort id) of the thing a URL names, when it names one."""
    for arg, (kind, lookup) in _RESOURCES.items():
        if isinstance(view_args.get(arg), int):
            resource_id = view_args[arg]
            if lookup is None:
                return kind, resource_id, resource_id
            cohort_column, id_column = lookup
            return kind, resource_id, session.scalar(select(cohort_column).where(id_column == resource_id))
    return None, None, None


def record_read(session: Session, regulator: User, *, endpoint: str, path: str,
                view_args: Mapping[str, Any]) -> list[int]:
    """Record one read under every grant in force that covers it (a read of no particular cohort, such as
    a list, under every grant in force). Returns the grant ids. Its own unit of work."""
    with unit_of_work(session):
        resource_type, resource_id, cohort_id = _resource(session, view_args)
        grants = select(AccessRequest.id).where(grants_in_force(regulator))
        if cohort_id is not None:
            institution = select(Cohort.institution_id).where(Cohort.id == cohort_id).scalar_subquery()
            named = select(access_request_cohorts.c.access_request_id).where(
                access_request_cohorts.c.cohort_id == cohort_id)
            grants = grants.where(or_(
                (AccessRequest.scope == AccessScope.INSTITUTION) & (AccessRequest.institution_id == institution),
                AccessRequest.id.in_(named)))
        grant_ids = list(session.scalars(grants.order_by(AccessRequest.id)))
        now = clock.now()
        if grant_ids:
            session.execute(insert(AccessRequestRead), [
                {"access_request_id": g, "regulator_id": regulator.id, "at": now, "endpoint": endpoint[:100],
                 "path": path[:500], "cohort_id": cohort_id, "resource_type": resource_type,
                 "resource_id": resource_id} for g in grant_ids])
    return grant_ids


def reads_page(session: Session, user: User, request_id: int, query: PageQuery) -> tuple[list[ReadItem], int]:
    """What was read under one request, newest first (404 unless `user` may see the request)."""
    visible_request(session, user, request_id)
    where = AccessRequestRead.access_request_id == request_id
    total = session.scalar(select(func.count()).select_from(AccessRequestRead).where(where)) or 0
    rows = session.execute(
        select(AccessRequestRead, User.full_name, Cohort.name)
        .outerjoin(User, User.id == AccessRequestRead.regulator_id)
        .outerjoin(Cohort, Cohort.id == AccessRequestRead.cohort_id)
        .where(where).order_by(AccessRequestRead.at.desc(), AccessRequestRead.id.desc())
        .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return [ReadItem(id=r.id, at=r.at, regulator_id=r.regulator_id, regulator_name=name, endpoint=r.endpoint,
                     path=r.path, cohort_id=r.cohort_id, cohort_name=cohort_name, resource_type=r.resource_type,
                     resource_id=r.resource_id) for r, name, cohort_name in rows], total
