"""A pool child killed mid-job (what the out-of-memory killer does): Celery re-delivers its message at once and the
job is taken over within seconds, not after its heartbeat goes stale, and never runs twice at once.

A prefork worker on a private Redis; the test kills the child that holds the job (its pid is in the job's
`claimed_by`) with SIGKILL. The heartbeat deadline is left long (45 s) and beat is off: only ownership tied to
the holder (the job's advisory lock, released with the dead child's connections) can explain a quick resume.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.models import ImportStatus, JobStatus, TraineeImport
from tests.conftest import wait_for, worker_environment
from tests.integration.test_resilience import PrivateRedis
from tests.tasks.test_import_tasks import big_csv
from tests.tasks.test_job_recovery import job_of, read, upload

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.real_broker]

ROOT = Path(__file__).resolve().parents[2]


class PreforkWorker:
    def __init__(self, broker: str, log: Path) -> None:
        env = worker_environment(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, JOB_HEARTBEAT_SECONDS="1",
                                 JOB_STALE_SECONDS="45", WORKER_HEARTBEAT_SECONDS="1")
        self.log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=prefork", "--concurrency=1",
             "-Q", "imports,documents,default", "-n", f"p-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO",
             "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self.log.close()


@pytest.fixture
def prefork(app, demo, api, tmp_path) -> Iterator[dict]:
    from tests.conftest import test_settings
    from web import create_app

    headers = api("admin")
    redis = PrivateRedis()
    redis.start()
    web_app = create_app(test_settings(CELERY_BROKER_URL=redis.url, CELERY_RESULT_BACKEND=redis.url))
    worker = PreforkWorker(redis.url, tmp_path / "worker.log")
    try:
        yield {"app": web_app, "client": web_app.test_client(), "headers": headers, "log": tmp_path / "worker.log"}
    finally:
        worker.stop()
        redis.stop()


def holder_pid(job) -> int:
    return int(job.claimed_by.split(":")[-2])


def test_a_job_whose_pool_child_is_killed_resumes_within_15_seconds_and_runs_once(prefork, demo):
    data, expected_valid = big_csv(100_000)
    r = upload(prefork, demo["corporate_cohort_id"], data)
    assert r.status_code == 202
    import_id = r.json["id"]
    wait_for(lambda: (i := read(prefork["app"], TraineeImport, import_id)).status == ImportStatus.VALIDATING
             and i.rows_done > 0, timeout=60, every=0.02)
    first = job_of(prefork["app"], "imports.validate", import_id)
    at_kill = read(prefork["app"], TraineeImport, import_id).rows_done  # committed with their row results
    os.kill(holder_pid(first), signal.SIGKILL)
    killed = time.monotonic()

    resumed = wait_for(lambda: (j := job_of(prefork["app"], "imports.validate", import_id)).attempts == 2 and j,
                       timeout=30, every=0.05)
    took = time.monotonic() - killed
    assert took < 15, (took, prefork["log"].read_text()[-3000:])
    assert holder_pid(resumed) != holder_pid(first)

    progress: list[int] = []

    def validated() -> TraineeImport | None:
        imp = read(prefork["app"], TraineeImport, import_id)
        progress.append(imp.rows_done)
        return imp if imp.status == ImportStatus.VALIDATED else None

    done = wait_for(validated, timeout=120, every=0.05)
    assert (done.valid_count, done.invalid_count) == (expected_valid, 100_000 - expected_valid)
    assert min(progress) >= at_kill > 0  # resumed after its last committed batch, never from row 0
    job = wait_for(lambda: (j := job_of(prefork["app"], "imports.validate", import_id)).status != JobStatus.RUNNING
                   and j)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)  # one take-over, no second run beside it
