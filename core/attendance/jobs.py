"""The nightly lock as a job kind (core.jobs), run by beat on no row: set-based and idempotent, so a retry
after a dropped connection locks only what the first run did not."""

from __future__ import annotations

from core import jobs

LOCK_PAST_SESSIONS = jobs.register(jobs.JobKind("attendance.lock_past_sessions", max_attempts=4,
                                                backoff=jobs.Backoff(base=30), per_row=False))
