"""Fixtures for the web tests that walk every route or fuzz the API."""

from __future__ import annotations

import pytest


@pytest.fixture
def worker_on_every_queue(app) -> None:
    """A worker's heartbeat row, as a live worker keeps it: the readiness probe then answers 200, not its
    documented 503 'no worker' (which not_a_server_error would count, rightly, as a server error)."""
    from core import clock, jobs
    from web.extensions import db

    with app.app_context():
        jobs.record_worker(db.engine, "fuzz@test", jobs.QUEUES, 1, clock.now())
