"""Work is never stuck or lost, for real: subprocess workers killed with SIGKILL, a Redis restarted with
nothing on disk, a Redis down while people upload, and a queue per kind of work.

Each test runs its own redis-server (no persistence) and its own `celery worker -B` subprocesses with a
short sweeper period and heartbeat deadline; the visibility timeout stays at its default (an hour), so a
job that finishes within the test's timeout cannot have waited for it.
"""

from __future__ import annotations

import datetime as dt
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
from pypdf import PdfReader
from sqlalchemy import func, insert, select

from core import clock
from core.models import (
    CorporateTrainee,
    DocumentStatus,
    ImportStatus,
    Job,
    JobStatus,
    RegisterDocument,
    TraineeImport,
)
from tests.attendance_factories import make_session
from tests.conftest import test_settings, wait_for, worker_environment
from tests.integration.test_resilience import PrivateRedis
from tests.tasks.test_import_tasks import Worker as SubprocessWorker
from tests.tasks.test_import_tasks import big_csv
from web.extensions import db

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.real_broker]

ROOT = Path(__file__).resolve().parents[2]
FAST = {"JOB_HEARTBEAT_SECONDS": "0.5", "JOB_STALE_SECONDS": "3", "JOB_SWEEP_SECONDS": "1", "JOB_LOST_SECONDS": "2",
        "WORKER_HEARTBEAT_SECONDS": "1"}


class Worker(SubprocessWorker):
    """`celery -A workers.celery_app worker [-B]` on the private Redis, in its own process group."""

    def __init__(self, broker: str, log: Path, queues: str = "imports,documents,default", beat: bool = True) -> None:
        env = worker_environment(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker, **FAST)
        self.log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        argv = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "-Q", queues,
                "-n", f"w-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
        if beat:
            argv += ["-B", "--schedule", str(log.parent / f"beat-{uuid.uuid4().hex[:6]}")]
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(redis_server, app, demo, api, tmp_path) -> Iterator[dict[str, Any]]:
    """A web app on the private Redis, its client and token, and a way to start workers (stopped at the end)."""
    from web import create_app

    web_app = create_app(test_settings(CELERY_BROKER_URL=redis_server.url, CELERY_RESULT_BACKEND=redis_server.url))
    workers: list[Worker] = []

    def start(**kw: Any) -> Worker:
        w = Worker(redis_server.url, tmp_path / "worker.log", **kw)
        workers.append(w)
        return w

    yield {"app": web_app, "client": web_app.test_client(), "headers": api("admin"), "start": start,
           "log": tmp_path / "worker.log", "redis": redis_server}
    for w in workers:
        w.stop()


def read(app, model: Any, row_id: int) -> Any:
    with app.app_context():
        row = db.session.get(model, row_id)
        db.session.expunge(row)
        db.session.remove()
        return row


def job_of(app, kind: str, entity_id: int) -> Job | None:
    with app.app_context():
        job = db.session.scalar(select(Job).where(Job.kind == kind, Job.entity_id == entity_id).order_by(Job.id.desc()))
        if job is not None:
            db.session.expunge(job)
        db.session.remove()
        return job


def upload(stack: dict[str, Any], cohort_id: int, data: bytes) -> Any:
    return stack["client"].post(f"/api/corporate-cohorts/{cohort_id}/trainee-imports", headers=stack["headers"],
                                data={"file": (io.BytesIO(data), "big.csv")}, content_type="multipart/form-data")


def request_pdf(stack: dict[str, Any], session_id: int) -> int:
    r = stack["client"].post(f"/api/institution/class-sessions/{session_id}/register-documents",
                             headers=stack["headers"])
    assert r.status_code == 202, r.json
    return r.json["id"]


def crowded_session(app, cohort_id: int, trainees: int) -> int:
    """A past session of a corporate cohort with many trainees: a register PDF of many pages (a slow build)."""
    with app.app_context():
        db.session.execute(insert(CorporateTrainee), [
            {"cohort_id": cohort_id, "full_name": f"Crowd Trainee {i:05d}", "active": True} for i in range(trainees)])
        db.session.commit()
        session_id = make_session(db.session, cohort_id, clock.today_in("Africa/Algiers") - dt.timedelta(days=1))
        db.session.remove()
    return session_id


