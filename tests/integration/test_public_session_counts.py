"""Public sessions' counts are kept by the database in the marks' own transaction (as corporate ones are), and
the cohort list's rate, read from them, equals the rate counted record by record, enrolment dates included."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from core import clock
from core.attendance import service as attendance
from core.attendance.commands import MarkRegister
from core.models import AttendanceRecord, ClassSession, Enrolment, PublicSessionCounts, User
from tests.attendance_factories import make_session, members


def _from_records(sql) -> dict[int, tuple[int, int, int, int]]:
    rows = sql.execute(select(AttendanceRecord.session_id, AttendanceRecord.status, func.count())
                       .where(AttendanceRecord.session_id.is_not(None))
                       .group_by(AttendanceRecord.session_id, AttendanceRecord.status)).all()
    out: dict[int, list[int]] = {}
    order = ["PRESENT", "LATE", "ABSENT", "EXCUSED"]
    for session_id, status, count in rows:
        out.setdefault(session_id, [0, 0, 0, 0])[order.index(status.value)] = count
    return {k: tuple(v) for k, v in out.items()}


def _kept(sql) -> dict[int, tuple[int, int, int, int]]:
    sql.expire_all()
    return {c.session_id: (c.present, c.late, c.absent, c.excused) for c in sql.scalars(select(PublicSessionCounts))
            if (c.present, c.late, c.absent, c.excused) != (0, 0, 0, 0)}


def _mark(sql, user, session_id: int, statuses: list[str]) -> None:
    s = sql.get(ClassSession, session_id)
    with clock.frozen_at(s.ends_at + dt.timedelta(minutes=5)):  # on the day, before the cut-off
        attendance.mark(sql, user, MarkRegister(session_id=session_id, records=[
            {"enrolment_id": e, "status": st} for e, st in zip(members(sql, s.cohort_id), statuses, strict=False)]))


def test_counts_follow_the_marks_and_leave_daily_records_out(sql, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    session_id = make_session(sql, demo["public_cohort_id"], day, dt.time(18), dt.time(19))
    assert sql.scalar(select(func.count()).select_from(AttendanceRecord)
                      .where(AttendanceRecord.session_id.is_(None))) > 0  # the demo's legacy daily records
    _mark(sql, teacher, session_id, ["PRESENT"] * 8 + ["ABSENT"] * 4)
    assert _kept(sql) == _from_records(sql) == {session_id: (8, 0, 4, 0)}
    _mark(sql, teacher, session_id, ["LATE"] * 2 + ["PRESENT"] * 6 + ["EXCUSED"] * 4)
    assert _kept(sql) == _from_records(sql) == {session_id: (6, 2, 0, 4)}
    sql.execute(delete(AttendanceRecord).where(AttendanceRecord.status == "EXCUSED"))
    sql.commit()
    assert _kept(sql) == _from_records(sql) == {session_id: (6, 2, 0, 0)}


def test_the_list_rate_equals_the_rate_counted_record_by_record(client, api, sql, demo):
    h = api("admin")
    admin = sql.get(User, demo["users"]["admin"])
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=3)
    first = make_session(sql, demo["public_cohort_id"], day, dt.time(8), dt.time(9))
    second = make_session(sql, demo["public_cohort_id"], day + dt.timedelta(days=1), dt.time(8), dt.time(9))
    _mark(sql, admin, first, ["PRESENT"] * 6 + ["ABSENT"] * 6)
    _mark(sql, admin, second, ["LATE"] * 10 + ["EXCUSED", "ABSENT"])
    leaver = sql.scalars(select(Enrolment.id).where(Enrolment.cohort_id == demo["public_cohort_id"])
                         .order_by(Enrolment.id)).first()  # PRESENT then LATE: the second must not count
    r = client.post(f"/api/enrolments/{leaver}/withdraw", headers=h,
                    json={"date": (day + dt.timedelta(days=1)).isoformat()})
    assert r.status_code == 200, r.json
    detail = client.get(f"/api/institution/cohorts/{demo['public_cohort_id']}", headers=h).json
    attended = sum(m["attended"] for m in detail["members"])
    counted = sum(m["counted"] for m in detail["members"])
    (listed,) = [c for c in client.get("/api/institution/cohorts?type=public", headers=h).json["items"]
                 if c["id"] == demo["public_cohort_id"]]
    assert (attended, counted) == (6 + 9, 12 + 10)  # the leaver's LATE on the second session is left out
    assert listed["attendance_rate"] == round(attended / counted, 4) == detail["attendance_rate"]
