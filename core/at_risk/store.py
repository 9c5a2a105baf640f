"""The at-risk computation, set-based: every active trainee's standing in a fixed number of statements.

1. one statement computes each trainee's counts into a temporary table (marks joined to their sessions, a window
   function for the run of absences at the end, the planned sessions still without a mark);
2. one INSERT … SELECT records each change of level (date and reason) against the stored level;
3. one upsert stores the new standing; 4. one DELETE drops trainees who left (full runs or their cohort).

The same SQL runs on PostgreSQL and SQLite (3.25+: window functions, upserts); the only dialect difference,
rounding a margin down, sits in `_floor`. Rates are percents; "remaining" counts every planned
(not cancelled) session the trainee has no mark for yet, past registers not yet marked included, so an
unmarked register never makes anyone "cannot reach".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from core.models.base import UTCDateTime

CALC = "at_risk_calc"
WATCH_MARGIN = 2  # "watch" once a trainee may miss this many sessions or fewer


@dataclass(frozen=True)
class Defaults:
    """The global settings (AT_RISK_THRESHOLD as a percent, AT_RISK_CONSECUTIVE_MISSES): the default of
    every qualification, cohort and agreement that sets none."""

    required_rate: float = 80.0
    absence_limit: int = 3


@dataclass(frozen=True)
class RunCounts:
    trainees: int
    changes: int


def _floor(session: Session, expr: str) -> str:
    if session.get_bind().dialect.name == "postgresql":
        return f"CAST(FLOOR({expr}) AS INTEGER)"
    # SQLite has no FLOOR without its math extension: truncate, then step down for negative fractions.
    return f"(CAST({expr} AS INTEGER) - (({expr}) < CAST({expr} AS INTEGER)))"


def _scope(cohort_ids: list[int] | None, column: str) -> str:
    return f" AND {column} IN :cohort_ids" if cohort_ids is not None else ""


def _calc_sql(session: Session, cohort_ids: list[int] | None) -> str:
    total = "(COALESCE(a.counted, 0) + r.remaining)"
    reach = "(COALESCE(a.attended, 0) + r.remaining)"
    margin = _floor(session, f"(100.0 * {reach} - st.required_rate * {total}) / 100.0 + 0.000001")
    below_now = "(COALESCE(a.counted, 0) > 0 AND 100.0 * COALESCE(a.attended, 0) < st.required_rate * a.counted)"
    in_a_row = "(COALESCE(a.consecutive, 0) >= st.absence_limit)"
    return f"""
