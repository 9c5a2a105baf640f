"""Process hygiene, after Superset: no connection crosses a fork.

No session outlives a task either: web.queue's FlaskTask removes the session of the context the task
ran in (a signal handler after the task would see another context, and another session)."""

from __future__ import annotations

from typing import Any

from celery import current_app as current_celery
from celery.signals import worker_process_init


def _sqlalchemy(celery_app: Any) -> tuple[Any, Any]:
    flask_app = celery_app.flask_app  # set by web.queue.init_celery
    return flask_app, flask_app.extensions["sqlalchemy"]


@worker_process_init.connect
def dispose_engines_after_fork(**_: Any) -> None:
    flask_app, db = _sqlalchemy(current_celery)
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
