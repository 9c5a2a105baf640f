"""Celery task for register documents: build one (PDF, XLSX or CSV) into private storage.

Idempotent: a READY or given-up document is left alone, a redelivered BUILDING one is built again and only
the first finished build is kept. A failure shows FAILED with its reason at once and is retried a bounded
number of times (MAX_ATTEMPTS), then stays FAILED until someone retries it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from flask import current_app

from core.errors import DomainError
from core.registers import render, service
from core.registers.jobs import BUILD, MAX_ATTEMPTS  # the worker knows the job kind
from tasks import db_session, setting, storage

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Templates, locale data, fonts and PDF code loaded before the first build (the worker's main process calls
    it before it forks its pool, so every pool process starts warm: workers/signals.py)."""
    render.warm_up(build_settings().translations_dir)


def build_settings() -> service.BuildSettings:
    return service.BuildSettings(
        base_url=setting("BASE_URL"), translations_dir=str(Path(current_app.root_path) / "translations"),
        processes=setting("REGISTER_RENDER_PROCESSES"), pages_per_run=setting("REGISTER_PAGES_PER_RUN"),
        grace_hours=int(setting("LOCK_GRACE_HOURS")))


@shared_task(name=BUILD.name, bind=True, acks_late=True, max_retries=MAX_ATTEMPTS - 1)
def build_register_document(self, document_id: int) -> str:  # type: ignore[no-untyped-def]
    session = db_session()
    try:
        doc = service.build_document(session, storage(), document_id, build_settings())
        return doc.status.value if doc is not None else "GONE"  # deleted while it was being built
    except DomainError as exc:  # the document is gone or not buildable: nothing to retry
        log.warning("register document %s: %s", document_id, exc.message)
        service.record_failure(session, document_id, exc.message)
        return "FAILED"
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        log.exception("register document %s failed (attempt %s)", document_id, self.request.retries + 1)
        service.record_failure(session, document_id, service.failure_message(exc))
        if final:
            return "FAILED"
        raise self.retry(countdown=setting("REGISTER_RETRY_SECONDS") * 2 ** self.request.retries) from None
