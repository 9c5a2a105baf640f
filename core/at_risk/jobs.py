"""At-risk work as job kinds (core.jobs), run by beat on no row: the nightly recompute with its warnings, and
the warnings of changes marks made during the day. A run whose mail failed for some recipients is tried again
after the backoff; claimed notices are never sent twice (core.at_risk.notices)."""

from __future__ import annotations

from core import jobs

_AGAIN = jobs.Backoff(base=60, setting="REMINDER_RETRY_SECONDS")
NIGHTLY = jobs.register(jobs.JobKind("at_risk.nightly", max_attempts=6, backoff=_AGAIN, per_row=False))
WARN = jobs.register(jobs.JobKind("at_risk.warn", max_attempts=6, backoff=_AGAIN, per_row=False))
