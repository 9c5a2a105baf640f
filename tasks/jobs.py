"""The sweeper task (beat runs it every JOB_SWEEP_SECONDS on the default queue)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from core import jobs
from tasks import db_session, setting


@shared_task(name="jobs.sweep", ignore_result=True)
def sweep() -> dict[str, Any]:
    settings = jobs.SweepSettings(stale_after=dt.timedelta(seconds=setting("JOB_STALE_SECONDS")),
                                  lost_after=dt.timedelta(seconds=setting("JOB_LOST_SECONDS")))
    return jobs.sweep(db_session(), settings).as_dict()
