"""The attendance SQL that differs by database, PostgreSQL and SQLite side by side: the register upsert (with its
audit rows), the row locks, and the nightly lock sweep. Services call these and never ask which database runs.

PostgreSQL writes a whole register in one statement (the rows as one JSON parameter, the audit rows in the same
statement) and sweeps locks set-based in chunks; SQLite (the embedded default) runs the same statement row by
row and sweeps with the cut-offs computed in Python (it has no time zones). SQLite serializes writers, so it
takes no row locks.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Select, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core import audit
from core.db import is_postgres
from core.models import ClassSession, Institution, LockSweep, SessionLockRecord
from core.models.base import UTCDateTime
from core.uow import unit_of_work

from . import marking

if TYPE_CHECKING:
    from .roster import RecordSpec

_TICK = dt.timedelta(microseconds=1)
# How a mark was made (the records' `source`): by staff on the register, by the learner checking in, or by the
# unmarked-at-close job.
STAFF, SELF_CHECK_IN, AUTO = "staff", "self_check_in", "auto"
SOURCES = (STAFF, SELF_CHECK_IN, AUTO)
LOCK_ADVISORY_KEY = 0x41_54_4C_4B  # "ATLK": one nightly sweep at a time


# ---------------------------------------------------------------------------------------------------------------
# Row locks
# ---------------------------------------------------------------------------------------------------------------

def locked(session: Session, stmt: Select[Any], *, read: bool = False, of: Any = None) -> Select[Any]:
    """`stmt` reading its rows FOR UPDATE (FOR SHARE with `read`) on PostgreSQL; as it is on SQLite."""
    return stmt.with_for_update(read=read, of=of) if is_postgres(session) else stmt


# ---------------------------------------------------------------------------------------------------------------
# Reading a session with its register
# ---------------------------------------------------------------------------------------------------------------

def first_with_rosters(session: Session, stmt: Select[Any], rosters: tuple[tuple[Select[Any], tuple[Any, ...]], ...]
                       ) -> tuple[Row[Any] | None, list[list[Any]] | None]:
    """`stmt`'s first row and, on PostgreSQL, each roster (a select correlated to `stmt`'s tables, with its order)
    as a JSON list of rows in that same row: one round trip instead of two. Elsewhere the rosters are None and the
    caller reads the one it needs."""
    if not is_postgres(session):
        return session.execute(stmt).first(), None
    aggregates = _json_rosters(rosters)
    row = session.execute(stmt.add_columns(*aggregates)).first()
    if row is None:
        return None, None
    cut = len(row) - len(aggregates)
    return row[:cut], [list(found) for found in row[cut:]]  # type: ignore[return-value]


@functools.lru_cache(maxsize=32)
def _json_rosters(rosters: tuple[tuple[Select[Any], tuple[Any, ...]], ...]) -> list[Any]:
    """Each roster as one JSON column, built once per set of rosters (the callers pass the same ones)."""
    return [_json_rows(roster, order) for roster, order in rosters]


def _json_rows(roster: Select[Any], order: tuple[Any, ...]) -> Any:
    rows = func.json_agg(aggregate_order_by(func.json_build_array(*roster.selected_columns), *order))
    return roster.with_only_columns(func.coalesce(rows, literal_column("'[]'::json"))).scalar_subquery()


# ---------------------------------------------------------------------------------------------------------------
# The register upsert
# ---------------------------------------------------------------------------------------------------------------

# The lock rule inside a writing statement: the write happens only if the session is open at that moment.
# `:before_cutoff` is computed from the session row (read under FOR SHARE, so it can't move meanwhile).
OPEN_SESSION_SQL = ("EXISTS (SELECT 1 FROM class_sessions AS gate WHERE gate.id = :session_id AND NOT gate.is_locked "
                    "AND gate.status <> 'CANCELLED' AND (:before_cutoff OR gate.relock_after > :now))")
NOW_PARAM = bindparam("now", type_=UTCDateTime())


def _upsert_sql(spec: RecordSpec, postgres: bool, audited: bool = False) -> str:
    date_col, date_val = (", record_date", ", :record_date") if spec.has_record_date else ("", "")
    changed = ("(r.status, r.minutes_late, r.notes) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late, "
               "EXCLUDED.notes)" if postgres else
               "NOT (r.status IS excluded.status AND r.minutes_late IS excluded.minutes_late "
               "AND r.notes IS excluded.notes)")
    # The lock rule is checked by the statement that writes: a session locked meanwhile gets nothing.
    if postgres:
        source = (f"SELECT i.member_id, :session_id{date_val}, i.status, i.minutes_late, i.notes, :actor, :now, "
                  f"i.next_version, :now, :now, CAST(:source AS varchar), CAST(:checked_in_at AS timestamptz) FROM i "
                  f"WHERE {OPEN_SESSION_SQL}")
    else:
        source = (f"SELECT :member_id, :session_id{date_val}, :status, :minutes_late, :notes, :actor, :now, "
                  f":next_version, :now, :now, :source, :checked_in_at WHERE {OPEN_SESSION_SQL}")
    # version guard: a row is updated only if it still has the version read under FOR UPDATE (for a row that
    # did not exist, 0 — so a row inserted concurrently is reported as a conflict, never silently overwritten).
    upsert = (
        f"INSERT INTO {spec.table} AS r ({spec.key}, session_id{date_col}, status, minutes_late, notes, "
        f"marked_by_id, marked_at, version, created_at, updated_at, source, checked_in_at) {source} "
        f"ON CONFLICT {spec.conflict_target} DO UPDATE SET status = EXCLUDED.status, "
        "minutes_late = EXCLUDED.minutes_late, notes = EXCLUDED.notes, marked_by_id = EXCLUDED.marked_by_id, "
        "marked_at = EXCLUDED.marked_at, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, "
        "source = EXCLUDED.source "
        f"WHERE r.version = EXCLUDED.version - 1 AND {changed} "
    )
    if not postgres:
        return upsert + f"RETURNING {spec.key}, id, version"
    # The whole register travels as one JSON parameter: PostgreSQL parses it far faster than the driver
    # can quote six text-format arrays of 500 elements each.
    inputs = ("WITH i AS (SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS i(member_id integer, "
              "status varchar, minutes_late integer, notes text, next_version integer, before jsonb)), ")
    if not audited:
        return inputs + f"u AS ({upsert} RETURNING {spec.key}, id, version) SELECT * FROM u"
    # The audit rows go in with the marks, in the same statement: one round trip for the whole register.
    return inputs + (
        f"u AS ({upsert} RETURNING {spec.key}, id, version, status, minutes_late, notes), "
        "a AS (INSERT INTO audit_events (institution_id, at, actor_id, action, entity_type, entity_id, before, after, "
        "context) SELECT CAST(:institution_id AS integer), :now, CAST(:actor AS integer), 'attendance.mark', "
        f"'{spec.entity_type}', u.id, i.before, "
        "jsonb_build_object('status', u.status, 'minutes_late', u.minutes_late, 'notes', u.notes), "
        f"jsonb_build_object('session_id', CAST(:session_id AS integer), '{spec.key}', u.{spec.key}, "
        f"'version', u.version, 'source', CAST(:source AS text)) FROM u JOIN i ON i.member_id = u.{spec.key}) "
        f"SELECT {spec.key}, id, version FROM u"
    )


def upsert_marks(session: Session, spec: RecordSpec, class_session: ClassSession, marks: Sequence[marking.Mark],
                 seen_versions: dict[int, int], actor_id: int | None, now: dt.datetime, open_params: dict[str, Any],
                 befores: dict[int, dict[str, Any] | None] | None = None, *, source: str = STAFF,
                 checked_in_at: dt.datetime | None = None) -> dict[int, tuple[int, int]]:
    """Write `marks`; returns {member_id: (record_id, version)} of the rows that changed. Nothing is written
    unless the session is open (`open_params`: locking.open_session_params) when the statement runs.

    `source` says how the marks were made (STAFF, SELF_CHECK_IN, AUTO); `checked_in_at` is set on rows inserted
    (a staff mark over a check-in keeps the time the learner checked in). A member absent from `seen_versions`
    is written only if they have no record yet (the version guard): that is how a check-in or the
    unmarked-at-close job never overrides a mark already made.

    With `befores` (member id → values before) every row changed gets an audit event (from → to): on PostgreSQL
    in the same statement (one round trip for the whole register), on SQLite right after it. The database links
    them into the institution's audit chain as they are inserted (core/audit_trail/chain.py)."""
    if not marks:
        return {}
    sql = text(_upsert_sql(spec, is_postgres(session), audited=befores is not None)).bindparams(
        NOW_PARAM, bindparam("checked_in_at", type_=UTCDateTime()))
    common: dict[str, Any] = {**open_params, "session_id": class_session.id, "actor": actor_id, "now": now,
                              "institution_id": class_session.institution_id,
                              "record_date": class_session.session_date, "source": source,
                              "checked_in_at": checked_in_at}
    if is_postgres(session):
        rows = [{"member_id": m.member_id, "status": m.status, "minutes_late": m.minutes_late, "notes": m.notes,
                 "next_version": seen_versions.get(m.member_id, 0) + 1,
                 "before": befores.get(m.member_id) if befores else None} for m in marks]
        params = {**common, "rows": orjson.dumps(rows).decode()}
        return {row[0]: (row[1], row[2]) for row in session.execute(sql, params)}
    written: dict[int, tuple[int, int]] = {}
    for m in marks:  # SQLite (embedded default): the same statement row by row, same guards
        row = session.execute(sql, {**common, "member_id": m.member_id, "status": m.status,
                                    "minutes_late": m.minutes_late, "notes": m.notes,
                                    "next_version": seen_versions.get(m.member_id, 0) + 1}).first()
        if row is not None:
            written[row[0]] = (row[1], row[2])
    if befores is not None:
        audit.record_many(session, [
            {"actor_id": actor_id, "action": "attendance.mark", "entity_type": spec.entity_type,
             "institution_id": class_session.institution_id, "entity_id": record_id,
             "before": befores.get(m.member_id), "after": marking.mark_values(m.values()),
             "context": {"session_id": class_session.id, spec.key: m.member_id, "version": version,
                         "source": source}}
            for m in marks if m.member_id in written
            for record_id, version in [written[m.member_id]]
        ])
    return written


