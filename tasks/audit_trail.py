"""Celery task for the nightly audit-trail check (declared in core/audit_trail/jobs.py)."""

from __future__ import annotations

from typing import Any

from core import jobs
from core.audit_trail import nightly
from core.audit_trail.jobs import VERIFY_TRAIL
from tasks import db_session, mail_settings, translations_dir
from tasks.policy import job_task


@job_task(VERIFY_TRAIL)
def verify_trail() -> dict[str, Any]:
    report = nightly.check_trail(db_session(), mail_settings(), translations=translations_dir())
    if report.failed:
        raise jobs.TryAgain(f"{len(report.failed)} audit-trail alert mail(s) failed", answer=report.as_dict())
    return report.as_dict()
