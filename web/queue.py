"""The Celery application as the web process and the workers see it, and enqueue-after-commit.

Tasks are `@shared_task`s in tasks/; they run inside the Flask app context (FlaskTask), so a task
gets `db.session` like a view does. Nothing here imports workers/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import Celery, Task
from flask import Flask, has_app_context

from core.db import after_commit

from .config import celery_settings
from .extensions import db

TASK_MODULES = ["tasks.system", "tasks.imports", "tasks.scheduling", "tasks.attendance", "tasks.people",
                "tasks.reminders", "tasks.registers"]


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask, include=TASK_MODULES)
    celery_app.conf.update(celery_settings(app.config))
    celery_app.set_default()
    celery_app.flask_app = app  # for workers.signals
    app.extensions["celery"] = celery_app
    return celery_app


def sender(task: Any) -> Callable[..., None]:
    """A callback that sends `task`; hand it to a service as `on_commit`.

    Services register it with core.db.after_commit before they commit, so the task is sent only
    once the rows it reads exist, and never for a transaction that rolled back:

        imp = create_import(db.session, ..., on_commit=sender(validate_import))
    """
    return lambda *args: task.apply_async(args=args)


def enqueue(task: Any, *args: Any) -> None:
    """Send `task` when the session's current transaction commits (now, if none is open)."""
    session = db.session()
    if session.in_transaction():
        after_commit(session, lambda: task.apply_async(args=args))
    else:
        task.apply_async(args=args)
