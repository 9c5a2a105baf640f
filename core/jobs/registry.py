"""The kinds of job the platform knows: one `JobKind` per Celery task that works on one domain row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

# Queues by kind of work: a long import never holds up a PDF, and neither holds up the nightly jobs.
IMPORTS, DOCUMENTS, DEFAULT = "imports", "documents", "default"
QUEUES = (IMPORTS, DOCUMENTS, DEFAULT)

GiveUp = Callable[[Session, int, str], None]
Reset = Callable[[Session, int], None]


@dataclass(frozen=True)
class JobKind:
    """A task that takes one row id and that the sweeper may run again.

    name         the Celery task name (`imports.validate`); the task's only argument is the row id
    queue        imports | documents | default
    max_attempts runs (claims) allowed before the job ends FAILED
    on_give_up   (session, row id, message): put the row in its failed state, with the message people see
    on_retry     (session, row id): put the row back where the task starts from; raise Conflict if it can't
    """

    name: str
    queue: str = DEFAULT
    max_attempts: int = 3
    on_give_up: GiveUp | None = None
    on_retry: Reset | None = None

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"unknown queue {self.queue!r}; one of {', '.join(QUEUES)}")


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Make `kind` known to the task wrapper, the router and the sweeper (at import time, once per name)."""
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered() -> list[JobKind]:
    return list(_KINDS.values())


def move_row(session: Session, model: Any, row_id: int, from_states: Iterable[Any], **values: Any) -> bool:
    """For `on_give_up` / `on_retry`: set `values` on the row if its status is one of `from_states`.

    True if it moved (a row already elsewhere is left alone: hooks may run after the task settled it)."""
    return bool(session.execute(update(model).where(model.id == row_id, model.status.in_(tuple(from_states)))
                                .values(**values)).rowcount)
