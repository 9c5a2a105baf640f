"""The one failure policy every task follows (STYLE.md convention 2).

- Transient trouble (the database connection, Redis, SMTP, the network) is retried with exponential
  backoff and jitter, at most `max_retries` times; after that the row says why it stopped.
- A domain error (core.errors) is the task's answer, not an accident: it is recorded on the row,
  logged, and not retried (running it again would refuse again).
- Anything else is a bug: logged with its traceback, recorded on the row in words for people, not
  retried, and re-raised so the worker's monitoring counts it.

    @policy_task("imports.commit", on_failure=service.record_commit_failure)
    def commit_import(import_id: int) -> str | None: ...

`on_failure(session, entity_id, message)` records the outcome on the task's row (the first argument).
"""

from __future__ import annotations

import functools
import logging
import random
import smtplib
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.exceptions import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from core.errors import DomainError
from tasks import db_session

log = logging.getLogger(__name__)

TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, DisconnectionError, RedisConnectionError, RedisTimeoutError,
    smtplib.SMTPException, ConnectionError, TimeoutError,
)
GAVE_UP = "A service it needs stayed unavailable after several attempts; it can be started again."
INTERNAL = "It stopped because of an internal error, which has been logged."

Failure = Callable[[Session, int, str], None]


def backoff_seconds(retries: int, base: float = 5.0, cap: float = 600.0) -> float:
    """5 s, 10 s, 20 s … at most `cap`, each spread by up to a quarter so retries don't arrive together."""
    delay = min(cap, base * 2 ** retries)
    return delay * random.uniform(0.75, 1.0)


def retry_later(task: Any, exc: BaseException | None = None, base: float = 5.0, cap: float = 600.0) -> Any:
    """Ask Celery to run `task` again after the backoff (raises Retry; raises `exc` once retries are spent)."""
    return task.retry(exc=exc, countdown=backoff_seconds(task.request.retries, base, cap))


def policy_task(name: str, *, on_failure: Failure | None = None, max_retries: int = 5,
                backoff_base: float = 5.0, backoff_cap: float = 600.0, bind: bool = False,
                **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """A `shared_task` named `name` (acks_late, bounded retries) that applies the policy around `run`
    (`bind=True`: `run` gets the task first, to ask for a retry of its own)."""

    def decorator(run: Callable[..., Any]) -> Any:
        @shared_task(name=name, bind=True, acks_late=True, max_retries=max_retries, **options)
        @functools.wraps(run)
        def task(self: Any, *args: Any, **kwargs: Any) -> Any:
            session = db_session()
            try:
                return run(self, *args, **kwargs) if bind else run(*args, **kwargs)
            except Retry:
                raise
            except TRANSIENT as exc:
                session.rollback()
                if self.request.retries < self.max_retries:
                    log.warning("%s%s: %s; retrying", name, list(args), exc)
                    raise retry_later(self, exc, backoff_base, backoff_cap) from exc
                log.error("%s%s: giving up after %d retries: %s", name, list(args), self.request.retries, exc)
                _record(session, on_failure, args, GAVE_UP)
                raise
            except DomainError as exc:
                session.rollback()
                log.warning("%s%s refused: %s", name, list(args), exc.message)
                _record(session, on_failure, args, exc.message)
                return {"status": "FAILED", "error": exc.code}
            except Exception:
                session.rollback()
                log.exception("%s%s failed", name, list(args))
                _record(session, on_failure, args, INTERNAL)
                raise

        return task

    return decorator


def _record(session: Session, on_failure: Failure | None, args: tuple[Any, ...], message: str) -> None:
    if on_failure is None or not args:
        return
    try:
        on_failure(session, args[0], message)
    except Exception:  # the database may be the very thing that is down: the log keeps the story
        session.rollback()
        log.exception("could not record the failure of %r", args)
