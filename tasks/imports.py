"""Celery tasks for trainee imports: validate a stored file, commit its valid rows.

Both are idempotent (the services check the import's status and do their writes in a way a second
run repeats exactly), so `acks_late` redelivery after a worker crash is safe. Both are core.jobs kinds
(core/imports/jobs.py): heartbeats, the sweeper and retries come with the name. Failures follow
tasks.policy: transient ones retried with backoff, anything else recorded on the import.
"""

from __future__ import annotations

from core.imports import commit, service
from tasks import db_session, storage
from tasks.policy import policy_task


@policy_task("imports.validate", on_failure=service.record_failure, backoff_cap=120)
def validate_import(import_id: int) -> str | None:
    imp = service.validate_import(db_session(), storage(), import_id)
    return imp.status.value if imp else None


@policy_task("imports.commit", on_failure=commit.record_commit_failure, backoff_cap=120)
def commit_import(import_id: int) -> str | None:
    imp = commit.commit_import(db_session(), import_id)
    return imp.status.value if imp else None
