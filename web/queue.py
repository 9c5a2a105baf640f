"""The Celery application as the web process and the workers see it; routing by queue; the job wrapper.

Tasks are `@shared_task`s in tasks/; they run inside the Flask app context (FlaskTask), so a task
gets `db.session` like a view does. A task whose name is a registered `core.jobs.JobKind` also runs
tracked: claimed, heartbeat, outcome recorded (core/jobs/runner.py). Nothing here imports workers/.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from celery import Celery, Task
from celery import current_app as current_celery
from celery.exceptions import Retry
from flask import Flask, current_app, has_app_context
from kombu import Queue
from kombu.exceptions import ChannelError

from core import clock, jobs
from core.db import after_commit

from .config import celery_settings
from .extensions import db

log = logging.getLogger(__name__)

TASK_MODULES = ["tasks.system", "tasks.jobs", "tasks.imports", "tasks.scheduling", "tasks.attendance",
                "tasks.people", "tasks.reminders", "tasks.registers", "tasks.portals", "tasks.access"]

# Tasks that are not jobs but belong on a queue other than default (by name prefix).
QUEUE_BY_PREFIX = {"imports.": jobs.IMPORTS, "learner_imports.": jobs.IMPORTS, "registers.": jobs.DOCUMENTS,
                   "documents.": jobs.DOCUMENTS, "exports.": jobs.DOCUMENTS, "portals.build_report": jobs.DOCUMENTS}


def queue_for(task_name: str) -> str:
    kind = jobs.kind_named(task_name)
    if kind is not None:
        return kind.queue
    return next((queue for prefix, queue in QUEUE_BY_PREFIX.items() if task_name.startswith(prefix)), jobs.DEFAULT)


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any) -> dict[str, str]:
    return {"queue": queue_for(name)}


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        """Runs the task in the app context; the session it used ends with it, whichever context that was."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                try:
                    return self._run(*args, **kwargs)
                finally:
                    db.session.remove()  # no session, and no transaction, outlives the task
            with app.app_context():  # popping it removes the context's session (Flask-SQLAlchemy teardown)
                return self._run(*args, **kwargs)

        def _run(self, *args: Any, **kwargs: Any) -> Any:
            kind = jobs.kind_named(self.name)
            if kind is None or len(args) != 1 or self.request.is_eager:
                return self.run(*args, **kwargs)
            return run_tracked(self, kind, args[0], lambda: self.run(*args, **kwargs))

    celery_app = Celery(app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
    celery_app.conf.update(celery_settings(app.config))
    celery_app.conf.task_queues = [Queue(name) for name in jobs.QUEUES]
    celery_app.conf.task_routes = (route_task,)
    celery_app.set_default()
    celery_app.flask_app = app  # for workers.signals
    app.extensions["celery"] = celery_app
    jobs.use_broker(publish, queue_depths)
    return celery_app


def run_tracked(task: Task, kind: jobs.JobKind, entity_id: int, body: Callable[[], Any]) -> Any:
    config = current_app.config
    with jobs.tracked(db.engine, kind, entity_id, worker=task.request.hostname or "worker",
                      heartbeat_every=config["JOB_HEARTBEAT_SECONDS"],
                      stale_after=dt.timedelta(seconds=config["JOB_STALE_SECONDS"]),
                      requeue_on=(Retry,), requeue_at=_retry_eta) as claim:
        if claim.skip:
            log.info("%s[%s]: job %s is finished or running elsewhere; skipped", kind.name, entity_id, claim.job_id)
            return None
        return body()


def _retry_eta(exc: BaseException) -> dt.datetime:
    when = getattr(exc, "when", None)
    if isinstance(when, dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return clock.now() + dt.timedelta(seconds=float(when or 0))


def celery_app_now() -> Celery:
    """The Celery app of the current Flask app (tests build several), else Celery's current one."""
    if has_app_context() and "celery" in current_app.extensions:
        return current_app.extensions["celery"]  # type: ignore[no-any-return]
    return current_celery  # type: ignore[return-value]


def publish(name: str, entity_id: int, queue: str) -> None:
    """core.jobs' publisher: one try, short timeouts, no result subscription (jobs report in the database)."""
    celery_app_now().send_task(name, args=[entity_id], queue=queue, retry=False, ignore_result=True)


def queue_depths(queues: Iterable[str]) -> dict[str, int] | None:
    """Messages waiting on each queue, as the broker counts them (Redis and the SQLite transport both can)."""
    depths: dict[str, int] = {}
    with celery_app_now().connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        channel = connection.default_channel
        for queue in queues:
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except ChannelError:
                depths[queue] = 0  # Redis drops an empty queue's key: nothing waiting
    return depths


def sender(task: Any) -> Callable[..., None]:
    """A callback that sends `task`; hand it to a service as `on_commit` (for tasks that are not jobs).

    Services register it with core.db.after_commit before they commit, so the task is sent only
    once the rows it reads exist, and never for a transaction that rolled back. Long work on a row
    should be a `core.jobs` kind instead: it survives a broker outage and a killed worker.
    """
    return lambda *args: task.apply_async(args=args)


def enqueue(task: Any, *args: Any) -> None:
    """Send `task` when the session's current transaction commits (now, if none is open)."""
    session = db.session()
    if session.in_transaction():
        after_commit(session, lambda: task.apply_async(args=args))
    else:
        task.apply_async(args=args)
