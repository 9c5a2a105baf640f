"""The unmarked-at-close job on a real worker: a check-in closed with the institution's rule on makes the rest of
the register ABSENT (source auto, audited); run again, it changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.models import AttendanceRecord, AuditEvent, CheckInSettings, CheckInWindow
from tasks.checkin import mark_unmarked_at_close
from tests.attendance_factories import make_session, members

pytestmark = pytest.mark.clock_at("2026-11-17T12:40", zone="Africa/Algiers")


def _counts(sql, session_id: int) -> tuple[int, int]:
    sql.rollback()
    auto = sql.scalar(select(func.count()).select_from(AttendanceRecord).where(
        AttendanceRecord.session_id == session_id, AttendanceRecord.source == "auto"))
    audits = sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark"))
    return auto, audits


def test_the_worker_marks_the_unmarked_absent_at_close_and_a_second_run_changes_nothing(app, live_worker, sql,
                                                                                        demo):
    session_id = make_session(sql, demo["public_cohort_id"], dt.date(2026, 11, 17), dt.time(12), dt.time(13))
    at = dt.datetime(2026, 11, 17, 11, 0, tzinfo=dt.UTC)  # 12:00 in Algiers: opened at the start, closed at 12:30
    sql.add_all([CheckInSettings(institution_id=demo["institution_id"], absent_at_close=True),
                 CheckInWindow(session_id=session_id, opened_at=at, closes_at=at + dt.timedelta(minutes=30))])
    sql.commit()
    roster = len(members(sql, demo["public_cohort_id"]))
    with app.app_context():
        first = mark_unmarked_at_close.delay().get(timeout=60)
        after_first = _counts(sql, session_id)
        second = mark_unmarked_at_close.delay().get(timeout=60)
    assert (first["marked_absent"], after_first) == (roster, (roster, roster))
    assert (second["marked_absent"], _counts(sql, session_id)) == (0, after_first)
