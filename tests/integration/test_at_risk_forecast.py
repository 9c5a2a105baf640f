"""The forecast against hand-worked cases (required 80 %, absence limit 3 unless said otherwise).

A trainee's total is the sessions counted so far plus the planned sessions still without a mark; the margin is
how many of those may still be missed: floor(attended + remaining - 80 % × total)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.at_risk import store
from core.models import (
    AtRiskLevel,
    AtRiskLevelChange,
    AttendanceRecord,
    ClassSession,
    Cohort,
    Enrolment,
    Institution,
    Learner,
    Qualification,
    SessionStatus,
)

NOW = dt.datetime(2026, 11, 17, 9, 30, tzinfo=dt.UTC)
DEFAULTS = store.Defaults(required_rate=80.0, absence_limit=3)


def _cohort(sql: Any, sessions: int, excused: str = "not_counted", **cohort: Any) -> tuple[Cohort, list[ClassSession]]:
    inst = Institution(name="Forecast", slug=f"forecast-{excused}", time_zone="UTC", excused_counts_as=excused)
    sql.add(inst)
    sql.flush()
    qual = Qualification(institution_id=inst.id, code="Q1", title="Welding")
    sql.add(qual)
    sql.flush()
    row = Cohort(institution_id=inst.id, qualification_id=qual.id, name="C1", **cohort)
    sql.add(row)
    sql.flush()
    return row, [_session(sql, row, i) for i in range(sessions)]


def _session(sql: Any, cohort: Cohort, i: int) -> ClassSession:
    day = dt.date(2026, 11, 2) + dt.timedelta(days=i)
    start = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    s = ClassSession(institution_id=cohort.institution_id, cohort_id=cohort.id, session_date=day,
                     start_time=dt.time(9), end_time=dt.time(12), starts_at=start,
                     ends_at=start + dt.timedelta(hours=3))
    sql.add(s)
    sql.flush()
    return s


def _learner(sql: Any, cohort: Cohort, sessions: list[ClassSession], statuses: str) -> Enrolment:
    """`statuses`: one letter per session from the first (P present, L late, A absent, E excused)."""
    person = Learner(institution_id=cohort.institution_id, full_name="Amina")
    sql.add(person)
    sql.flush()
    enrolment = Enrolment(learner_id=person.id, cohort_id=cohort.id, qualification_id=cohort.qualification_id)
    sql.add(enrolment)
    sql.flush()
    names = {"P": "PRESENT", "L": "LATE", "A": "ABSENT", "E": "EXCUSED"}
    for s, letter in zip(sessions, statuses, strict=False):
        sql.add(AttendanceRecord(enrolment_id=enrolment.id, session_id=s.id, record_date=s.session_date,
                                 status=names[letter]))
    sql.flush()
    return enrolment


def _standing(sql: Any, enrolment: Enrolment) -> tuple[str, float | None, float | None, int, int]:
    store.recompute(sql, DEFAULTS, NOW)
    level = sql.scalars(select(AtRiskLevel).where(AtRiskLevel.member_type == "enrolment",
                                                  AtRiskLevel.member_id == enrolment.id)).one()
    sql.refresh(level)
    return level.level, level.rate, level.best_reachable_rate, level.margin, level.consecutive_absences


def test_two_absences_left_is_watch(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 10)
    enrolment = _learner(sql, cohort, sessions, "PPPPP")
    # 5 attended + 5 remaining of 10; 80 % of 10 is 8: two may still be missed.
    assert _standing(sql, enrolment) == ("watch", 100.0, 100.0, 2, 0)


def test_three_absences_left_is_ok(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 15)
    enrolment = _learner(sql, cohort, sessions, "PPPPP")
    assert _standing(sql, enrolment) == ("ok", 100.0, 100.0, 3, 0)


def test_cannot_reach_any_more(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 10)
    enrolment = _learner(sql, cohort, sessions, "PAPAA")
    # 2 attended + 5 remaining = 7 of 10 < 8: the best reachable is 70 %, one session short.
    assert _standing(sql, enrolment) == ("cannot_reach", 40.0, 70.0, -1, 2)


@pytest.mark.parametrize(("excused", "expected"), [
    ("attended", ("watch", 100.0, 100.0, 2, 0)),      # 5 of 5 so far, 10 of 10 reachable
    ("not_counted", ("watch", 100.0, 100.0, 1, 0)),   # 3 of 3 so far, total 8: 8 - 6.4 → 1
    ("absent", ("at_risk", 60.0, 80.0, 0, 2)),        # 3 of 5 so far, 8 of 10 reachable: exactly 80 %
])
def test_excused_counts_as_the_institution_says(sql: Any, excused: str, expected: tuple) -> None:
    cohort, sessions = _cohort(sql, 10, excused)
    enrolment = _learner(sql, cohort, sessions, "PPPEE")
    assert _standing(sql, enrolment) == expected


def test_consecutive_absences_count_from_the_last_attended_session(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 40)
    enrolment = _learner(sql, cohort, sessions, "PAAPPPPPPPPAEAA")  # the EXCUSED (not counted) keeps the run
    level, _rate, _best, _margin, consecutive = _standing(sql, enrolment)
    assert (level, consecutive) == ("at_risk", 3)


def test_sessions_added_and_cancelled_later_move_the_forecast(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 10)
    enrolment = _learner(sql, cohort, sessions, "PPPPP")
    assert _standing(sql, enrolment)[0::3] == ("watch", 2)
    added = [_session(sql, cohort, 10 + i) for i in range(5)]
    assert _standing(sql, enrolment)[0::3] == ("ok", 3)   # 15 planned: 15 - 12 = 3
    for s in added + sessions[7:]:
        s.status = SessionStatus.CANCELLED
    sql.flush()
    assert _standing(sql, enrolment)[0::3] == ("watch", 1)  # 7 planned: 7 - 5.6 → 1
    changes = sql.execute(select(AtRiskLevelChange.from_level, AtRiskLevelChange.to_level, AtRiskLevelChange.reason)
                          .order_by(AtRiskLevelChange.id)).all()
    assert changes == [("ok", "watch", "small_margin"), ("watch", "ok", "on_track"), ("ok", "watch", "small_margin")]


def test_overrides_cohort_then_agreement_then_qualification_then_global(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 10)
    enrolment = _learner(sql, cohort, sessions, "PPPAA")   # 3 of 5 now, 8 of 10 reachable
    assert _standing(sql, enrolment)[0] == "at_risk"
    sql.get(Qualification, cohort.qualification_id).required_rate = 50.0
    sql.flush()
    assert _standing(sql, enrolment)[0::3] == ("ok", 3)      # 8 - 5 = 3
    cohort.required_rate = 90.0
    sql.flush()
    assert _standing(sql, enrolment)[0] == "cannot_reach"    # 8 < 9


def test_a_second_run_changes_nothing(sql: Any) -> None:
    cohort, sessions = _cohort(sql, 10)
    _learner(sql, cohort, sessions, "PAPAA")
    first = store.recompute(sql, DEFAULTS, NOW)
    second = store.recompute(sql, DEFAULTS, NOW)
    assert (first.trainees, first.changes, second.changes) == (1, 1, 0)


def test_the_chart_data_is_the_rate_by_week_so_far(sql: Any) -> None:
    from core.at_risk import forecast

    cohort, sessions = _cohort(sql, 10)           # Monday 2 November onwards, one session a day
    _learner(sql, cohort, sessions, "PPPAAPPA")   # week of 2 Nov: 5 of 7; week of 9 Nov: 0 of 1
    weeks = forecast.weekly(sql, cohort)
    assert [(w.starts_on.isoformat(), w.attended, w.counted, round(w.cumulative_rate, 3)) for w in weeks] == [
        ("2026-11-02", 5, 7, 0.714), ("2026-11-09", 0, 1, 0.625)]
    assert forecast.required_rate(sql, cohort) == 80.0
