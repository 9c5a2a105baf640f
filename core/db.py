"""Session-level plumbing: run callbacks (enqueue a task, send a mail) only after a commit.

A rolled-back transaction drops its callbacks, so a failed request enqueues nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.uow import in_unit_of_work

_KEY = "after_commit_callbacks"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    session.info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    callbacks = session.info.pop(_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_callbacks(session: Session) -> None:
    session.info.pop(_KEY, None)


def flush_or_conflict(session: Session, message: str, code: str, params: dict[str, Any] | None = None) -> None:
    """Flush; a unique-key violation becomes a 409 Conflict with `message`, and nothing is left half-written
    (the unit of work rolls back; a caller without one gets the rollback here)."""
    try:
        session.flush()
    except IntegrityError:
        if not in_unit_of_work(session):
            session.rollback()
        raise Conflict(message, code=code, params=params) from None


def is_postgres(session: Session) -> bool:
    """For store.py modules only (the SQL that differs by database); services never ask."""
    return session.get_bind().dialect.name == "postgresql"
