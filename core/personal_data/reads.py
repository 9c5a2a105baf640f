"""Reads for the personal-data screens and API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import RetentionRun


def recent_retention_runs(session: Session, institution_id: int, limit: int = 10) -> list[RetentionRun]:
    """The institution's last retention runs, newest first (counts only: never the data they removed)."""
    return list(session.scalars(select(RetentionRun).where(RetentionRun.institution_id == institution_id)
                                .order_by(RetentionRun.started_at.desc()).limit(limit)))
