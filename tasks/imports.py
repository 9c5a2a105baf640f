"""Celery tasks for imports (trainees and learners): validate a stored file, commit its valid rows.

Both are idempotent (the services check the import's status and do their writes in a way a second
run repeats exactly), so `acks_late` redelivery after a worker crash is safe. Both are core.jobs kinds
(core/imports/jobs.py), which say how they fail; tasks.policy.job_task applies it.
"""

from __future__ import annotations

from core.imports import service
from core.imports.jobs import COMMIT, VALIDATE
from tasks import db_session, storage
from tasks.policy import job_task


@job_task(VALIDATE)
def validate_import(import_id: int) -> str | None:
    imp = service.validate_import(db_session(), storage(), import_id)
    return imp.status.value if imp else None


@job_task(COMMIT)
def commit_import(import_id: int) -> str | None:
    imp = service.commit_import(db_session(), import_id)
    return imp.status.value if imp else None
