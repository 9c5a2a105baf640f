"""The Celery app is configured for at-least-once delivery done safely, and enqueueing waits for commit."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select

from core.db import after_commit
from core.models import Institution
from tasks.system import ping


def test_delivery_settings_make_redelivery_safe(app):
    conf = app.extensions["celery"].conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.timezone == "UTC" and conf.enable_utc


def test_every_task_time_limit_is_below_the_visibility_timeout(app):
    celery_app = app.extensions["celery"]
    visibility = app.config["BROKER_VISIBILITY_TIMEOUT"]
    if celery_app.conf.broker_url.startswith("redis"):
        assert celery_app.conf.broker_transport_options["visibility_timeout"] == visibility
    celery_app.loader.import_default_modules()
    ours = [t for name, t in celery_app.tasks.items() if not name.startswith("celery.")]
    assert ours, "no tasks registered"
    for task in ours:
        limit = task.time_limit or celery_app.conf.task_time_limit
        assert limit and limit < visibility, (task.name, limit, visibility)


def test_beat_schedule_runs_in_utc_and_names_registered_tasks(app):
    from workers.beat import beat_schedule

    celery_app = app.extensions["celery"]
    celery_app.loader.import_default_modules()
    schedule = beat_schedule(app.config)
    assert schedule, "no nightly jobs"
    for name, entry in schedule.items():
        assert entry["task"] in celery_app.tasks, name
        if name != "jobs.sweep":  # the sweeper runs every JOB_SWEEP_SECONDS, in no time zone
            assert entry["schedule"].tz is None or str(entry["schedule"].tz) == "UTC"
    assert schedule["jobs.sweep"]["schedule"] == app.config["JOB_SWEEP_SECONDS"]


def test_rolled_back_transaction_enqueues_nothing(db_session):
    sent: list[str] = []
    db_session.add(Institution(name="X", slug="x"))
    after_commit(db_session, partial(sent.append, "x"))
    db_session.rollback()
    db_session.add(Institution(name="Y", slug="y"))
    db_session.commit()
    assert sent == []


def test_committed_transaction_enqueues_after_the_rows_exist(app, db_session, live_worker):
    results = []

    def send(tag: str) -> None:
        # By now the row is committed: a fresh connection sees it.
        with app.app_context():
            from web.extensions import db

            assert db.session.scalar(select(Institution.slug).where(Institution.slug == "z")) == "z"
        results.append(ping.apply_async(args=[tag]))

    db_session.add(Institution(name="Z", slug="z"))
    after_commit(db_session, partial(send, "after-commit"))
    db_session.commit()
    assert len(results) == 1


def test_a_task_run_in_an_open_app_context_removes_the_session_it_used(app):
    from tasks.system import ping
    from web.extensions import db

    with app.app_context():
        assert ping("here") == {"pong": "here", "db": True}
        # The task used this context's session: it is gone with the task (no transaction left open).
        assert not db.session.registry.has()


def test_a_task_in_a_context_of_its_own_leaves_no_session_behind(app):
    from tasks.system import ping
    from web.extensions import db

    assert ping("own") == {"pong": "own", "db": True}
    with app.app_context():
        assert not db.session.registry.has()


def test_tasks_route_to_the_queue_of_their_kind_of_work(app):
    from tasks.broker import queue_for

    assert [queue_for(name) for name in ("imports.validate", "imports.commit", "registers.build",
                                         "portals.build_report", "scheduling.apply_plan", "jobs.sweep",
                                         "attendance.lock_past_sessions", "reminders.send_unmarked_reminders")] == [
        "imports", "imports", "documents", "documents", "default", "default", "default", "default"]
    assert [q.name for q in app.extensions["celery"].conf.task_queues] == ["imports", "documents", "default"]
