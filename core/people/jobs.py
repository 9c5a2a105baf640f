"""Password mails as jobs (core.jobs): a link to choose a new password, or a new account's welcome.

The job carries the user id only; the task builds a fresh link, so the broker never carries one and a redelivery
sends another valid link. SMTP and database trouble are tried again with backoff; a mail has no row to mark."""

from __future__ import annotations

from core import jobs

RESET_LINK = jobs.register(jobs.JobKind("people.send_password_link", queue=jobs.DEFAULT, max_attempts=6,
                                        backoff=jobs.Backoff(base=30)))
WELCOME_LINK = jobs.register(jobs.JobKind("people.send_welcome_link", queue=jobs.DEFAULT, max_attempts=6,
                                          backoff=jobs.Backoff(base=30)))
