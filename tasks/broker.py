"""The Celery application as the web process and the workers see it: routing by queue, and core.jobs'
publisher (the outbox hands its jobs to the broker here).

Tasks are `@shared_task`s in tasks/ (wearing tasks.policy.job_task); they run inside the Flask app context
(FlaskTask), so a task gets the session a view would. Nothing here imports web/ or workers/: the web app
factory calls `init_celery(app, settings)` with its own Celery settings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import Celery, Task
from celery import current_app as current_celery
from flask import Flask, current_app, has_app_context
from kombu import Queue
from kombu.exceptions import ChannelError

from core import jobs

log = logging.getLogger(__name__)

TASK_MODULES = ["tasks.system", "tasks.jobs", "tasks.imports", "tasks.scheduling", "tasks.attendance",
                "tasks.checkin", "tasks.people", "tasks.reminders", "tasks.registers", "tasks.portals", "tasks.access",
                "tasks.apologies", "tasks.finance", "tasks.audit_trail", "tasks.at_risk",
                "tasks.personal_data"]


def queue_for(task_name: str) -> str:
    """The queue the kind declares (core.jobs); default for tasks that are no kind (the sweeper, a ping)."""
    kind = jobs.kind_named(task_name)
    return kind.queue if kind is not None else jobs.DEFAULT


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any) -> dict[str, str]:
    return {"queue": queue_for(name)}


def init_celery(app: Flask, settings: dict[str, Any]) -> Celery:
    def remove_session() -> None:
        app.extensions["sqlalchemy"].session.remove()

    class FlaskTask(Task):
        """Runs the task in the app context; the session it used ends with it, whichever context that was."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    remove_session()  # no session, and no transaction, outlives the task
            with app.app_context():  # popping it removes the context's session (Flask-SQLAlchemy teardown)
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
    celery_app.conf.update(settings)
    celery_app.conf.task_queues = [Queue(name) for name in jobs.QUEUES]
    celery_app.conf.task_routes = (route_task,)
    celery_app.set_default()
    celery_app.flask_app = app  # for workers.signals
    app.extensions["celery"] = celery_app
    jobs.use_broker(publish, queue_depths)
    return celery_app


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
        connection.connect()  # one try: a broker that is down answers at once
        channel = connection.default_channel
        for queue in queues:
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except ChannelError:
                depths[queue] = 0  # Redis drops an empty queue's key: nothing waiting
    return depths
