"""Celery tasks for personal data: a person's export, the files an erasure deletes after its commit, and the
nightly retention run. How each retries and fails is its kind's declaration (core/personal_data/jobs.py)."""

from __future__ import annotations

from typing import Any

from core.personal_data import erasure, exports, retention
from core.personal_data.jobs import APPLY_RETENTION, BUILD_EXPORT, DELETE_ERASED_FILES
from tasks import db_session, storage, translations_dir
from tasks.policy import job_task


@job_task(BUILD_EXPORT)
def build_data_export(export_id: int) -> str:
    return exports.build(db_session(), storage(), export_id, translations_dir())


@job_task(DELETE_ERASED_FILES)
def delete_erased_files(erasure_id: int) -> int:
    return erasure.delete_files(db_session(), storage(), erasure_id)


@job_task(APPLY_RETENTION)
def apply_retention() -> dict[str, Any]:
    return retention.apply_all(db_session(), storage())
