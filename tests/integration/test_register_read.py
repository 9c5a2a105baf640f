"""Reading a register in one round trip (store.first_with_rosters) gives exactly what the roster query gives."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from core import clock
from core.attendance import reads, roster, service
from core.attendance.commands import MarkRegister
from core.db import is_postgres
from core.models import ClassSession, User
from tests.attendance_factories import make_session, members

DAY = dt.date(2026, 2, 2)


@pytest.fixture(autouse=True)
def _the_day_after(request):
    request.getfixturevalue("demo")
    with clock.frozen_at(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)):
        yield


def _statements(sql, read):
    sent: list[str] = []
    engine = sql.get_bind()
    listener = lambda _c, _cur, statement, *_a: sent.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return read(), sent
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.mark.parametrize("kind", ["public", "corporate"])
@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_the_one_trip_register_equals_the_roster_query(sql, demo, kind, language):
    admin = sql.get(User, demo["users"]["admin"])
    session_id = make_session(sql, demo[f"{kind}_cohort_id"], DAY)
    ids = members(sql, demo[f"{kind}_cohort_id"])
    key = "enrolment_id" if kind == "public" else "trainee_id"
    records = [{key: ids[0], "status": "PRESENT"}, {key: ids[1], "status": "LATE", "minutes_late": 7},
               {key: ids[2], "status": "ABSENT", "notes": "sick — مريض"}]
    service.mark(sql, admin, MarkRegister(session_id=session_id, records=records))
    sql.rollback()

    register, sent = _statements(sql, lambda: reads.get_register(sql, admin, session_id, language=language))
    expected = roster.load_register(sql, sql.get(ClassSession, session_id).cohort, session_id, language)

    assert register.rows == expected
    marked = {r.member_id: r for r in register.rows if r.status}
    assert {marked[i].status for i in ids[:3]} == {"PRESENT", "LATE", "ABSENT"}
    assert all(r.marked_at is not None and r.marked_at.tzinfo is not None and r.marked_by for r in marked.values())
    if is_postgres(sql):
        assert len(sent) == 1  # the session, the user's scope and the roster together


def test_a_session_that_is_not_there_is_not_found_in_one_trip(sql, demo):
    from core.errors import NotFound

    teacher = sql.get(User, demo["users"]["teacher"])
    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    with pytest.raises(NotFound):
        reads.get_register(sql, teacher, session_id + 10_000)
