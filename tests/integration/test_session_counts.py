"""The per-session counts the portal reads are kept exact by the database itself, in the marks' own
transaction: inserted, changed, resent, deleted marks and deleted sessions."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from core import clock
from core.attendance import service as attendance
from core.attendance.commands import MarkRegister
from core.models import ClassSession, CorporateAttendanceRecord, CorporateSessionCounts, User
from tests.attendance_factories import make_session, members


def _open_session(sql, demo, hour: int) -> int:
    """Yesterday evening: started, and its cut-off (end of today, with the default grace) still ahead."""
    import datetime as dt

    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    return make_session(sql, demo["corporate_cohort_id"], day, dt.time(hour), dt.time(hour + 1))


def _from_records(sql) -> dict[int, tuple[int, int, int, int]]:
    rows = sql.execute(select(CorporateAttendanceRecord.session_id, CorporateAttendanceRecord.status, func.count())
                       .group_by(CorporateAttendanceRecord.session_id, CorporateAttendanceRecord.status)).all()
    out: dict[int, list[int]] = {}
    order = ["PRESENT", "LATE", "ABSENT", "EXCUSED"]
    for session_id, status, count in rows:
        out.setdefault(session_id, [0, 0, 0, 0])[order.index(status.value)] = count
    return {k: tuple(v) for k, v in out.items()}


def _kept(sql) -> dict[int, tuple[int, int, int, int]]:
    sql.expire_all()
    return {c.session_id: (c.present, c.late, c.absent, c.excused)
            for c in sql.scalars(select(CorporateSessionCounts))
            if (c.present, c.late, c.absent, c.excused) != (0, 0, 0, 0)}


def _mark(sql, teacher, session_id, statuses: list[str]) -> None:
    trainees = members(sql, sql.get(ClassSession, session_id).cohort_id)
    attendance.mark(sql, teacher, MarkRegister(session_id=session_id, records=[
        {"trainee_id": t, "status": s} for t, s in zip(trainees, statuses, strict=False)]))


def test_counts_follow_every_change_to_the_marks(sql, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    session_id = _open_session(sql, demo, 18)
    _mark(sql, teacher, session_id, ["PRESENT"] * 6 + ["ABSENT"] * 4)
    assert _kept(sql) == _from_records(sql) == {session_id: (6, 0, 4, 0)}
    _mark(sql, teacher, session_id, ["LATE"] * 2 + ["PRESENT"] * 4 + ["EXCUSED", "ABSENT"])
    assert _kept(sql) == _from_records(sql) == {session_id: (4, 2, 3, 1)}
    _mark(sql, teacher, session_id, ["LATE"] * 2 + ["PRESENT"] * 4 + ["EXCUSED", "ABSENT"])  # resent, unchanged
    assert _kept(sql) == {session_id: (4, 2, 3, 1)}
    sql.execute(delete(CorporateAttendanceRecord).where(CorporateAttendanceRecord.status == "ABSENT"))
    sql.commit()
    assert _kept(sql) == _from_records(sql) == {session_id: (4, 2, 0, 1)}


def test_marks_of_two_sessions_and_a_deleted_session(sql, demo):
    teacher = sql.get(User, demo["users"]["teacher"])
    first, second = _open_session(sql, demo, 18), _open_session(sql, demo, 20)
    _mark(sql, teacher, first, ["PRESENT"] * 10)
    _mark(sql, teacher, second, ["ABSENT"] * 10)
    assert _kept(sql) == _from_records(sql)
    sql.execute(delete(ClassSession).where(ClassSession.id == first))
    sql.commit()
    assert _kept(sql) == _from_records(sql) == {second: (0, 0, 10, 0)}
