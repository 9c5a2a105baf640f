"""Process and task hygiene, after Superset: no connection crosses a fork. Also: the worker's heartbeat row
(for /api/health/ready on any broker), one log line per task, and register rendering warmed up before the
pool forks.

No session outlives a task: tasks.broker's FlaskTask removes the session of the context the task ran in (a
signal handler after the task would push a context of its own, and remove that context's session instead)."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from celery import current_app as current_celery
from celery.signals import (
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from core import clock, jobs
from web.logs import configure_logging

task_log = logging.getLogger("workers.task")


def _sqlalchemy(celery_app: Any) -> tuple[Any, Any]:
    flask_app = celery_app.flask_app  # set by tasks.broker.init_celery
    return flask_app, flask_app.extensions["sqlalchemy"]


@setup_logging.connect
def use_app_logging(**_: Any) -> None:
    config = current_celery.flask_app.config
    configure_logging(config["LOG_FORMAT"], config["LOG_LEVEL"])


@worker_init.connect
def warm_up_documents(**_: Any) -> None:
    """Register documents' templates, fonts and PDF code loaded once here, before the pool forks: each pool
    process starts warm, and the first register it builds is no slower than the next."""
    from tasks import registers

    started = time.perf_counter()
    try:
        with current_celery.flask_app.app_context():
            registers.warm_up()
    except Exception:  # a worker that cannot warm up still works: its first document is slower
        logging.getLogger(__name__).warning("register documents not warmed up", exc_info=True)
        return
    logging.getLogger(__name__).info("register documents warmed up in %.1f s", time.perf_counter() - started)


@worker_process_init.connect
def dispose_engines_after_fork(**_: Any) -> None:
    flask_app, db = _sqlalchemy(current_celery)
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


_started: dict[str, float] = {}


@task_prerun.connect
def start_task_timer(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def log_task_end(sender: Any = None, task_id: str | None = None, args: Any = None, state: str | None = None,
                 **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if sender is not None and started is not None:
        task_log.info("%s %s", sender.name, state, extra={"fields": {
            "task": sender.name, "task_id": task_id, "args": list(args or ())[:5], "state": state,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "retries": getattr(sender.request, "retries", 0), "worker": getattr(sender.request, "hostname", None)}})


class _WorkerHeartbeat:
    """Stamps this worker's row every WORKER_HEARTBEAT_SECONDS from the main process."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.hostname = ""

    def start(self, consumer: Any) -> None:
        flask_app, db = _sqlalchemy(consumer.app)
        self.hostname = consumer.hostname
        queues = sorted(q.name for q in consumer.task_consumer.queues) if consumer.task_consumer else []
        every = float(flask_app.config["WORKER_HEARTBEAT_SECONDS"])
        with flask_app.app_context():
            engine = db.engine
        started = clock.now()

        def beat() -> None:
            while True:
                try:
                    jobs.record_worker(engine, self.hostname, queues, os.getpid(), started)
                except Exception as exc:  # the database is down: /ready says so by the row going stale
                    logging.getLogger(__name__).warning("worker heartbeat failed: %s", exc)
                if self.stop.wait(every):
                    return

        self.thread = threading.Thread(target=beat, name="worker-heartbeat", daemon=True)
        self.thread.start()

    def end(self, celery_app: Any) -> None:
        if self.thread is None:
            return
        self.stop.set()
        self.thread.join(timeout=10)
        flask_app, db = _sqlalchemy(celery_app)
        try:
            with flask_app.app_context():
                jobs.forget_worker(db.engine, self.hostname)
        except Exception:
            pass  # the row goes stale by itself


_heartbeat = _WorkerHeartbeat()


@worker_ready.connect
def start_worker_heartbeat(sender: Any = None, **_: Any) -> None:
    if sender is not None:
        _heartbeat.start(sender)


@worker_shutdown.connect
def stop_worker_heartbeat(sender: Any = None, **_: Any) -> None:
    _heartbeat.end(current_celery)


