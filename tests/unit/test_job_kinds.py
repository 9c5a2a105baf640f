"""A job kind's declaration decides what follows a failed attempt (core.jobs.JobKind.judge): pure, no worker."""

from __future__ import annotations

import smtplib

from sqlalchemy.exc import OperationalError

from core import jobs
from core.errors import Conflict

KIND = jobs.JobKind("tests.judged", max_attempts=3, backoff=jobs.Backoff(base=10, cap=15),
                    explain=lambda exc: f"words for {type(exc).__name__}")
DOWN = OperationalError("SELECT 1", {}, ConnectionError("connection refused"))


def test_a_transient_error_is_tried_again_after_the_backoff_until_the_last_attempt():
    first, second, last = (KIND.judge(DOWN, attempt) for attempt in (1, 2, 3))
    assert 7.5 <= first.retry_in <= 10 and 11.25 <= second.retry_in <= 15  # doubled, capped
    assert last.retry_in is None and not last.refused and not last.bug and last.message == "words for OperationalError"


def test_a_domain_error_is_the_answer_and_never_tried_again():
    verdict = KIND.judge(Conflict("The cohort is cancelled.", code="cohort_closed"), 1)
    assert (verdict.retry_in, verdict.refused, verdict.message) == (None, True, "The cohort is cancelled.")


def test_anything_else_is_a_bug_recorded_at_once():
    verdict = jobs.JobKind("tests.plain").judge(KeyError("x"), 1)
    assert (verdict.retry_in, verdict.bug, verdict.message) == (None, True, jobs.INTERNAL)


def test_try_again_and_smtp_trouble_are_transient_for_every_kind():
    plain = jobs.JobKind("tests.plain")
    assert plain.judge(jobs.TryAgain("some mail refused"), 1).retry_in is not None
    assert plain.judge(smtplib.SMTPServerDisconnected("gone"), 1).retry_in is not None
    assert plain.judge(jobs.TryAgain("still refused"), 3).message == jobs.GAVE_UP


def test_a_setting_replaces_the_base_of_the_backoff():
    assert 0.75 <= KIND.judge(DOWN, 1, backoff_base=1).retry_in <= 1
