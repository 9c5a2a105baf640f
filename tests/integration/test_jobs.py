"""core.jobs on the real database: outbox, claims, the sweeper's three rescues, giving up, retry, words."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select, update

from core import clock, jobs
from core.imports import service
from core.imports.jobs import VALIDATE, retry_import
from core.models import Cohort, ImportStatus, Job, JobStatus, TraineeImport, User
from web.extensions import db

SETTINGS = jobs.SweepSettings(stale_after=dt.timedelta(seconds=45), lost_after=dt.timedelta(seconds=60))


@pytest.fixture
def imp(app, demo, published) -> Any:
    """An uploaded import (its validation job is in the outbox; `published` records the broker's side)."""
    with app.app_context():
        cohort = db.session.get(Cohort, demo["corporate_cohort_id"])
        admin = db.session.get(User, demo["users"]["admin"])
        row = service.create_import(db.session, app.extensions["storage"], cohort=cohort, uploader=admin,
                                    stream=io.BytesIO(b"full_name,phone\nAmel,0555123456\n"), filename="t.csv",
                                    max_bytes=10_000)
        yield row.id
        db.session.remove()


def _job(import_id: int) -> Job:
    db.session.expire_all()
    return db.session.scalar(select(Job).where(Job.kind == VALIDATE.name, Job.entity_id == import_id)
                             .order_by(Job.id.desc()).limit(1))


def _set(import_id: int, **values: Any) -> None:
    db.session.execute(update(Job).where(Job.id == _job(import_id).id).values(**values))
    db.session.commit()


def test_enqueue_writes_the_job_and_sends_it_after_commit(imp, published):
    job = _job(imp)
    assert (job.status, job.queue, job.attempts) == (JobStatus.QUEUED, "imports", 0) and job.sent_at is not None
    assert published == [("imports.validate", (imp,))]


def test_a_second_enqueue_while_queued_returns_the_same_job(imp):
    again = jobs.enqueue(db.session, VALIDATE, imp)
    db.session.commit()
    assert again.id == _job(imp).id


def test_a_claim_runs_once_and_a_duplicate_delivery_is_skipped(imp):
    first = jobs.runner.claim(db.engine, VALIDATE, imp, worker="w1", stale_after=dt.timedelta(seconds=45))
    second = jobs.runner.claim(db.engine, VALIDATE, imp, worker="w2", stale_after=dt.timedelta(seconds=45))
    assert first.token and first.attempt == 1 and second.skip
    assert _job(imp).status == JobStatus.RUNNING


def test_a_task_sent_without_a_job_runs_untracked(app):
    with app.app_context():
        claim = jobs.runner.claim(db.engine, VALIDATE, 999_999, worker="w", stale_after=dt.timedelta(seconds=45))
    assert claim.job_id is None and not claim.skip


def test_the_sweeper_requeues_a_job_whose_heartbeat_went_stale(imp, published):
    jobs.runner.claim(db.engine, VALIDATE, imp, worker="w1", stale_after=dt.timedelta(seconds=45))
    _set(imp, heartbeat_at=clock.now() - dt.timedelta(minutes=5))
    report = jobs.sweep(db.session, SETTINGS, lambda queues: {q: 0 for q in queues})
    job = _job(imp)
    assert report.requeued == [job.id] and report.published == 1
    assert job.status == JobStatus.QUEUED and job.sent_at is not None and published[-1] == ("imports.validate", (imp,))


def test_after_its_attempts_a_stale_job_fails_and_the_import_says_why(imp):
    _set(imp, status=JobStatus.RUNNING, attempts=3, heartbeat_at=clock.now() - dt.timedelta(minutes=5))
    report = jobs.sweep(db.session, SETTINGS, lambda queues: None)
    assert report.gave_up == [_job(imp).id] and _job(imp).status == JobStatus.FAILED
    row = db.session.get(TraineeImport, imp)
    db.session.refresh(row)
    assert row.status == ImportStatus.FAILED and "stopped 3 times" in row.error_message
    view = jobs.describe(db.session, [VALIDATE.name], imp)
    assert view.can_retry and view.message == "Stopped after 3 attempts."


def test_retry_puts_a_failed_import_back_in_the_queue(app, demo, imp, published):
    _set(imp, status=JobStatus.FAILED, attempts=3)
    db.session.execute(update(TraineeImport).where(TraineeImport.id == imp).values(status=ImportStatus.FAILED))
    db.session.commit()
    retried = retry_import(db.session, imp, db.session.get(User, demo["users"]["admin"]),
                           cohort=db.session.get(Cohort, demo["corporate_cohort_id"]))
    assert retried.status == ImportStatus.UPLOADED and _job(imp).status == JobStatus.QUEUED
    assert published[-1] == ("imports.validate", (imp,))


def test_a_lost_message_is_sent_again_only_when_the_queue_has_fewer_messages_than_jobs(imp, published):
    _set(imp, sent_at=clock.now() - dt.timedelta(minutes=5))
    assert jobs.sweep(db.session, SETTINGS, lambda queues: {"imports": 1}).resent == []  # still on the broker
    assert jobs.sweep(db.session, SETTINGS, lambda queues: {"imports": 0}).resent == [_job(imp).id]
    assert len(published) == 2


def test_the_outbox_is_sent_by_the_sweeper_when_the_broker_is_back(imp, published, monkeypatch):
    from core.jobs.outbox import broker

    def down(*_: Any) -> None:
        raise ConnectionError("broker down")

    _set(imp, sent_at=None, created_at=clock.now() - dt.timedelta(minutes=1))
    monkeypatch.setattr(broker, "publish", down)
    assert jobs.sweep(db.session, SETTINGS, lambda queues: None).unpublished == 1
    assert _job(imp).sent_at is None
    monkeypatch.setattr(broker, "publish", lambda name, entity_id, queue: published.append((name, (entity_id,))))
    assert jobs.sweep(db.session, SETTINGS, lambda queues: None).published == 1
    assert _job(imp).sent_at is not None


def test_a_job_waiting_says_so_in_words(imp):
    _set(imp, created_at=clock.now() - dt.timedelta(minutes=3))
    view = jobs.describe(db.session, [VALIDATE.name], imp)
    assert view.waiting_for_worker
    assert view.message.startswith("Queued 3 minutes ago, waiting for a worker.")
    assert "No worker is taking “imports” work right now." in view.message


OPERATOR = {"X-Health-Token": "operators-token"}


def test_ready_reports_the_unhealthy_parts(client, app, imp):
    app.config["HEALTH_TOKEN"] = OPERATOR["X-Health-Token"]
    _set(imp, created_at=clock.now() - dt.timedelta(hours=1))
    response = client.get("/api/health/ready", headers=OPERATOR)
    body = response.json
    assert response.status_code == 503 and body["status"] == "unhealthy"
    assert {"workers", "queue"} <= set(body["unhealthy"]) and body["checks"]["database"]["ok"]
    assert body["checks"]["queue"]["oldest_queued_seconds"]["imports"] >= 3600


def test_ready_is_ok_with_a_live_worker_on_every_queue(client, app):
    with app.app_context():
        jobs.record_worker(db.engine, "all@test", jobs.QUEUES, 1, clock.now())
    body = client.get("/api/health/ready").json
    assert body["checks"]["workers"]["ok"] and body["checks"]["queue"]["ok"]
    assert body["checks"]["workers"]["live"][0]["queues"] == ["imports", "documents", "default"]


def test_anonymous_ready_names_the_unhealthy_parts_without_their_details(client, imp):
    _set(imp, created_at=clock.now() - dt.timedelta(hours=1))
    body = client.get("/api/health/ready").json
    assert {"workers", "queue"} <= set(body["unhealthy"])
    assert body["checks"]["queue"] == {"ok": False} and body["checks"]["database"] == {"ok": True}
    assert "messages_waiting" not in body["checks"]["broker"]


def test_ready_details_need_the_operators_token_not_any_token(client, app, imp):
    app.config["HEALTH_TOKEN"] = OPERATOR["X-Health-Token"]
    _set(imp, created_at=clock.now() - dt.timedelta(hours=1))
    wrong = client.get("/api/health/ready", headers={"X-Health-Token": "guess"}).json
    assert "oldest_queued_seconds" not in wrong["checks"]["queue"]


def test_a_super_admin_sees_the_ready_details(client, api, imp):
    _set(imp, created_at=clock.now() - dt.timedelta(hours=1))
    body = client.get("/api/health/ready", headers=api("super")).json
    assert body["checks"]["queue"]["oldest_queued_seconds"]["imports"] >= 3600


def test_ready_counts_stuck_and_failed_jobs(client, app, imp):
    app.config["HEALTH_TOKEN"] = OPERATOR["X-Health-Token"]
    _set(imp, status=JobStatus.RUNNING, heartbeat_at=clock.now() - dt.timedelta(hours=1))
    body = client.get("/api/health/ready", headers=OPERATOR).json
    assert "jobs" in body["unhealthy"] and body["checks"]["jobs"]["stuck"] == 1


def test_a_claim_dropped_without_release_leaves_no_lock_in_the_pool(imp):
    """The pooled connection of a claim nobody released is unlocked when it goes back to the pool: otherwise its
    next user would hold the job's lock, and the job (or a later one with the same id) would be skipped as
    running by every delivery."""
    import gc

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from core.jobs.store import Ownership

    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    gc.collect()  # claims earlier tests dropped go back to the pool first (a claim lives until it is collected)
    claim = jobs.runner.claim(db.engine, VALIDATE, imp, worker="w1", stale_after=dt.timedelta(seconds=45))
    assert not claim.skip and claim.ownership is not None and claim.ownership.held  # no lock left by another test
    job_id = claim.job_id
    del claim
    gc.collect()
    other_process = create_engine(db.engine.url, poolclass=NullPool)  # a session of its own, like another worker
    elsewhere = Ownership(other_process, job_id)  # what a re-delivered message's claim asks first
    try:
        assert elsewhere.held is True
    finally:
        elsewhere.release()
        other_process.dispose()
