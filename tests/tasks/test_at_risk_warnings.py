"""At-risk warnings, sent by the worker over real SMTP on loopback: each recipient hears of each level change
exactly once across two runs with a crash in between; the organization's contact only with its grant; the
learner in their own language; "back on track" once."""

from __future__ import annotations

import contextlib
import datetime as dt
from email.header import decode_header, make_header
from typing import Any

from sqlalchemy import delete, select

from core import clock, mail
from core.at_risk import service
from core.models import (
    AttendanceRecord,
    CorporateAttendanceRecord,
    Institution,
    OrganizationGrant,
    User,
)
from tasks.at_risk import warn
from tests.attendance_factories import make_session, members
from tests.mailbox import mail_text

ONLY_SERIOUS = {"watch": [], "at_risk": ["learner", "facilitator", "cohort_admin", "org_contact"],
                "cannot_reach": ["learner", "facilitator", "cohort_admin", "org_contact"]}


class Crash(BaseException):
    """The worker dies (not an SMTP error: nothing in the process gets to record it)."""


def _absent_three_times(sql: Any, demo: dict[str, Any], status: str = "ABSENT") -> tuple[int, int]:
    """The first learner and the first corporate trainee: `status` in three new past sessions each."""
    learner = members(sql, demo["public_cohort_id"])[0]
    trainee = members(sql, demo["corporate_cohort_id"])[0]
    today = clock.today_in("Africa/Algiers")
    for offset in (3, 2, 1):
        day = today - dt.timedelta(days=offset)
        public = make_session(sql, demo["public_cohort_id"], day, dt.time(19), dt.time(20))
        corporate = make_session(sql, demo["corporate_cohort_id"], day, dt.time(17), dt.time(18))
        sql.add(AttendanceRecord(enrolment_id=learner, session_id=public, record_date=day, status=status))
        sql.add(CorporateAttendanceRecord(trainee_id=trainee, session_id=corporate, status=status))
    sql.get(Institution, demo["institution_id"]).at_risk_rules = ONLY_SERIOUS
    sql.commit()
    return learner, trainee


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _settings(app: Any) -> mail.MailSettings:
    with app.app_context():
        from tasks import mail_settings

        return mail_settings()


def _crashing_after(sent: int) -> Any:
    """A sender that delivers `sent` mails for real, then dies right after handing over the next one."""
    calls = []

    def send(settings: mail.MailSettings, message: Any) -> None:
        mail.send(settings, message)
        calls.append(message["To"])
        if len(calls) > sent:
            raise Crash()

    return send


def test_each_recipient_exactly_one_mail_per_change_across_a_crash(app: Any, live_worker: Any, smtp: Any,
                                                                   sql: Any, demo: dict[str, Any]) -> None:
    sql.get(User, demo["users"]["learner"]).language = "fr"
    _absent_three_times(sql, demo)
    service.recompute(sql)
    with contextlib.suppress(Crash):
        service.warn(sql, _settings(app), send=_crashing_after(1))
    sql.rollback()
    assert len(smtp.messages) == 2  # the worker died with the second mail handed over, not yet recorded
    with app.app_context():
        again = warn.delay().get(timeout=60)
        third = warn.delay().get(timeout=60)
    assert third["sent"] == 0 and again["sent"] == 3
    expected = ["learner0@example.com", "trainee0@acme.example", "teacher@demo.example", "admin@demo.example",
                "hr@acme.example"]
    assert sorted(r for rcpts, _m in smtp.messages for r in rcpts) == sorted(expected)
    staff = mail_text(smtp.to("admin@demo.example")[0])
    assert "Yacine Belkacem" in staff and "cannot reach the required rate" in staff  # both changes, one digest
    assert _subject(smtp.to("learner0@example.com")[0]).startswith("Votre assiduité dans Welding")
    contact = mail_text(smtp.to("hr@acme.example")[0])
    assert "Yacine Belkacem" not in contact  # only its own trainees


def test_the_organization_contact_hears_nothing_without_the_grant(app: Any, smtp: Any, sql: Any,
                                                                  demo: dict[str, Any]) -> None:
    sql.execute(delete(OrganizationGrant).where(OrganizationGrant.organization_id == demo["organization_id"],
                                                OrganizationGrant.permission == "corporate_reports.view"))
    _absent_three_times(sql, demo)
    service.nightly(sql, _settings(app))
    assert smtp.to("hr@acme.example") == [] and len(smtp.to("trainee0@acme.example")) == 1


def test_back_on_track_is_said_once(app: Any, smtp: Any, sql: Any, demo: dict[str, Any]) -> None:
    learner, _trainee = _absent_three_times(sql, demo)
    service.nightly(sql, _settings(app))
    sql.execute(delete(AttendanceRecord).where(AttendanceRecord.enrolment_id == learner,
                                               AttendanceRecord.status == "ABSENT"))
    sql.commit()
    service.nightly(sql, _settings(app))
    service.nightly(sql, _settings(app))
    subjects = [_subject(m) for m in smtp.to("learner0@example.com")]
    assert len(subjects) == 2 and subjects[1].startswith("Back on track")
    assert sql.scalar(select(User.id).where(User.email == "admin@demo.example"))  # staff: no recovery mail
    assert len(smtp.to("admin@demo.example")) == 1
