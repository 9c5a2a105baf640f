"""Celery tasks for at-risk levels: the nightly recompute (then its warnings) and the warnings run.

Both are kinds declared in core/at_risk/jobs.py: how they retry and fail is the declaration's."""

from __future__ import annotations

from typing import Any

from core import jobs
from core.at_risk import notices, service
from core.at_risk.jobs import NIGHTLY, WARN
from tasks import db_session, mail_settings, translations_dir
from tasks.policy import job_task


def _finished(report: notices.NoticeReport) -> dict[str, Any]:
    if report.failed:
        raise jobs.TryAgain(f"at-risk mail to {len(report.failed)} address(es) failed", answer=report.as_dict())
    return report.as_dict()


@job_task(NIGHTLY)
def nightly() -> dict[str, Any]:
    return _finished(service.nightly(db_session(), mail_settings(), translations=translations_dir()))


@job_task(WARN)
def warn() -> dict[str, Any]:
    return _finished(service.warn(db_session(), mail_settings(), translations=translations_dir()))
