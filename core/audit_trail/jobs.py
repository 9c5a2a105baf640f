"""The nightly audit-trail check as a job kind (core.jobs): run by beat or by hand, no row of its own; a mail
that failed is tried again after the backoff."""

from __future__ import annotations

from core import jobs

VERIFY_TRAIL = jobs.register(jobs.JobKind("audit.verify_trail", max_attempts=6,
                                          backoff=jobs.Backoff(base=60, setting="REMINDER_RETRY_SECONDS"),
                                          per_row=False))
