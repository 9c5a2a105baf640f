"""The failure policy every task shares (core.jobs kinds, tasks.policy.job_task), on a real worker and the real broker:
transient errors are retried with backoff and a bound; a domain error is recorded and not retried."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.exc import OperationalError

from core import jobs
from core.errors import Conflict
from tasks.policy import GAVE_UP, backoff_seconds, job_task

attempts: dict[int, itertools.count] = {}
recorded: list[tuple[int, str]] = []


def _record(_session, entity_id: int, message: str) -> None:
    recorded.append((entity_id, message))


def _attempt(entity_id: int) -> int:
    return next(attempts.setdefault(entity_id, itertools.count(1)))


def _kind(name: str, retries: int, base: float, cap: float = 600.0) -> jobs.JobKind:
    """A kind allowing `retries` retries (max_attempts = retries + 1); its rows are recorded by `_record`."""
    return jobs.register(jobs.JobKind(name, max_attempts=retries + 1, backoff=jobs.Backoff(base, cap),
                                      on_fail=_record))


@job_task(_kind("tests.flaky_then_fine", retries=3, base=0.05, cap=0.2))
def flaky_then_fine(entity_id: int) -> int:
    attempt = _attempt(entity_id)
    if attempt < 3:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
    return attempt


@job_task(_kind("tests.always_down", retries=2, base=0.05, cap=0.2))
def always_down(entity_id: int) -> None:
    _attempt(entity_id)
    raise OperationalError("SELECT 1", {}, ConnectionError("connection refused"))


@job_task(_kind("tests.refused", retries=3, base=0.05))
def refused(entity_id: int) -> None:
    _attempt(entity_id)
    raise Conflict("The cohort is cancelled: it can't be scheduled.", code="cohort_closed")


@pytest.fixture(autouse=True)
def _fresh():
    attempts.clear()
    recorded.clear()


def test_a_transient_error_is_retried_until_it_passes(app, live_worker):
    with app.app_context():
        assert flaky_then_fine.delay(1).get(timeout=30) == 3
    assert recorded == []


def test_retries_are_bounded_and_the_row_says_why_it_stopped(app, live_worker):
    with app.app_context(), pytest.raises(Exception, match="connection refused"):  # as the backend rebuilds it
        always_down.delay(2).get(timeout=30)
    assert next(attempts[2]) == 4  # the first run and two retries, nothing more
    assert recorded == [(2, GAVE_UP)]


def test_a_domain_error_is_recorded_and_not_retried(app, live_worker):
    with app.app_context():
        result = refused.delay(3).get(timeout=30)
    assert result == {"status": "FAILED", "error": "cohort_closed"}
    assert next(attempts[3]) == 2  # ran once
    assert recorded == [(3, "The cohort is cancelled: it can't be scheduled.")]


def test_backoff_grows_and_is_capped():
    delays = [backoff_seconds(n, base=5, cap=60) for n in range(8)]
    assert 3.75 <= delays[0] <= 5 and 7.5 <= delays[1] <= 10 and all(d <= 60 for d in delays)
