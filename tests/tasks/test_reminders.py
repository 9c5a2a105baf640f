"""Reminder mails through a real SMTP server on loopback (aiosmtpd), sent by a real worker."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core import clock
from core.attendance import service as attendance
from core.attendance.commands import LockSession, MarkRegister
from core.models import ReminderSent, ReminderStatus, User
from core.reminders import service as reminders
from tasks.reminders import send_at_risk_digests, send_unmarked_reminders
from tests.attendance_factories import make_session, members
from tests.mailbox import mail_text


def _reminder_rows(sql) -> list[ReminderSent]:
    sql.rollback()
    return list(sql.scalars(select(ReminderSent).order_by(ReminderSent.id)))


@pytest.fixture
def open_registers(sql, demo) -> list[int]:
    """Two of the teacher's registers from yesterday, ended and unmarked, their cut-off still ahead (the demo's
    own past sessions may all be past theirs, depending on the weekday)."""
    yesterday = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    return [make_session(sql, demo["public_cohort_id"], yesterday, dt.time(h), dt.time(h + 1),
                         instructor_id=demo["users"]["teacher"]) for h in (6, 7)]


def test_each_facilitator_gets_one_mail_listing_their_unmarked_registers(app, live_worker, smtp, sql, demo,
                                                                         open_registers):
    with app.app_context():
        result = send_unmarked_reminders.delay().get(timeout=60)
    rows = _reminder_rows(sql)
    assert rows and {r.recipient_id for r in rows} == {demo["users"]["teacher"]}
    assert result["sent"] == 1
    mails = smtp.to("teacher@demo.example")
    assert len(mails) == 1 and len(smtp.messages) == 1
    body = mail_text(mails[0])
    for row in rows:
        assert f"http://testserver/institution/attendance/sessions/{row.session_id}" in body
    assert "Locks " in body and "unmarked" in body
    assert mails[0]["Subject"] == f"{len(rows)} registers still to mark"


def test_a_reminder_is_never_sent_twice(app, live_worker, smtp, sql, demo, open_registers):
    with app.app_context():
        send_unmarked_reminders.delay().get(timeout=60)
        second = send_unmarked_reminders.delay().get(timeout=60)
    assert second["sent"] == 0 and len(smtp.messages) == 1
    assert {r.status for r in _reminder_rows(sql)} == {ReminderStatus.SENT}


def test_marked_or_locked_sessions_are_not_reminded(app, smtp, sql, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    admin = sql.get(User, demo["users"]["admin"])
    yesterday = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    marked, locked, open_ = (make_session(sql, demo["public_cohort_id"], yesterday, dt.time(h), dt.time(h + 1))
                             for h in (17, 18, 19))
    past_cut_off = make_session(sql, demo["public_cohort_id"], yesterday - dt.timedelta(days=9), dt.time(17),
                                dt.time(18))
    attendance.mark(sql, teacher, MarkRegister(session_id=marked, records=[], mark_all_present=True))
    attendance.lock_session(sql, admin, locked, LockSession(reason="closed"))
    reminders.plan_unmarked_reminders(sql)
    reminded = {r.session_id for r in _reminder_rows(sql)}
    assert open_ in reminded and not reminded & {marked, locked, past_cut_off}


def test_a_failing_smtp_server_is_retried_with_backoff(app, live_worker, smtp, sql, demo, open_registers):
    smtp.fail_next = 2
    with app.app_context():
        result = send_unmarked_reminders.delay().get(timeout=90)
    assert result["sent"] == 1 and len(smtp.to("teacher@demo.example")) == 1
    rows = _reminder_rows(sql)
    assert {r.status for r in rows} == {ReminderStatus.SENT} and {r.attempts for r in rows} == {3}


def test_one_recipients_failure_does_not_block_the_others(app, smtp, sql, demo, open_registers):
    teacher2 = demo["users"]["teacher2"]
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    own = make_session(sql, demo["public_cohort_id"], day, dt.time(18), dt.time(19), instructor_id=teacher2)
    smtp.refuse = {"teacher2@demo.example"}
    with app.app_context():
        from tasks import mail_settings

        report = reminders.send_unmarked_reminders(sql, mail_settings(), "http://testserver")
    assert report.sent == [demo["users"]["teacher"]] and report.failed == [teacher2]
    assert len(smtp.to("teacher@demo.example")) == 1
    failed = [r for r in _reminder_rows(sql) if r.recipient_id == teacher2]
    assert [(r.session_id, r.status) for r in failed] == [(own, ReminderStatus.FAILED)]
    assert "mailbox unavailable" in failed[0].last_error
    # The server accepts again: the next run sends teacher2's reminder, and nothing to teacher again.
    smtp.refuse = set()
    with app.app_context():
        again = reminders.send_unmarked_reminders(sql, mail_settings(), "http://testserver")
    assert again.sent == [teacher2] and len(smtp.to("teacher2@demo.example")) == 1
    assert len(smtp.to("teacher@demo.example")) == 1


def _absent_in_new_sessions(sql, demo, enrolment_id: int, days: list[int], status: str = "ABSENT") -> None:
    teacher = sql.get(User, demo["users"]["teacher"])
    today = clock.today_in("Africa/Algiers")
    for offset in days:
        day = today - dt.timedelta(days=offset)
        sid = make_session(sql, demo["public_cohort_id"], day, dt.time(19), dt.time(20))
        with clock.frozen_at(clock.local_to_utc(day, dt.time(21), "Africa/Algiers")):  # marked that evening
            attendance.mark(sql, teacher, MarkRegister(session_id=sid,
                                                       records=[{"enrolment_id": enrolment_id, "status": status}]))


def test_at_risk_digest_reports_each_crossing_once(app, live_worker, smtp, sql, demo):
    learner = members(sql, demo["public_cohort_id"])[0]
    _absent_in_new_sessions(sql, demo, learner, [3, 2, 1])
    with app.app_context():
        first = send_at_risk_digests.delay().get(timeout=60)
        second = send_at_risk_digests.delay().get(timeout=60)
    assert first["sent"] == 1 and second["sent"] == 0
    mails = smtp.to("admin@demo.example")
    assert len(mails) == 1 and len(smtp.messages) == 1
    body = mail_text(mails[0])
    assert "Yacine Belkacem" in body and "missed the last 3 sessions" in body
    assert mails[0]["Subject"] == "1 trainee at risk"


def test_a_trainee_who_recovers_and_falls_again_is_reported_again(app, smtp, sql, demo):
    from core.models import AtRiskFlag

    learner = members(sql, demo["public_cohort_id"])[0]
    with app.app_context():
        from tasks import mail_settings

        settings = mail_settings()
    _absent_in_new_sessions(sql, demo, learner, [9, 8, 7])
    reminders.send_at_risk_digests(sql, settings, threshold=0.5, consecutive=3)
    _absent_in_new_sessions(sql, demo, learner, [6, 5, 4, 3], status="PRESENT")  # 4/7 ≥ 50%, streak broken
    reminders.send_at_risk_digests(sql, settings, threshold=0.5, consecutive=3)
    _absent_in_new_sessions(sql, demo, learner, [2, 1, 0])                       # 4/10 < 50%, 3 misses
    reminders.send_at_risk_digests(sql, settings, threshold=0.5, consecutive=3)
    assert len(smtp.to("admin@demo.example")) == 2
    sql.rollback()
    flags = sql.execute(select(AtRiskFlag.cleared_at.is_(None), func.count()).group_by(
        AtRiskFlag.cleared_at.is_(None))).all()
    assert dict(flags) == {True: 1, False: 1}