def test_an_import_whose_worker_is_killed_finishes_without_waiting_for_the_visibility_timeout(stack, demo):
    data, expected_valid = big_csv(60_000)
    r = upload(stack, demo["corporate_cohort_id"], data)
    assert r.status_code == 202
    import_id = r.json["id"]
    first = stack["start"]()
    wait_for(lambda: (i := read(stack["app"], TraineeImport, import_id)).status == ImportStatus.VALIDATING
             and i.rows_done > 0, every=0.01)
    first.kill()
    assert job_of(stack["app"], "imports.validate", import_id).status == JobStatus.RUNNING

    restarted = time.monotonic()
    stack["start"]()
    done = wait_for(lambda: (i := read(stack["app"], TraineeImport, import_id)).status != ImportStatus.VALIDATING
                    and i.status != ImportStatus.UPLOADED and i, timeout=120, every=0.2)
    took = time.monotonic() - restarted
    assert (done.status, done.valid_count, done.invalid_count) == (
        ImportStatus.VALIDATED, expected_valid, 60_000 - expected_valid), stack["log"].read_text()[-3000:]
    # The job is marked done right after the task returns, a moment after the import row.
    job = wait_for(lambda: (j := job_of(stack["app"], "imports.validate", import_id)).status != JobStatus.RUNNING and j)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert took < 120  # not the hour-long visibility timeout


def test_a_pdf_whose_worker_is_killed_is_built_once_the_worker_is_back(stack, demo):
    session_id = crowded_session(stack["app"], demo["corporate_cohort_id"], 1500)
    doc_id = request_pdf(stack, session_id)
    first = stack["start"]()
    wait_for(lambda: (j := job_of(stack["app"], "registers.build", doc_id)) and j.status == JobStatus.RUNNING,
             every=0.01)
    first.kill()
    assert read(stack["app"], RegisterDocument, doc_id).status in (DocumentStatus.PENDING, DocumentStatus.BUILDING)

    stack["start"]()
    wait_for(lambda: read(stack["app"], RegisterDocument, doc_id).status == DocumentStatus.READY, timeout=120,
             every=0.2)
    doc = read(stack["app"], RegisterDocument, doc_id)
    with stack["app"].app_context():
        pdf = PdfReader(stack["app"].extensions["storage"].path(doc.storage_key))
        assert "Crowd Trainee 01499" in "".join(page.extract_text() for page in pdf.pages)
    assert job_of(stack["app"], "registers.build", doc_id).attempts == 2


def test_jobs_queued_before_a_redis_restart_all_complete(stack, demo):
    small = b"full_name,phone\nAmel Bouzid,0555123456\nKarim,0770123456\n"
    imports = [upload(stack, demo["corporate_cohort_id"], small.replace(b"Karim", f"Karim {n}".encode())).json["id"]
               for n in range(3)]
    session_id = crowded_session(stack["app"], demo["corporate_cohort_id"], 5)
    doc_id = request_pdf(stack, session_id)
    assert all(job_of(stack["app"], "imports.validate", i).sent_at for i in imports)  # on the broker…

    stack["redis"].stop()  # …which forgets everything: nothing on disk
    stack["redis"].start()
    stack["start"]()
    wait_for(lambda: all(read(stack["app"], TraineeImport, i).status == ImportStatus.VALIDATED for i in imports)
             and read(stack["app"], RegisterDocument, doc_id).status == DocumentStatus.READY, timeout=120, every=0.2)


