"""The sweeper task (beat runs it every JOB_SWEEP_SECONDS on the default queue); then the jobs whose trouble is
not reported yet are mailed to their institutions' admins (core.jobs.reports)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from core import jobs
from core.jobs import reports
from tasks import db_session, mail_settings, setting, translations_dir


@shared_task(name="jobs.sweep", ignore_result=True)
def sweep() -> dict[str, Any]:
    settings = jobs.SweepSettings(stale_after=dt.timedelta(seconds=setting("JOB_STALE_SECONDS")),
                                  lost_after=dt.timedelta(seconds=setting("JOB_LOST_SECONDS")))
    report = jobs.sweep(db_session(), settings).as_dict()
    report["reported"] = reports.report_troubles(db_session(), mail_settings(), setting("BASE_URL"),
                                                 translations=translations_dir())
    return report
