"""Celery task for register documents: build one (PDF, XLSX or CSV) into private storage.

Idempotent: a READY or given-up document is left alone, a redelivered BUILDING one is built again and only
the first finished build is kept. How a build fails (retried a bounded number of times, then FAILED with its
reason until someone retries it) is the kind's declaration (core/registers/jobs.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app

from core.registers import render, service
from core.registers.jobs import BUILD
from tasks import db_session, setting, storage
from tasks.policy import job_task

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Templates, locale data, fonts and PDF code loaded before the first build (the worker's main process calls
    it before it forks its pool, so every pool process starts warm: workers/signals.py)."""
    render.warm_up(build_settings().translations_dir)


def build_settings() -> service.BuildSettings:
    return service.BuildSettings(
        base_url=setting("BASE_URL"), translations_dir=str(Path(current_app.root_path) / "translations"),
        processes=setting("REGISTER_RENDER_PROCESSES"), pages_per_run=setting("REGISTER_PAGES_PER_RUN"),
        grace_hours=int(setting("LOCK_GRACE_HOURS")), runs_root=str(storage().root / "register-runs"))


@job_task(BUILD)
def build_register_document(document_id: int) -> str:
    doc = service.build_document(db_session(), storage(), document_id, build_settings())
    return doc.status.value if doc is not None else "GONE"  # deleted while it was being built