def test_an_upload_while_redis_is_down_answers_202_fast_and_completes_when_it_is_back(stack, demo):
    stack["redis"].stop()
    started = time.monotonic()
    r = upload(stack, demo["corporate_cohort_id"], b"full_name,phone\nAmel Bouzid,0555123456\n")
    answered = time.monotonic() - started
    assert r.status_code == 202 and answered < 5, answered  # the broker timeout, not the ~19 s of retries
    import_id = r.json["id"]
    job = job_of(stack["app"], "imports.validate", import_id)
    assert job.status == JobStatus.QUEUED and job.sent_at is None  # in the outbox
    status = stack["client"].get(r.json["status_url"], headers=stack["headers"]).json
    assert status["job"]["status"] == "QUEUED"

    stack["redis"].start()
    stack["start"]()
    wait_for(lambda: read(stack["app"], TraineeImport, import_id).status == ImportStatus.VALIDATED, timeout=90,
             every=0.2)
    with stack["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(TraineeImport)) == 1  # no orphan, no double
        db.session.remove()


def test_a_pdf_is_built_while_a_large_import_holds_the_imports_queue(stack, demo):
    data, _ = big_csv(150_000)
    import_id = upload(stack, demo["corporate_cohort_id"], data).json["id"]
    session_id = crowded_session(stack["app"], demo["corporate_cohort_id"], 20)
    stack["start"](queues="imports", beat=False)
    stack["start"](queues="documents,default")
    wait_for(lambda: (i := read(stack["app"], TraineeImport, import_id)).status == ImportStatus.VALIDATING
             and i.rows_done > 0, every=0.02)
    doc_id = request_pdf(stack, session_id)
    document = wait_for(lambda: (d := read(stack["app"], RegisterDocument, doc_id)).status == DocumentStatus.READY
                        and d, every=0.05)
    imp = read(stack["app"], TraineeImport, import_id)
    # Started while the import still held its queue: it did not wait behind it (validation is now fast
    # enough to end before the document does).
    assert imp.status == ImportStatus.VALIDATING or document.started_at < imp.finished_at


def test_ready_sees_a_worker_through_its_heartbeat_row(stack):
    client = stack["client"]
    assert "workers" in client.get("/api/health/ready").json["unhealthy"]
    stack["start"]()
    body = wait_for(lambda: (b := client.get("/api/health/ready").json)["checks"]["workers"]["ok"] and b, timeout=60,
                    every=0.3)
    assert body["checks"]["broker"]["ok"] and body["checks"]["database"]["ok"]
    assert body["checks"]["workers"]["live"][0]["queues"] == ["default", "documents", "imports"]
    stack["redis"].stop()
    down = client.get("/api/health/ready")
    assert down.status_code == 503 and "broker" in down.json["unhealthy"]


def test_flower_sees_the_workers_and_their_tasks_on_redis(stack, tmp_path):
    import requests

    from tests.conftest import free_port

    stack["start"]()
    wait_for(lambda: stack["client"].get("/api/health/ready").json["checks"]["workers"]["ok"], timeout=60, every=0.3)
    port = free_port()
    env = worker_environment(CELERY_BROKER_URL=stack["redis"].url, CELERY_RESULT_BACKEND=stack["redis"].url,
                             FLOWER_UNAUTHENTICATED_API="true")
    flower = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", "flower", f"--port={port}",
                               "--address=127.0.0.1"], cwd=ROOT, env=env, stdout=open(tmp_path / "flower.log", "wb"),  # noqa: SIM115
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return requests.get(f"{base}/healthcheck", timeout=2).ok
            except requests.ConnectionError:
                return False  # still starting

        wait_for(answers, timeout=60, every=0.5)
        workers = wait_for(lambda: requests.get(f"{base}/api/workers", params={"refresh": "true"}, timeout=15).json(),
                           timeout=60, every=1)
        assert any(name.startswith("w-") for name in workers)

        def ping_seen() -> list[dict[str, Any]]:
            # Task events are not stored: a ping sent before Flower's event receiver connected goes unseen,
            # so send one each time until Flower has seen one succeed.
            with stack["app"].app_context():
                stack["app"].extensions["celery"].send_task("system.ping", args=["flower"]).get(timeout=60)
            return [t for t in requests.get(f"{base}/api/tasks", timeout=5).json().values()
                    if t["name"] == "system.ping" and t["state"] == "SUCCESS"]

        tasks = wait_for(ping_seen, timeout=120, every=1)
        assert "flower" in tasks[0]["args"] and tasks[0]["runtime"] is not None
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        flower.wait(30)
