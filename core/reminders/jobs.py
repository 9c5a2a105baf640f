"""The nightly reminder runs as job kinds (core.jobs), run by beat on no row (`per_row=False`).

A run whose mail failed for some recipients raises jobs.TryAgain: the whole run again after the backoff
(REMINDER_RETRY_SECONDS, doubling), which never re-sends what already went out; the next night tries again."""

from __future__ import annotations

from core import jobs

_AGAIN = jobs.Backoff(base=60, setting="REMINDER_RETRY_SECONDS")
UNMARKED = jobs.register(jobs.JobKind("reminders.send_unmarked_reminders", max_attempts=6, backoff=_AGAIN,
                                      per_row=False))
AT_RISK = jobs.register(jobs.JobKind("reminders.send_at_risk_digests", max_attempts=6, backoff=_AGAIN,
                                     per_row=False))
