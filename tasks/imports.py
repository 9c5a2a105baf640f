"""Celery tasks for trainee imports: validate a stored file, commit its valid rows.

Both are idempotent (the services check the import's status and do their writes in a way a second
run repeats exactly), so `acks_late` redelivery after a worker crash is safe. Both are core.jobs kinds
(core/imports/jobs.py): heartbeats, the sweeper and retries come with the name.
"""

from __future__ import annotations

import logging

from celery import shared_task
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from core.imports import commit, service
from tasks import db_session, storage

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, RedisConnectionError)


@shared_task(name="imports.validate", bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True,
             retry_backoff_max=120, max_retries=5)
def validate_import(self, import_id: int) -> str | None:  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        imp = service.validate_import(session, storage(), import_id)
    except TRANSIENT:
        session.rollback()
        raise
    except Exception:
        log.exception("validation of import %s failed", import_id)
        service.record_failure(session, import_id, "The file could not be checked because of an internal error. "
                                                   "It has been logged; try uploading it again.")
        return None
    return imp.status.value if imp else None


@shared_task(name="imports.commit", bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True,
             retry_backoff_max=120, max_retries=5)
def commit_import(self, import_id: int) -> str | None:  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        imp = commit.commit_import(session, import_id)
    except TRANSIENT:
        session.rollback()
        raise
    except Exception:
        log.exception("commit of import %s failed", import_id)
        commit.record_commit_failure(session, import_id, "The rows could not be added because of an internal "
                                                          "error. It has been logged; nothing was added.")
        return None
    return imp.status.value if imp else None