# ---------------------------------------------------------------------------------------------------------------
# The nightly lock sweep
# ---------------------------------------------------------------------------------------------------------------

def sweep_locks(session: Session, now: dt.datetime, grace_hours: int, chunk: int) -> list[int]:
    """Record the lock of every session past its cut-off (see locking.lock_past_sessions)."""
    if is_postgres(session):
        return _sweep_pg(session, now, grace_hours, chunk)
    with unit_of_work(session):
        return _sweep_portable(session, now, grace_hours)


# One chunk, two statements. The first takes the one-sweep-at-a-time lock and finds the chunk's bounds:
# candidates are sessions ending in (lo, hi]; lo is the watermark (first chunk) or the last chunk's end; hi is
# the end of the `skip`+1-th session after lo (ties included) or the bound. Bounds known to the planner let the
# second find the chunk's sessions and their records by index (bounds computed inside one statement made it
# hash all records, ~600,000, every night). Its commit doesn't wait for the disk: a record lost in a crash is
# only the rule's lock not yet recorded (the rule holds regardless), and the watermark is lost with it, so the
# next sweep records it again.
_SWEEP_BOUNDS_PG = text("""
SELECT pg_try_advisory_xact_lock(:key), set_config('synchronous_commit', 'off', true), lo,
       COALESCE((SELECT ends_at FROM class_sessions WHERE ends_at > COALESCE(lo, '-infinity') AND ends_at <= :bound
                  ORDER BY ends_at OFFSET :skip LIMIT 1), :bound) AS hi
  FROM (SELECT COALESCE(CAST(:lo AS timestamptz), (SELECT swept_until FROM lock_sweeps WHERE id = 1)) AS lo) AS w
""")

