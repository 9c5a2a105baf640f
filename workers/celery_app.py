"""The worker entry module. Builds the Flask app once per process and exposes its Celery app.

Nothing imports this module but the `celery -A workers.celery_app …` command line and tests.
"""

from __future__ import annotations

from web import create_app

from . import signals  # noqa: F401  (connects the process and task signals)
from .beat import beat_schedule

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = beat_schedule(flask_app.config)
app = celery_app  # `celery -A workers.celery_app` looks for `app` or `celery`
