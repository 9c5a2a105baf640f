"""The one decorator every task wears: `@job_task(KIND)` applies the kind's declaration (core.jobs).

For a task on one row (`KIND.per_row`, the task's only argument the row id) it claims the job (a duplicate
delivery is skipped), beats a heartbeat while the task runs, and records how it ended. For every task:

- transient trouble (the kind's `transient` errors, or `core.jobs.TryAgain`) runs it again after the backoff,
  up to the kind's `max_attempts` in all (the job row's count; Celery's retries for a task without a row);
  after that the row says why it stopped (`on_fail`);
- a domain error (core.errors) is the task's answer, not an accident: recorded on the row, logged, not retried;
- anything else is a bug: logged with its traceback, recorded on the row in words for people, not retried,
  and re-raised so the worker's monitoring counts it.

This is the only module of tasks/ that asks Celery for a retry.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.exceptions import Retry

from core import clock, jobs
from core.jobs import GAVE_UP, INTERNAL, JobKind, backoff_seconds
from tasks import db_session, setting

__all__ = ["GAVE_UP", "INTERNAL", "backoff_seconds", "job_task"]

log = logging.getLogger(__name__)


def job_task(kind: JobKind, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """A `shared_task` named like `kind` (acks_late) whose runs follow the kind's declaration."""

    def decorator(run: Callable[..., Any]) -> Any:
        @shared_task(name=kind.name, bind=True, acks_late=True, max_retries=None, **options)
        @functools.wraps(run)
        def task(self: Any, *args: Any, **kwargs: Any) -> Any:
            body = functools.partial(run, *args, **kwargs)
            if kind.per_row and len(args) == 1 and not self.request.is_eager:
                return _run_job(self, kind, args[0], body)
            return _attempt(self, kind, args[0] if args else None, None, self.request.retries + 1, body)

        return task

    return decorator


# While the database cannot even be asked for the job, the delivery waits and asks again: these waits use no
# attempt (nothing ran), are short (the job goes on within seconds of the database's return), and bounded
# (after that the sweeper brings the job back).
CLAIM_RETRY_SECONDS = 5.0
CLAIM_RETRIES = 60


def _run_job(task: Any, kind: JobKind, entity_id: int, body: Callable[[], Any]) -> Any:
    engine = db_session().get_bind()
    try:
        claim = jobs.runner.claim(engine, kind, entity_id, worker=task.request.hostname or "worker",
                                  stale_after=dt.timedelta(seconds=setting("JOB_STALE_SECONDS")))
    except jobs.TRANSIENT as exc:
        _forget_transaction()
        if task.request.retries >= CLAIM_RETRIES:
            raise
        log.warning("%s[%s]: could not claim the job (%s); again in %.0f s", kind.name, entity_id, exc,
                    CLAIM_RETRY_SECONDS)
        raise task.retry(exc=exc, countdown=CLAIM_RETRY_SECONDS) from exc
    if claim.skip:
        log.info("%s[%s]: job %s is finished or running elsewhere; skipped", kind.name, entity_id, claim.job_id)
        return None
    if claim.token is None:  # sent without a job row (by hand): run untracked, counting Celery's retries
        return _attempt(task, kind, entity_id, None, task.request.retries + 1, body)
    if claim.taken_over:
        log.warning("%s[%s]: job %s taken over from a holder that died (attempt %d)", kind.name, entity_id,
                    claim.job_id, claim.attempt)
    try:
        with jobs.runner.beating(engine, claim, setting("JOB_HEARTBEAT_SECONDS")):
            return _attempt(task, kind, entity_id, claim, claim.attempt, body)
    finally:
        claim.release()


def _attempt(task: Any, kind: JobKind, entity_id: int | None, claim: jobs.Claim | None, attempt: int,
             body: Callable[[], Any]) -> Any:
    engine = db_session().get_bind()
    try:
        result = body()
    except Retry:
        raise
    except Exception as exc:
        _forget_transaction()
        base = float(setting(kind.backoff.setting)) if kind.backoff.setting else None
        verdict = kind.judge(exc, attempt, base)
        where = f"{kind.name}[{'' if entity_id is None else entity_id}]"
        if verdict.retry_in is not None:
            log.warning("%s: %s; attempt %d of %d, again in %.1f s", where, exc, attempt, kind.max_attempts,
                        verdict.retry_in)
            try:
                jobs.runner.requeue(engine, claim, clock.now() + dt.timedelta(seconds=verdict.retry_in), _error(exc))
            except Exception as unrecorded:  # the database is the trouble: the retry's claim takes the job over
                log.warning("%s: the retry could not be noted on the job (%s); retrying all the same", where,
                            unrecorded)
            raise task.retry(exc=exc, countdown=verdict.retry_in) from exc
        return _ended(kind, entity_id, claim, exc, verdict, where)
    jobs.runner.succeeded(engine, claim)
    return result


def _ended(kind: JobKind, entity_id: int | None, claim: jobs.Claim | None, exc: Exception,
           verdict: jobs.Verdict, where: str) -> Any:
    """The last attempt failed: the row says why (the job FAILED, or SUCCEEDED with a refusal for answer)."""
    if verdict.refused:
        log.warning("%s refused: %s", where, verdict.message)
    elif verdict.bug:
        log.error("%s failed", where, exc_info=exc)
    else:
        log.error("%s: giving up after %d attempt(s): %s", where, kind.max_attempts, exc)
    try:
        jobs.runner.end(db_session().get_bind(), kind, entity_id, claim, verdict.message,
                        error=None if verdict.refused else _error(exc))
    except Exception:  # the database may be the very thing that is down: the log keeps the story
        log.exception("could not record the failure of %s", where)
    if verdict.refused:
        return {"status": "FAILED", "error": getattr(exc, "code", None)}
    if isinstance(exc, jobs.TryAgain):
        return exc.answer
    raise exc


def _forget_transaction() -> None:
    """Roll the task's session back; a connection the database dropped is thrown away instead."""
    try:
        db_session().rollback()
    except Exception:
        db_session().invalidate()


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
