"""The unmarked-at-close run as a job kind (core.jobs), run by beat on no row: set-based and idempotent, so a
second run (or a retry after a dropped connection) writes nothing the first one did."""

from __future__ import annotations

from core import jobs

MARK_UNMARKED_AT_CLOSE = jobs.register(jobs.JobKind("checkin.mark_unmarked_at_close", max_attempts=4,
                                                    backoff=jobs.Backoff(base=15), per_row=False))
