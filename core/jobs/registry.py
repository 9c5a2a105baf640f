"""The kinds of job the platform knows, each declared once: its queue, its attempts, which errors are
transient, its backoff, and the hook that records the final failure on the row people see."""

from __future__ import annotations

import random
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from core.errors import DomainError

# Queues by kind of work: a long import never holds up a PDF, and neither holds up the nightly jobs.
IMPORTS, DOCUMENTS, DEFAULT = "imports", "documents", "default"
QUEUES = (IMPORTS, DOCUMENTS, DEFAULT)

# Trouble that passes: the database connection, Redis, SMTP, the network.
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, DisconnectionError, RedisConnectionError, RedisTimeoutError,
    smtplib.SMTPException, ConnectionError, TimeoutError,
)
GAVE_UP = "A service it needs stayed unavailable after several attempts; it can be started again."
INTERNAL = "It stopped because of an internal error, which has been logged."

Fail = Callable[[Session, int, str], None]
Reset = Callable[[Session, int], None]
Explain = Callable[[BaseException], str]
Owner = Callable[[Session, int], "int | None"]


class TryAgain(Exception):
    """Raised by a task whose work partly failed (a mail server refused some recipients): run it again after
    the backoff, within the kind's attempts. `answer` is the task's result should no attempt be left."""

    def __init__(self, reason: str, answer: Any = None) -> None:
        super().__init__(reason)
        self.answer = answer


@dataclass(frozen=True)
class Backoff:
    """`base` seconds before the second attempt, doubling, at most `cap`, each spread by up to a quarter so
    retries don't arrive together. `setting` names a configuration value that replaces `base` (read by tasks/)."""

    base: float = 5.0
    cap: float = 600.0
    setting: str | None = None

    def delay(self, retries: int, base: float | None = None) -> float:
        return backoff_seconds(retries, self.base if base is None else base, self.cap)


def backoff_seconds(retries: int, base: float = 5.0, cap: float = 600.0) -> float:
    """5 s, 10 s, 20 s … at most `cap`, after `retries` failed attempts, spread by up to a quarter."""
    return min(cap, base * 2 ** retries) * random.uniform(0.75, 1.0)


@dataclass(frozen=True)
class JobKind:
    """A Celery task and how it fails. Declared once (`register`), applied by tasks.policy.job_task.

    name          the Celery task name (`imports.validate`)
    queue         imports | documents | default
    max_attempts  runs allowed in all (claims of the job row; for a task without a row, Celery's retries + 1)
    transient     errors worth another attempt after `backoff` (besides TryAgain); anything else is final
    backoff       the wait between attempts
    on_fail       (session, row id, message): put the row in its failed state, with the message people see;
                  called once, when the job ends FAILED (in the runtime's own transaction)
    explain       words for an error the row should show instead of the general ones (optional)
    on_retry      (session, row id): put the row back where the task starts from; raise Conflict if it can't
    per_row       the task's only argument is a row id with a `jobs` row (outbox, claim, heartbeat, sweeper);
                  False for a task run by beat or by hand (the nightly lock, the reminder runs)
    institution_of (session, row id) → the institution whose admins hear of the job's trouble (FAILED, or
                  rescued by the sweeper); None: nobody is mailed (core.jobs.reports)
    """

    name: str
    queue: str = DEFAULT
    max_attempts: int = 3
    transient: tuple[type[BaseException], ...] = TRANSIENT
    backoff: Backoff = Backoff()
    on_fail: Fail | None = None
    explain: Explain | None = None
    on_retry: Reset | None = None
    per_row: bool = True
    institution_of: Owner | None = None

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"unknown queue {self.queue!r}; one of {', '.join(QUEUES)}")

    def judge(self, exc: BaseException, attempt: int, backoff_base: float | None = None) -> Verdict:
        """What to do after attempt number `attempt` (1-based) raised `exc` (`backoff_base`: the setting's)."""
        if isinstance(exc, DomainError):  # the task's answer, not an accident: running it again refuses again
            return Verdict(message=exc.message, refused=True)
        if isinstance(exc, (TryAgain, *self.transient)):
            retry_in = self.backoff.delay(attempt - 1, backoff_base) if attempt < self.max_attempts else None
            return Verdict(message=self._words(exc, GAVE_UP), retry_in=retry_in)
        return Verdict(message=self._words(exc, INTERNAL), bug=True)

    def _words(self, exc: BaseException, general: str) -> str:
        return self.explain(exc) if self.explain is not None else general


@dataclass(frozen=True)
class Verdict:
    """After a failed attempt: try again in `retry_in` seconds, or end with `message` on the row (`refused`:
    a domain error, the task's answer; `bug`: an unexpected error, logged with its traceback and re-raised)."""

    message: str
    retry_in: float | None = None
    refused: bool = False
    bug: bool = False


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Make `kind` known to the task decorator, the router and the sweeper (at import time, once per name)."""
    _KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> JobKind | None:
    return _KINDS.get(name)


def registered() -> list[JobKind]:
    return list(_KINDS.values())


def move_row(session: Session, model: Any, row_id: int, from_states: Iterable[Any], **values: Any) -> bool:
    """For `on_fail` / `on_retry`: set `values` on the row if its status is one of `from_states`.

    True if it moved (a row already elsewhere is left alone: hooks may run after the task settled it)."""
    return bool(session.execute(update(model).where(model.id == row_id, model.status.in_(tuple(from_states)))
                                .values(**values)).rowcount)


def institution_column(model: Any) -> Owner:
    """`institution_of` for a row with an `institution_id` (or, failing that, a `cohort_id`)."""

    def owner(session: Session, row_id: int) -> int | None:
        from core.models import Cohort

        row = session.get(model, row_id)
        if row is None:
            return None
        found = getattr(row, "institution_id", None)
        if found is None and getattr(row, "cohort_id", None) is not None:
            cohort = session.get(Cohort, row.cohort_id)
            found = cohort.institution_id if cohort is not None else None
        return found

    return owner
