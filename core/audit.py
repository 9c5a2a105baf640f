"""Audit trail: who changed which attendance, lock or import, from what to what, when.

Events are added to the caller's transaction, so an audit row exists exactly when the change does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from core import clock
from core.models import AuditEvent


def record(session: Session, *, actor_id: int | None, action: str, entity_type: str, entity_id: int,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           context: dict[str, Any] | None = None) -> None:
    session.add(AuditEvent(at=clock.now(), actor_id=actor_id, action=action, entity_type=entity_type,
                           entity_id=entity_id, before=before, after=after, context=context))


def record_many(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """One multi-row INSERT for bulk changes (a whole register, a nightly lock)."""
    now = clock.now()
    values = [{"at": now, "before": None, "after": None, "context": None, **row} for row in rows]
    if values:
        session.execute(insert(AuditEvent), values)