# A session's cut-off is the end of its local day (in its institution's zone) + grace, or its end + grace if it
# ends later: never more than a day + grace after its end, so one that ended before `surely` is past it without
# the time-zone arithmetic (a backlog is mostly such sessions).
# Due ones not recorded yet get a record (a plain insert: only this sweep writes records, one at a time), those
# unlocked since their record get it renewed — a narrow table of its own, so class_sessions and its nine indexes
# are not touched — and the chunk one audit row listing them. Sessions behind the watermark that
# an admin unlocked until a time now past are recorded with the first chunk. The watermark moves to hi, or to
# just before the earliest candidate not due yet (its local day + grace is still ahead), and stays there.
_SWEEP_CHUNK_PG = text("""
WITH sessions AS (
    SELECT s.id, s.ends_at, s.is_locked, s.relock_after,
           (s.ends_at <= :surely OR GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone))
                                    + :grace <= :now) AS past_cutoff
      FROM class_sessions AS s JOIN institutions AS i ON i.id = s.institution_id
     WHERE s.ends_at > COALESCE(CAST(:lo AS timestamptz), '-infinity') AND s.ends_at <= :hi
    UNION ALL
    SELECT s.id, s.ends_at, s.is_locked, s.relock_after,
           GREATEST(s.ends_at, ((s.session_date + 1)::timestamp AT TIME ZONE i.time_zone)) + :grace <= :now
      FROM class_sessions AS s JOIN institutions AS i ON i.id = s.institution_id
     WHERE :first AND s.relock_after IS NOT NULL AND s.relock_after <= :now
       AND s.ends_at <= COALESCE(CAST(:lo AS timestamptz), '-infinity')
), due AS (
    SELECT c.id, r.session_id IS NOT NULL AS again
      FROM sessions AS c LEFT JOIN session_lock_records AS r ON r.session_id = c.id
     WHERE NOT c.is_locked AND c.past_cutoff AND (c.relock_after IS NULL OR c.relock_after <= :now)
       AND (r.session_id IS NULL OR r.locked_at < c.relock_after)
), inserted AS (
    INSERT INTO session_lock_records (session_id, locked_at) SELECT id, :now FROM due WHERE NOT again
    RETURNING session_id
), relocked AS (
    UPDATE session_lock_records AS r SET locked_at = :now FROM due WHERE due.again AND r.session_id = due.id
    RETURNING r.session_id
), ids AS (
    SELECT coalesce(array_agg(session_id ORDER BY session_id), '{}') AS ids
      FROM (SELECT session_id FROM inserted UNION ALL SELECT session_id FROM relocked) AS recorded
), audited AS (
    INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context)
    SELECT :now, NULL, 'session.auto_lock', 'lock_sweep', 1, NULL,
           jsonb_build_object('locked', cardinality(ids.ids), 'session_ids', to_jsonb(ids.ids)),
           jsonb_build_object('grace_hours', CAST(:grace_hours AS integer), 'ends_after', CAST(:lo AS timestamptz),
                              'ends_until', CAST(:hi AS timestamptz))
      FROM ids WHERE cardinality(ids.ids) > 0
), waiting AS (
    SELECT min(ends_at) AS at FROM sessions
     WHERE NOT past_cutoff AND NOT is_locked AND (relock_after IS NULL OR relock_after <= :now)
), moved AS (
    INSERT INTO lock_sweeps (id, swept_until, last_run_at, last_locked)
    SELECT 1, COALESCE(waiting.at - interval '1 microsecond', CAST(:hi AS timestamptz)), :now, cardinality(ids.ids)
      FROM waiting, ids
        ON CONFLICT (id) DO UPDATE SET
           swept_until = CASE WHEN :held THEN lock_sweeps.swept_until ELSE EXCLUDED.swept_until END,
           last_run_at = EXCLUDED.last_run_at,
           last_locked = CASE WHEN :first THEN EXCLUDED.last_locked
                              ELSE lock_sweeps.last_locked + EXCLUDED.last_locked END
)
SELECT ids.ids, waiting.at FROM ids, waiting
""")


