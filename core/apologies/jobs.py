"""The apology decision mail as a job (core.jobs): the job carries the apology id; the task reads the decision
and writes the mail in the learner's language. SMTP and database trouble are tried again with backoff."""

from __future__ import annotations

from core import jobs

DECISION_MAIL = jobs.register(jobs.JobKind("apologies.send_decision", queue=jobs.DEFAULT, max_attempts=6,
                                           backoff=jobs.Backoff(base=30)))
