"""Every change to a person's personal fields, kept: who, when, the old and the new value, and why. Written in
the changing transaction, so a correction is kept exactly when the change is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import clock
from core.models import PersonalDataCorrection

from .people import field_text


def record(session: Session, *, kind: str, person_id: int, institution_id: int | None, actor_id: int | None,
           before: dict[str, Any], after: dict[str, Any], reason: str | None = None) -> int:
    """One row per field whose value changed (both snapshots by field name); the number written."""
    now = clock.now()
    rows = [{"institution_id": institution_id, "person_kind": kind, "person_id": person_id, "field": name,
             "old_value": field_text(before.get(name)), "new_value": field_text(after.get(name)),
             "reason": reason, "actor_id": actor_id, "at": now}
            for name in after if field_text(before.get(name)) != field_text(after.get(name))]
    if rows:
        session.execute(insert(PersonalDataCorrection), rows)
    return len(rows)


def history(session: Session, kind: str, person_id: int) -> list[PersonalDataCorrection]:
    """The person's corrections, oldest first."""
    return list(session.scalars(select(PersonalDataCorrection).where(
        PersonalDataCorrection.person_kind == kind, PersonalDataCorrection.person_id == person_id)
        .order_by(PersonalDataCorrection.at, PersonalDataCorrection.id)))


def present(row: PersonalDataCorrection) -> dict[str, Any]:
    return {"field": row.field, "old_value": row.old_value, "new_value": row.new_value, "reason": row.reason,
            "actor_id": row.actor_id, "at": row.at.isoformat()}
