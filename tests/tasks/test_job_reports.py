"""Stuck or failed jobs are seen: the institution's admins get one mail per job, in their own language, through a
real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt
import io
from email.header import decode_header, make_header
from typing import Any

import pytest
from sqlalchemy import select, update

from core import clock, jobs
from core.imports import service
from core.jobs import reports
from core.models import Cohort, Job, JobStatus, User
from tasks import mail_settings, translations_dir
from tests.mailbox import mail_text
from web.extensions import db

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def job_id(app, demo, published) -> Any:
    with app.app_context():
        cohort = db.session.get(Cohort, demo["corporate_cohort_id"])
        admin = db.session.get(User, demo["users"]["admin"])
        row = service.create_import(db.session, app.extensions["storage"], cohort=cohort, uploader=admin,
                                    stream=io.BytesIO(b"full_name,phone\nAmel,0555123456\n"), filename="t.csv",
                                    max_bytes=10_000)
        found = db.session.scalar(select(Job.id).where(Job.entity_id == row.id, Job.kind == "imports.validate"))
        db.session.remove()
    return found


def _job(app, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(Job).values(**values))
        db.session.commit()
        db.session.remove()


def _report(app) -> int:
    with app.app_context():
        sent = reports.report_troubles(db.session, mail_settings(), "http://testserver",
                                       translations=translations_dir())
        db.session.remove()
    return sent


def test_a_failed_job_is_mailed_once_to_each_admin_in_their_language(app, demo, smtp, job_id):
    with app.app_context():
        db.session.execute(update(User).where(User.id == demo["users"]["admin"]).values(language="fr"))
        db.session.commit()
        db.session.remove()
    _job(app, status=JobStatus.FAILED, attempts=3, finished_at=clock.now(), last_error="OperationalError: gone")
    assert _report(app) >= 1
    mails = smtp.to("admin@demo.example")
    assert len(mails) == 1
    assert str(make_header(decode_header(mails[0]["Subject"]))) == "Travail en arrière-plan arrêté : imports.validate"
    assert "OperationalError: gone" in mail_text(mails[0])
    assert _report(app) == 0 and len(smtp.to("admin@demo.example")) == 1  # never twice


def test_a_job_the_sweeper_rescued_is_mailed_as_interrupted(app, demo, smtp, job_id):
    _job(app, status=JobStatus.RUNNING, attempts=1, heartbeat_at=clock.now() - dt.timedelta(hours=1))
    with app.app_context():
        swept = jobs.sweep(db.session, jobs.SweepSettings(stale_after=dt.timedelta(seconds=45),
                                                          lost_after=dt.timedelta(seconds=60)))
        db.session.remove()
    assert swept.requeued == [job_id]
    _report(app)
    (mail,) = smtp.to("admin@demo.example")
    assert mail["Subject"] == "Background work was interrupted: imports.validate"


def test_a_job_that_ends_well_is_not_mailed(app, smtp, job_id):
    _job(app, status=JobStatus.SUCCEEDED, attempts=1, finished_at=clock.now())
    assert _report(app) == 0 and smtp.messages == []