def _sweep_pg(session: Session, now: dt.datetime, grace_hours: int, chunk: int) -> list[int]:
    bound = now - dt.timedelta(hours=grace_hours)  # nothing ending after this can be past its cut-off
    params = {"now": now, "bound": bound, "grace": dt.timedelta(hours=grace_hours), "grace_hours": grace_hours,
              "skip": chunk - 1, "surely": bound - dt.timedelta(days=1)}
    ids: list[int] = []
    lo: dt.datetime | None = None
    held = False  # a candidate not due yet was seen: the watermark stays before it
    first = True
    while first or (lo is not None and lo < bound):
        with unit_of_work(session):  # each chunk on its own: marks elsewhere never wait for the whole backlog
            # One sweep at a time, chunk by chunk: a sweep that finds another one running leaves the rest to it.
            mine, _, start, hi = session.execute(_SWEEP_BOUNDS_PG, {**params, "key": LOCK_ADVISORY_KEY, "lo": lo}).one()
            if not mine:
                break
            locked, waiting = session.execute(_SWEEP_CHUNK_PG, {**params, "lo": start, "hi": hi, "first": first,
                                                                "held": held}).one()
        ids += locked
        held = held or waiting is not None
        lo, first = hi, False
    return ids


def _sweep_portable(session: Session, now: dt.datetime, grace_hours: int) -> list[int]:
    """SQLite (embedded default): the same rule and watermark, cut-offs computed in Python (no time zones)."""
    grace = dt.timedelta(hours=grace_hours)
    sweep = session.get(LockSweep, 1) or LockSweep(id=1, last_locked=0)
    session.add(sweep)
    start = sweep.swept_until
    stmt = (select(ClassSession.id, ClassSession.session_date, ClassSession.ends_at, ClassSession.is_locked,
                   ClassSession.relock_after, Institution.time_zone, SessionLockRecord.locked_at)
            .join(Institution, Institution.id == ClassSession.institution_id)
            .outerjoin(SessionLockRecord, SessionLockRecord.session_id == ClassSession.id)
            .where(ClassSession.ends_at <= now - grace))
    if start is not None:
        stmt = stmt.where((ClassSession.ends_at > start) | ClassSession.relock_after.is_not(None))
    due, waiting = [], []
    for sid, day, ends_at, is_locked, relock_after, zone, recorded_at in session.execute(stmt):
        if is_locked or (relock_after is not None and relock_after > now):
            continue
        if marking.auto_lock_at(day, ends_at, zone, grace_hours) > now:
            waiting.append(ends_at)
        elif recorded_at is None or (relock_after is not None and recorded_at < relock_after):
            due.append(sid)
    for sid in due:
        session.merge(SessionLockRecord(session_id=sid, locked_at=now))
    if due:
        audit.record(session, actor_id=None, action="session.auto_lock", entity_type="lock_sweep", entity_id=1,
                     after={"locked": len(due), "session_ids": sorted(due)}, context={"grace_hours": grace_hours})
    until = min(waiting) - _TICK if waiting else now - grace
    sweep.swept_until = max(until, start) if start else until
    sweep.last_run_at, sweep.last_locked = now, len(due)
    return sorted(due)
