"""A database that goes away while a job runs: the job retries with backoff (its retry is not lost on the dead
connection) and completes within 30 s of the database's return.

The worker reaches PostgreSQL through a loopback TCP proxy the test cuts (tests/tcp_proxy.py); the shared server
is never touched. Beat is off and the heartbeat deadline long: only the task's own retries can finish the job.
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
from sqlalchemy.engine import make_url

from core.models import ImportStatus, JobStatus, TraineeImport
from tests.conftest import DATABASE_URL, test_settings, wait_for, worker_environment
from tests.integration.test_resilience import PrivateRedis
from tests.tasks.test_import_tasks import big_csv
from tests.tasks.test_job_recovery import job_of, read, upload
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.real_broker]

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 8


@pytest.fixture
def proxied_worker(app, demo, api, tmp_path) -> Iterator[dict]:
    from web import create_app

    headers = api("admin")
    url = make_url(DATABASE_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    redis = PrivateRedis()
    redis.start()
    web_app = create_app(test_settings(CELERY_BROKER_URL=redis.url, CELERY_RESULT_BACKEND=redis.url))
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
    env = worker_environment(DATABASE_URL=through, CELERY_BROKER_URL=redis.url, CELERY_RESULT_BACKEND=redis.url,
                             JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="120", WORKER_HEARTBEAT_SECONDS="1")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "-Q",
         "imports,documents,default", "-n", f"o-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO", "--without-gossip",
         "--without-mingle"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield {"app": web_app, "client": web_app.test_client(), "headers": headers, "proxy": proxy,
               "log": tmp_path / "worker.log"}
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)
        log.close()
        proxy.close()
        redis.stop()


def test_a_job_whose_database_goes_away_completes_within_30_seconds_of_its_return(proxied_worker, demo):
    data, expected_valid = big_csv(100_000)
    r = upload(proxied_worker, demo["corporate_cohort_id"], data)
    assert r.status_code == 202
    import_id = r.json["id"]
    wait_for(lambda: (i := read(proxied_worker["app"], TraineeImport, import_id)).status == ImportStatus.VALIDATING
             and i.rows_done > 0, timeout=60, every=0.02)
    proxied_worker["proxy"].cut()
    time.sleep(OUTAGE_SECONDS)  # the outage itself: the length of time the database is away
    proxied_worker["proxy"].heal()
    back = time.monotonic()
    try:
        done = wait_for(lambda: (i := read(proxied_worker["app"], TraineeImport, import_id)).status
                        == ImportStatus.VALIDATED and i, timeout=30, every=0.2)
    except AssertionError:
        raise AssertionError(proxied_worker["log"].read_text()[-3000:]) from None
    assert time.monotonic() - back < 30
    assert (done.valid_count, done.invalid_count) == (expected_valid, 100_000 - expected_valid)
    job = wait_for(lambda: (j := job_of(proxied_worker["app"], "imports.validate", import_id)).status
                   != JobStatus.RUNNING and j)
    assert job.status == JobStatus.SUCCEEDED and job.attempts >= 2