CREATE TEMPORARY TABLE {CALC} AS
WITH members AS (
  SELECT 'enrolment' AS member_type, e.id AS member_id, e.cohort_id AS cohort_id, e.enrolled_on AS since
  FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id
  WHERE e.status = 'ACTIVE' AND c.status = 'ACTIVE'{_scope(cohort_ids, 'c.id')}
  UNION ALL
  SELECT 'corporate_trainee', t.id, t.cohort_id, NULL
  FROM corporate_trainees t JOIN cohorts c ON c.id = t.cohort_id
  WHERE t.active = :yes AND c.status = 'ACTIVE'{_scope(cohort_ids, 'c.id')}
),
settings AS (
  SELECT c.id AS cohort_id, i.excused_counts_as AS excused,
         COALESCE(c.required_rate, a.required_rate, q.required_rate, :default_rate) AS required_rate,
         COALESCE(c.absence_limit, a.absence_limit, q.absence_limit, :default_limit) AS absence_limit
  FROM cohorts c JOIN institutions i ON i.id = c.institution_id
  LEFT JOIN qualifications q ON q.id = c.qualification_id
  LEFT JOIN corporate_agreements a ON a.id = c.agreement_id
  WHERE c.status = 'ACTIVE'{_scope(cohort_ids, 'c.id')}
),
marks AS (
  -- From the trainees to their marks (each table's own member index), so one cohort reads its rows only.
  SELECT m.member_type, m.member_id, m.cohort_id, m.since, r.status AS status, s.starts_at AS starts_at,
         s.session_date AS session_date
  FROM members m JOIN attendance_records r ON r.enrolment_id = m.member_id
  JOIN class_sessions s ON s.id = r.session_id
  WHERE m.member_type = 'enrolment' AND s.status <> 'CANCELLED'
  UNION ALL
  SELECT m.member_type, m.member_id, m.cohort_id, m.since, r.status, s.starts_at, s.session_date
  FROM members m JOIN corporate_attendance_records r ON r.trainee_id = m.member_id
  JOIN class_sessions s ON s.id = r.session_id
  WHERE m.member_type = 'corporate_trainee' AND s.status <> 'CANCELLED'
),
scored AS (
  SELECT mk.member_type, mk.member_id, mk.starts_at,
         CASE WHEN mk.since IS NULL OR mk.session_date >= mk.since THEN 1 ELSE 0 END AS planned_mark,
         CASE WHEN mk.status IN ('PRESENT', 'LATE') THEN 1
              WHEN mk.status = 'EXCUSED' AND st.excused = 'attended' THEN 1
              WHEN mk.status = 'EXCUSED' AND st.excused = 'not_counted' THEN NULL
              ELSE 0 END AS att,
         CASE WHEN mk.status = 'ABSENT' OR (mk.status = 'EXCUSED' AND st.excused = 'absent') THEN 1 ELSE 0 END
           AS missed,
         MAX(CASE WHEN mk.status IN ('PRESENT', 'LATE') OR (mk.status = 'EXCUSED' AND st.excused = 'attended')
                  THEN mk.starts_at END) OVER (PARTITION BY mk.member_type, mk.member_id) AS last_attended
  FROM marks mk JOIN settings st ON st.cohort_id = mk.cohort_id
),
agg AS (
  SELECT member_type, member_id, COUNT(att) AS counted, COALESCE(SUM(att), 0) AS attended,
         SUM(planned_mark) AS marked,
         SUM(CASE WHEN missed = 1 AND (last_attended IS NULL OR starts_at > last_attended) THEN 1 ELSE 0 END)
           AS consecutive
  FROM scored GROUP BY member_type, member_id
),
planned AS (
  SELECT m.member_type, m.member_id, COUNT(s.id) AS planned
  FROM members m JOIN class_sessions s ON s.cohort_id = m.cohort_id AND s.status <> 'CANCELLED'
       AND (m.since IS NULL OR s.session_date >= m.since){_scope(cohort_ids, 's.cohort_id')}
  GROUP BY m.member_type, m.member_id
),
remaining AS (
  SELECT m.member_type, m.member_id,
         CASE WHEN COALESCE(p.planned, 0) > COALESCE(a.marked, 0) THEN COALESCE(p.planned, 0) - COALESCE(a.marked, 0)
              ELSE 0 END AS remaining
  FROM members m
  LEFT JOIN planned p ON p.member_type = m.member_type AND p.member_id = m.member_id
  LEFT JOIN agg a ON a.member_type = m.member_type AND a.member_id = m.member_id
)
SELECT m.cohort_id, m.member_type, m.member_id, st.required_rate, st.absence_limit,
       COALESCE(a.attended, 0) AS attended, COALESCE(a.counted, 0) AS counted, r.remaining,
       COALESCE(a.consecutive, 0) AS consecutive_absences,
       CASE WHEN COALESCE(a.counted, 0) > 0 THEN 100.0 * a.attended / a.counted END AS rate,
       CASE WHEN {total} > 0 THEN 100.0 * {reach} / {total} END AS best_reachable_rate,
       {margin} AS margin,
       CASE WHEN {total} > 0 AND 100.0 * {reach} < st.required_rate * {total} THEN 'cannot_reach'
            WHEN {below_now} OR {in_a_row} THEN 'at_risk'
            WHEN {total} > 0 AND {margin} <= {WATCH_MARGIN} THEN 'watch'
            ELSE 'ok' END AS level,
       CASE WHEN {total} > 0 AND 100.0 * {reach} < st.required_rate * {total} THEN 'cannot_reach'
            WHEN {below_now} AND {in_a_row} THEN 'below_rate+consecutive_absences'
            WHEN {below_now} THEN 'below_rate'
            WHEN {in_a_row} THEN 'consecutive_absences'
            WHEN {total} > 0 AND {margin} <= {WATCH_MARGIN} THEN 'small_margin'
            ELSE 'on_track' END AS reason
FROM members m
JOIN settings st ON st.cohort_id = m.cohort_id
JOIN remaining r ON r.member_type = m.member_type AND r.member_id = m.member_id
LEFT JOIN agg a ON a.member_type = m.member_type AND a.member_id = m.member_id
"""


_CHANGES = f"""
INSERT INTO at_risk_level_changes (cohort_id, member_type, member_id, from_level, to_level, reason, rate, margin,
                                   changed_on, changed_at)
SELECT c.cohort_id, c.member_type, c.member_id, COALESCE(l.level, 'ok'), c.level, c.reason, c.rate, c.margin,
       :today, :now
FROM {CALC} c LEFT JOIN at_risk_levels l ON l.member_type = c.member_type AND l.member_id = c.member_id
WHERE COALESCE(l.level, 'ok') <> c.level
"""

_UPSERT = f"""
INSERT INTO at_risk_levels (cohort_id, member_type, member_id, level, rate, required_rate, best_reachable_rate, margin,
                            consecutive_absences, absence_limit, attended, counted, remaining, reason, computed_at,
                            changed_at)
SELECT cohort_id, member_type, member_id, level, rate, required_rate, best_reachable_rate, margin,
       consecutive_absences, absence_limit, attended, counted, remaining, reason, :now, :now
FROM {CALC} WHERE 1 = 1
ON CONFLICT (member_type, member_id) DO UPDATE SET
  cohort_id = excluded.cohort_id, rate = excluded.rate, required_rate = excluded.required_rate,
  best_reachable_rate = excluded.best_reachable_rate, margin = excluded.margin,
  consecutive_absences = excluded.consecutive_absences, absence_limit = excluded.absence_limit,
  attended = excluded.attended, counted = excluded.counted, remaining = excluded.remaining,
  reason = excluded.reason, computed_at = excluded.computed_at,
  changed_at = CASE WHEN at_risk_levels.level <> excluded.level THEN excluded.changed_at
                    ELSE at_risk_levels.changed_at END,
  level = excluded.level
"""


def recompute(session: Session, defaults: Defaults, now: dt.datetime, *,
              cohort_ids: Iterable[int] | None = None) -> RunCounts:
    """Recompute the standing of every active trainee (or those of `cohort_ids`) in the caller's transaction."""
    ids = sorted(set(cohort_ids)) if cohort_ids is not None else None
    if ids == []:
        return RunCounts(0, 0)
    params = {"default_rate": float(defaults.required_rate), "default_limit": int(defaults.absence_limit),
              "yes": True, "now": now, "today": now.date()}
    expanding = [bindparam("cohort_ids", expanding=True)] if ids is not None else []
    if ids is not None:
        params["cohort_ids"] = ids
    if ids is None and session.get_bind().dialect.name == "postgresql":
        # The full run sorts every mark once (the window): in memory rather than in temporary files.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    session.execute(text(f"DROP TABLE IF EXISTS {CALC}"))
    session.execute(text(_calc_sql(session, ids)).bindparams(*expanding), params)
    stamped = [bindparam("now", type_=UTCDateTime()), bindparam("today", type_=Date())]
    changes = session.execute(text(_CHANGES).bindparams(*stamped), params).rowcount or 0
    session.execute(text(_UPSERT).bindparams(stamped[0]), params)
    gone_scope = " AND cohort_id IN :cohort_ids" if ids is not None else ""
    session.execute(text(f"DELETE FROM at_risk_levels WHERE NOT EXISTS (SELECT 1 FROM {CALC} c WHERE "
                         f"c.member_type = at_risk_levels.member_type AND c.member_id = at_risk_levels.member_id)"
                         f"{gone_scope}").bindparams(*expanding), params)
    trainees = session.execute(text(f"SELECT COUNT(*) FROM {CALC}")).scalar_one()
    session.execute(text(f"DROP TABLE {CALC}"))
    return RunCounts(int(trainees), int(changes))
