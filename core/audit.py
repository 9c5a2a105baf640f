"""Audit trail: who changed which attendance, lock or import, from what to what, when.

Events are added to the caller's transaction, so an audit row exists exactly when the change does. Each row
belongs to its institution's hash chain (core/audit_trail/chain.py): the database links it on insert; here we
only say which institution it belongs to (given by the caller, else the entity's own, else the actor's).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core import clock
from core.models import (
    AccessRequest,
    Apology,
    AttendanceRecord,
    AuditEvent,
    ClassSession,
    Cohort,
    CorporateAgreement,
    CorporateAttendanceRecord,
    CorporateTrainee,
    Enrolment,
    Holiday,
    Invoice,
    Learner,
    Organization,
    Room,
    Submission,
    TraineeImport,
    User,
)

# Entities that carry their institution themselves, by the entity_type audit rows name them with.
_OWN_INSTITUTION: dict[str, type[Any]] = {
    "class_session": ClassSession, "cohort": Cohort, "room": Room, "holiday": Holiday, "learner": Learner,
    "apology": Apology, "invoice": Invoice, "access_request": AccessRequest, "organization": Organization,
    "submission": Submission, "user": User, "trainee_import": TraineeImport,
}
# Entities reached through a parent: (model, attribute naming the parent, parent entity_type).
_THROUGH: dict[str, tuple[type[Any], str, str]] = {
    "enrolment": (Enrolment, "cohort_id", "cohort"),
    "corporate_trainee": (CorporateTrainee, "cohort_id", "cohort"),
    "attendance_record": (AttendanceRecord, "enrolment_id", "enrolment"),
    "corporate_attendance_record": (CorporateAttendanceRecord, "trainee_id", "corporate_trainee"),
    "corporate_agreement": (CorporateAgreement, "organization_id", "organization"),
}


def institution_of(session: Session, entity_type: str, entity_id: int) -> int | None:
    """The institution whose chain an event about this entity joins (None: the platform's chain)."""
    if entity_type == "institution":
        return entity_id
    if entity_type in _THROUGH:
        model, parent, parent_type = _THROUGH[entity_type]
        row = session.get(model, entity_id)
        return institution_of(session, parent_type, getattr(row, parent)) if row is not None else None
    model = _OWN_INSTITUTION.get(entity_type)
    row = session.get(model, entity_id) if model is not None else None
    found = getattr(row, "institution_id", None) if row is not None else None
    if found is None and isinstance(row, TraineeImport) and row.cohort_id is not None:
        return institution_of(session, "cohort", row.cohort_id)
    return found


def _institution(session: Session, entity_type: str, entity_id: int, actor_id: int | None) -> int | None:
    found = institution_of(session, entity_type, entity_id)
    if found is None and actor_id is not None:
        actor = session.get(User, actor_id)
        found = actor.institution_id if actor is not None else None
    return found


def record(session: Session, *, actor_id: int | None, action: str, entity_type: str, entity_id: int,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           context: dict[str, Any] | None = None, institution_id: int | None = None) -> None:
    if institution_id is None:
        institution_id = _institution(session, entity_type, entity_id, actor_id)
    session.add(AuditEvent(at=clock.now(), actor_id=actor_id, action=action, entity_type=entity_type,
                           entity_id=entity_id, before=before, after=after, context=context,
                           institution_id=institution_id))


def record_many(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """One multi-row INSERT for bulk changes (a whole register, a nightly lock). A row without its
    `institution_id` gets its entity's (one look-up per row: bulk callers pass it)."""
    now = clock.now()
    values = [{"at": now, "before": None, "after": None, "context": None, **row} for row in rows]
    for value in values:
        if "institution_id" not in value:
            value["institution_id"] = _institution(session, value["entity_type"], value["entity_id"],
                                                   value.get("actor_id"))
    if values:
        session.execute(insert(AuditEvent), values)
