"""Process and task hygiene, after Superset: no connection crosses a fork, no session outlives a task."""

from __future__ import annotations

from typing import Any

from celery import current_app as current_celery
from celery.signals import task_postrun, worker_process_init


def _sqlalchemy(celery_app: Any) -> tuple[Any, Any]:
    flask_app = celery_app.flask_app  # set by web.queue.init_celery
    return flask_app, flask_app.extensions["sqlalchemy"]


@worker_process_init.connect
def dispose_engines_after_fork(**_: Any) -> None:
    flask_app, db = _sqlalchemy(current_celery)
    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


@task_postrun.connect
def close_session(sender: Any = None, **_: Any) -> None:
    flask_app, db = _sqlalchemy(sender.app if sender is not None else current_celery)
    with flask_app.app_context():
        db.session.remove()
