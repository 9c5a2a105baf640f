"""Imports through real workers: the happy path on the in-process worker, and crash-redelivery with
`celery worker` subprocesses killed by SIGKILL mid-validation and mid-commit."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from core.imports import commit, service
from core.models import Cohort, CorporateTrainee, ImportStatus, TraineeImport, User
from tasks.imports import commit_import, validate_import
from tests.conftest import BROKER_URL, DATABASE_URL, wait_for, worker_environment
from web.extensions import db

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


ROOT = Path(__file__).resolve().parents[2]
VISIBILITY = 3  # seconds before Redis hands an unacknowledged task to another worker (subprocess workers only)


def import_state(app, import_id: int) -> TraineeImport:
    with app.app_context():
        imp = db.session.get(TraineeImport, import_id)
        db.session.expunge(imp)
        db.session.remove()
        return imp


def trainees(app, cohort_id: int) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).where(CorporateTrainee.cohort_id == cohort_id))
        db.session.remove()
        return n


def big_csv(rows: int) -> tuple[bytes, int]:
    """`rows` trainees, every 25th with a landline; some with no phone or email (so only the import's
    own bookkeeping can stop them being inserted twice). Returns (bytes, expected valid count)."""
    lines = ["full_name,phone,email,employee_code"]
    bad = 0
    for i in range(rows):
        if i % 25 == 0:
            lines.append(f"Trainee {i},021{i % 1000000:06d},,E{i}")
            bad += 1
        elif i % 10 == 0:
            lines.append(f"Trainee {i},,,E{i}")
        else:
            lines.append(f"Trainee {i},055{i:07d},t{i}@example.com,E{i}")
    return ("\n".join(lines) + "\n").encode(), rows - bad


# ---------------------------------------------------------------- in-process worker


def test_upload_validate_commit_through_the_worker(app, live_worker, client, api, demo):
    h = api("admin")
    data = b"full_name,phone\nAmel Bouzid,0555123456\nLina,021123456\nKarim,0770123456\n"
    r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=h,
                    data={"file": (io.BytesIO(data), "t.csv")}, content_type="multipart/form-data")
    status_url = r.json["status_url"]
    body = wait_for(lambda: (b := client.get(status_url, headers=h).json)["status"] == "VALIDATED" and b)
    assert body["counts"]["valid"] == 2 and body["counts"]["by_reason"] == {"phone_not_mobile": 1}
    assert client.post(f"{status_url}/commit", headers=h).status_code == 202
    body = wait_for(lambda: (b := client.get(status_url, headers=h).json)["status"] == "COMMITTED" and b)
    assert body["inserted_count"] == 2 and trainees(app, demo["corporate_cohort_id"]) == 12


def test_a_failed_file_is_reported_by_the_worker(app, live_worker, client, api, demo):
    h = api("admin")
    r = client.post(f"/api/corporate-cohorts/{demo['corporate_cohort_id']}/trainee-imports", headers=h,
                    data={"file": (io.BytesIO(b"PK\x03\x04xlsx"), "t.xlsx")}, content_type="multipart/form-data")
    body = wait_for(lambda: (b := client.get(r.json["status_url"], headers=h).json)["status"] == "FAILED" and b)
    assert "not a CSV" in body["error_message"]


# ---------------------------------------------------------------- crash and redelivery


class Worker:
    """`celery -A workers.celery_app worker` in its own process, consuming one private queue."""

    def __init__(self, queue: str, log: Path) -> None:
        # A stale heartbeat after 2 s: the redelivered task may take the job over from the killed worker.
        env = worker_environment(BROKER_VISIBILITY_TIMEOUT=str(VISIBILITY), JOB_STALE_SECONDS="2",
                                 JOB_HEARTBEAT_SECONDS="0.5")
        self.log = open(log, "ab")  # noqa: SIM115 (closed in kill/stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "-Q", queue,
             "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def crash_queue(tmp_path, published) -> Iterator[dict[str, Any]]:
    """A private queue for subprocess workers; jobs the services enqueue are recorded, not sent (the tests
    send them to this queue themselves)."""
    queue = f"imports-crash-{uuid.uuid4().hex[:8]}"
    started: list[Worker] = []

    def start() -> Worker:
        w = Worker(queue, tmp_path / "worker.log")
        started.append(w)
        return w

    yield {"name": queue, "start": start, "log": tmp_path / "worker.log"}
    for w in started:
        w.stop()
    import redis

    redis.Redis.from_url(BROKER_URL).delete(queue)


def _setup(app, demo, data: bytes) -> int:
    with app.app_context():
        cohort = db.session.get(Cohort, demo["corporate_cohort_id"])
        admin = db.session.get(User, demo["users"]["admin"])
        imp = service.create_import(db.session, app.extensions["storage"], cohort=cohort, uploader=admin,
                                    stream=io.BytesIO(data), filename="big.csv", max_bytes=50 * 1024 * 1024)
        import_id = imp.id
        db.session.remove()
    return import_id


@pytest.mark.slow
def test_worker_killed_mid_validation_is_redelivered_and_ends_with_the_same_counts(app, demo, crash_queue):
    data, expected_valid = big_csv(60_000)
    import_id = _setup(app, demo, data)
    with app.app_context():
        validate_import.apply_async(args=[import_id], queue=crash_queue["name"])
    first = crash_queue["start"]()
    # Kill once validation is under way: some progress committed, far from done.
    wait_for(lambda: (i := import_state(app, import_id)).status == ImportStatus.VALIDATING and i.rows_done > 0,
             timeout=90, every=0.01)
    first.kill()
    killed_at = import_state(app, import_id)
    assert killed_at.status == ImportStatus.VALIDATING and killed_at.rows_done < 60_000

    time.sleep(VISIBILITY + 0.5)  # the unacknowledged task becomes visible again
    crash_queue["start"]()
    done = wait_for(lambda: (i := import_state(app, import_id)).status != ImportStatus.VALIDATING and i,
                    timeout=120, every=0.2)
    assert (done.status, done.valid_count, done.invalid_count, done.rows_total) == (
        ImportStatus.VALIDATED, expected_valid, 60_000 - expected_valid, 60_000), crash_queue["log"].read_text()[-3000:]
    assert done.errors_by_reason == {"phone_not_mobile": 60_000 - expected_valid}


@pytest.mark.slow
def test_worker_killed_mid_commit_inserts_no_trainee_twice(app, demo, crash_queue):
    data, expected_valid = big_csv(5_000)
    import_id = _setup(app, demo, data)
    cohort_id = demo["corporate_cohort_id"]
    before = trainees(app, cohort_id)
    with app.app_context():
        service.validate_import(db.session, app.extensions["storage"], import_id)
        cohort = db.session.get(Cohort, cohort_id)
        admin = db.session.get(User, demo["users"]["admin"])
        commit.request_commit(db.session, import_id, admin, cohort=cohort)
        commit_import.apply_async(args=[import_id], queue=crash_queue["name"])
        db.session.remove()

    # Hold the import row so the worker blocks right after inserting the trainees, before its COMMIT.
    engine = create_engine(DATABASE_URL)
    blocker = engine.connect()
    # FOR NO KEY UPDATE: the foreign-key checks of the INSERT pass, the UPDATE of the row waits.
    blocker.execute(text("SELECT id FROM trainee_imports WHERE id = :i FOR NO KEY UPDATE"), {"i": import_id})

    def worker_blocked() -> bool:
        with engine.connect() as watcher:  # a fresh transaction: pg_stat_activity is snapshotted per transaction
            return bool(watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'UPDATE trainee_imports%'")).scalar())

    try:
        first = crash_queue["start"]()
        wait_for(worker_blocked, timeout=90, every=0.05)
        first.kill()
    finally:
        blocker.rollback()
        blocker.close()
        engine.dispose()
    assert import_state(app, import_id).status == ImportStatus.COMMITTING
    assert trainees(app, cohort_id) == before  # the killed worker's insert never committed

    time.sleep(VISIBILITY + 0.5)
    crash_queue["start"]()
    done = wait_for(lambda: (i := import_state(app, import_id)).status == ImportStatus.COMMITTED and i,
                    timeout=120, every=0.2)
    assert done.inserted_count == expected_valid
    assert trainees(app, cohort_id) == before + expected_valid

    # And a duplicate delivery afterwards adds nothing.
    with app.app_context():
        commit_import.apply_async(args=[import_id], queue=crash_queue["name"]).get(timeout=60)
    assert trainees(app, cohort_id) == before + expected_valid
