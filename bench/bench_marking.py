"""Marking and auto-lock speed on PostgreSQL. Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_marking.py [--db attendance_bench_marking]
        [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--only mark|lock|read|load] [--requests 200] [--smoke]

1. Bulk mark of a 500-trainee register through the API (gunicorn on loopback, Bearer token): latency over
   200 requests where every request changes all 500 marks, and 200 resends of an unchanged register; versus
   two bare statements on one connection, in the same run: the upsert alone (no audit rows), and an upsert
   that writes the same audit rows as the API (BARE_AUDITED_UPSERT, written here). Targets: server time
   p95 ≤ 40 ms, p50 ≤ 2.5× the bare upsert with audit rows.
2. Auto-lock (recording the lock the rule already enforces) on 1,000,000 sessions, measured in the steady state
   (VACUUM ANALYZE of every table the bench seeded, as autovacuum leaves them): a normal night (~1,000 due,
   ≤ 20 ms), nothing due (≤ 5 ms), a backlog of 600,000 swept in chunks while another register is being marked;
   each against the bare INSERT of the same records. `--smoke` (CI) runs it on 14,000 sessions.
3. 20 facilitators marking 20 different 100-trainee registers concurrently for 30 s: errors, lost marks,
   throughput, p95.
4. Register read: wrk (10 connections, gunicorn with 2 workers) on /api/health, /api/me and a 100-trainee
   register (Bearer token), req/s and the share of the trivial endpoint's throughput.

Server time is the app's own Server-Timing header (auth, validation, SQL, JSON); round trip adds the client's
request encoding, gunicorn and loopback.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from common import Run, Server, bench_parser, build_app, pct, start  # bench/common.py (scripts run from bench/)
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUSES = ["PRESENT", "ABSENT", "EXCUSED", "LATE"]


def server_ms(response: requests.Response) -> float:
    """The app's own time, from its Server-Timing header (app;dur=…)."""
    return float(response.headers["Server-Timing"].split("dur=")[1])


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.1f}  p95 {pct(values, 95):7.1f}  p99 {pct(values, 99):7.1f} ms"


# --- setup -----------------------------------------------------------------------------------------------------

def seed_registers(session: Session, sizes: list[int]) -> dict[str, Any]:
    """One institution; per register: a teacher, a cohort with `size` learners, one session yesterday evening."""
    from core import clock
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import (
        ClassSession,
        Cohort,
        CohortType,
        Enrolment,
        Institution,
        Learner,
        Role,
        User,
    )

    inst = session.query(Institution).filter_by(slug="bench").one_or_none()
    if inst is None:
        inst = Institution(name="Bench", slug="bench", time_zone="Africa/Algiers")
        session.add(inst)
        session.flush()
    day = clock.today_in(inst.time_zone) - dt.timedelta(days=1)
    registers = []
    for n, size in enumerate(sizes):
        suffix = f"{len(session.query(User).all())}-{n}"
        teacher = User(email=f"t{suffix}@bench.example", full_name=f"Teacher {suffix}", role=Role.TEACHER,
                       institution_id=inst.id)
        cohort = Cohort(institution_id=inst.id, name=f"Bench cohort {suffix}", cohort_type=CohortType.PUBLIC)
        cohort.facilitators.append(teacher)
        session.add_all([teacher, cohort])
        session.flush()
        learners = [{"institution_id": inst.id, "full_name": f"Learner {suffix}-{i:04d}"} for i in range(size)]
        ids = session.execute(Learner.__table__.insert().returning(Learner.__table__.c.id), learners).scalars().all()
        enrol = session.execute(Enrolment.__table__.insert().returning(Enrolment.__table__.c.id),
                                [{"learner_id": i, "cohort_id": cohort.id, "status": "ACTIVE"} for i in ids]
                                ).scalars().all()
        cs = ClassSession(institution_id=inst.id, cohort_id=cohort.id, session_date=day, start_time=dt.time(20),
                          end_time=dt.time(21), starts_at=clock.local_to_utc(day, dt.time(20), inst.time_zone),
                          ends_at=clock.local_to_utc(day, dt.time(21), inst.time_zone))
        session.add(cs)
        session.commit()
        token = create_api_token(session, teacher, CreateApiToken(name="bench"))
        registers.append({"session_id": cs.id, "enrolments": list(enrol), "token": token, "teacher_id": teacher.id})
    return {"institution_id": inst.id, "registers": registers}


# --- 1. bulk mark ----------------------------------------------------------------------------------------------

def bench_bulk_mark(server: Server, reg: dict[str, Any], requests_n: int = 200) -> dict[str, list[float]]:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {reg['token']}"
    url = server.base + "/api/institution/attendance/mark"

    def body(status: str) -> dict[str, Any]:
        return {"session_id": reg["session_id"],
                "records": [{"enrolment_id": e, "status": status, "minutes_late": 5 if status == "LATE" else None}
                            for e in reg["enrolments"]]}

    for i in range(10):  # warm up connections and caches
        http.post(url, json=body(STATUSES[i % 4])).raise_for_status()
    changing, unchanged, changing_srv, unchanged_srv, full_srv, full = [], [], [], [], [], []
    for i in range(requests_n):
        payload = body(STATUSES[i % 4])
        t0 = time.perf_counter()
        r = http.post(url, json=payload)
        changing.append((time.perf_counter() - t0) * 1000)
        changing_srv.append(server_ms(r))
        assert r.status_code == 200 and len(r.json()["changed"]) == len(reg["enrolments"]), r.text[:300]
    for i in range(requests_n // 2):  # the full-register answer (the option the register screen no longer needs)
        t0 = time.perf_counter()
        r = http.post(url, json={**body(STATUSES[i % 4]), "full_register": True})
        full.append((time.perf_counter() - t0) * 1000)
        full_srv.append(server_ms(r))
        assert r.status_code == 200 and len(r.json()["trainees"]) == len(reg["enrolments"])
    same = body("PRESENT")
    http.post(url, json=same).raise_for_status()
    for _ in range(requests_n):
        t0 = time.perf_counter()
        r = http.post(url, json=same)
        unchanged.append((time.perf_counter() - t0) * 1000)
        unchanged_srv.append(server_ms(r))
        assert r.status_code == 200 and r.json()["changed"] == []
    return {"changing": changing, "unchanged": unchanged, "changing_srv": changing_srv,
            "unchanged_srv": unchanged_srv, "full_srv": full_srv, "full": full}


# The bare upsert WITH the audit rows the API writes for a register of public learners: the same records
# (version guard, lock gate, only rows that change) and one audit_events row per changed record with the same
# columns as the real path (core/attendance/store.py `_upsert_sql(..., audited=True)`: action, entity, before,
# after and context), in one statement. Written here, not imported, so that it stays the same yardstick while
# the real path changes.
BARE_AUDITED_UPSERT = """
WITH i AS (SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS i(member_id integer, status varchar,
                                                                        minutes_late integer, notes text,
                                                                        next_version integer, before jsonb)),
u AS (
  INSERT INTO attendance_records AS r (enrolment_id, session_id, record_date, status, minutes_late, notes,
                                       marked_by_id, marked_at, version, created_at, updated_at)
  SELECT i.member_id, :session_id, :record_date, i.status, i.minutes_late, i.notes, :actor, :now, i.next_version,
         :now, :now
    FROM i
   WHERE EXISTS (SELECT 1 FROM class_sessions AS gate WHERE gate.id = :session_id AND NOT gate.is_locked
                    AND gate.status <> 'CANCELLED')
  ON CONFLICT (enrolment_id, session_id) WHERE session_id IS NOT NULL DO UPDATE
     SET status = EXCLUDED.status, minutes_late = EXCLUDED.minutes_late, notes = EXCLUDED.notes,
         marked_by_id = EXCLUDED.marked_by_id, marked_at = EXCLUDED.marked_at, version = EXCLUDED.version,
         updated_at = EXCLUDED.updated_at
   WHERE r.version = EXCLUDED.version - 1
     AND (r.status, r.minutes_late, r.notes) IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.minutes_late,
                                                              EXCLUDED.notes)
  RETURNING enrolment_id, id, version, status, minutes_late, notes
), a AS (
  INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context)
  SELECT :now, CAST(:actor AS integer), 'attendance.mark', 'attendance_record', u.id, i.before,
         jsonb_build_object('status', u.status, 'minutes_late', u.minutes_late, 'notes', u.notes),
         jsonb_build_object('session_id', CAST(:session_id AS integer), 'enrolment_id', u.enrolment_id,
                            'version', u.version)
    FROM u JOIN i ON i.member_id = u.enrolment_id
)
SELECT enrolment_id, id, version FROM u
"""


def _next_status(stored: Any, i: int) -> str:
    """A status other than the stored one, so that every mark changes."""
    status = STATUSES[(i + 1) % 4]
    if stored is not None and getattr(stored.status, "value", stored.status) == status:
        return STATUSES[(i + 2) % 4]
    return status


def bench_bare_upsert(engine: Any, reg: dict[str, Any], n: int = 200, audited: bool = False) -> list[float]:
    """The bare upsert of all 500 marks, each changing, on one connection (ms per statement and its commit):
    without audit rows (the store's statement alone), or with them (BARE_AUDITED_UPSERT)."""
    import orjson

    from core.attendance import locking, marking, roster, store
    from core.models import ClassSession

    times = []
    with Session(engine) as session:
        cs = session.get(ClassSession, reg["session_id"])
        zone = "Africa/Algiers"  # the bench institution's
        for i in range(n):
            current = roster.current_marks(session, cs.cohort, cs.id)
            marks = [marking.Mark(e, status, 5 if status == "LATE" else None, None) for e in reg["enrolments"]
                     for status in [_next_status(current.get(e), i)]]
            seen = {k: v.version for k, v in current.items()}
            befores = {k: marking.mark_values(v.values()) for k, v in current.items()}
            rows = orjson.dumps([{"member_id": m.member_id, "status": m.status, "minutes_late": m.minutes_late,
                                  "notes": m.notes, "next_version": seen.get(m.member_id, 0) + 1,
                                  "before": befores.get(m.member_id)} for m in marks]).decode()
            session.commit()
            t0 = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            if audited:
                written = session.execute(text(BARE_AUDITED_UPSERT), {
                    "rows": rows, "session_id": cs.id, "record_date": cs.session_date, "actor": reg["teacher_id"],
                    "now": now}).all()
            else:
                written = store.upsert_marks(session, roster.PUBLIC_SPEC, cs, marks, seen, reg["teacher_id"], now,
                                             locking.open_session_params(cs, zone, 24, now))
            session.commit()
            times.append((time.perf_counter() - t0) * 1000)
            assert len(written) == len(marks), (len(written), len(marks))
    return times


# --- 2. auto-lock ----------------------------------------------------------------------------------------------

def seed_million_sessions(engine: Any, institution_id: int, cohorts: int = 1000, days: int = 1000) -> dt.date:
    """cohorts × days sessions, one a day per cohort from today-600 to today+399 (Algiers time), inserted cohort
    by cohort as schedules are: past ones recorded as locked up to the day before the day before yesterday (as
    earlier nights left them: a record each, and the watermark), so ≈1,000 are due tonight."""
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=600)
    due_day = today - dt.timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        cohort_ids = conn.execute(text(
            "INSERT INTO cohorts (institution_id, name, status, cohort_type) "
            "SELECT :inst, 'Lock bench ' || g, 'ACTIVE', 'public' FROM generate_series(1, :n) g RETURNING id"),
            {"inst": institution_id, "n": cohorts}).scalars().all()
        lo, hi = min(cohort_ids), max(cohort_ids)
        conn.execute(text("""
            INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at,
                                        ends_at, slot, session_type, status, is_locked)
            SELECT :inst, c, d::date, time '09:00', time '12:00', d + interval '8 hours', d + interval '11 hours',
                   1, 'THEORY', 'SCHEDULED', false
              FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) c,
                   generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), interval '1 day') d
        """), {"inst": institution_id, "lo": lo, "hi": hi, "first": dt.datetime.combine(first, dt.time(), dt.UTC),
               "last": dt.datetime.combine(first + dt.timedelta(days=days - 1), dt.time(), dt.UTC)})
        conn.execute(text("INSERT INTO session_lock_records (session_id, locked_at) SELECT id, now() "
                          "FROM class_sessions WHERE session_date < :d ORDER BY id"), {"d": due_day})
    set_watermark(engine, dt.datetime.combine(due_day - dt.timedelta(days=1), dt.time(11), dt.UTC))
    vacuum_analyze(engine, SEEDED_TABLES)
    return today


# Every table the bench seeded (registers, then the lock bench's cohorts, sessions, records and watermark).
SEEDED_TABLES = ("institutions", "users", "cohorts", "cohort_facilitators", "learners", "enrolments",
                 "class_sessions", "session_lock_records", "lock_sweeps", "api_tokens", "audit_events")


def vacuum_analyze(engine: Any, tables: tuple[str, ...]) -> None:
    """The steady state the lock bench claims: statistics and visibility maps as autovacuum leaves them after a
    bulk load (right after seeding, the planner knows nothing of the new rows)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        existing = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        missing = [t for t in tables if t not in existing]
        assert not missing, f"tables not in the schema: {missing}"
        conn.execute(text("VACUUM ANALYZE " + ", ".join(tables)))


def set_watermark(engine: Any, until: dt.datetime | None) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO lock_sweeps (id, swept_until, last_locked) VALUES (1, :u, 0) "
                          "ON CONFLICT (id) DO UPDATE SET swept_until = EXCLUDED.swept_until"), {"u": until})


def timed_lock(engine: Any, chunk: int | None = None) -> tuple[float, int]:
    from core.attendance import locking

    with Session(engine) as session:
        t0 = time.perf_counter()
        ids = locking.lock_past_sessions(session, grace_hours=24, **({"chunk": chunk} if chunk else {}))
        return (time.perf_counter() - t0) * 1000, len(ids)


def bare_lock(engine: Any, ids: list[int]) -> float:
    """The bare statement: insert the same sessions' records by id, no rule, no audit, one statement."""
    with engine.begin() as conn:
        t0 = time.perf_counter()
        conn.execute(text("INSERT INTO session_lock_records (session_id, locked_at) "
                          "SELECT unnest(CAST(:ids AS int[])), now()"), {"ids": ids})
        return (time.perf_counter() - t0) * 1000


def reopen(engine: Any, where: str, params: dict[str, Any], watermark: dt.datetime | None) -> list[int]:
    """Forget the records of these sessions (and the sweep's audit rows), the watermark back to `watermark`."""
    with engine.begin() as conn:
        ids = conn.execute(text("DELETE FROM session_lock_records AS r USING class_sessions AS s "
                                f"WHERE s.id = r.session_id AND {where} RETURNING r.session_id"), params).scalars()
        ids = list(ids)
        conn.execute(text("DELETE FROM audit_events WHERE action = 'session.auto_lock'"))
    set_watermark(engine, watermark)
    return list(ids)


def bench_auto_lock(engine: Any, today: dt.date, rounds: int = 5) -> dict[str, Any]:
    due_day = today - dt.timedelta(days=2)
    watermark = dt.datetime.combine(due_day - dt.timedelta(days=1), dt.time(11), dt.UTC)
    normal, nothing, bare = [], [], []
    counts = set()
    for _ in range(rounds):
        ms, n = timed_lock(engine)
        normal.append(ms)
        counts.add(n)
        for _ in range(3):
            nothing_ms, zero = timed_lock(engine)
            assert zero == 0
            nothing.append(nothing_ms)
        # back to "tonight": the same ~1,000 sessions due again, the watermark where last night left it
        ids = reopen(engine, "s.session_date = :d", {"d": due_day}, watermark)
        bare.append(bare_lock(engine, ids))
        reopen(engine, "s.session_date = :d", {"d": due_day}, watermark)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM class_sessions")).scalar()
    return {"total": total, "normal": normal, "normal_count": sorted(counts), "nothing": nothing, "bare": bare}


def bench_backlog(engine: Any, today: dt.date, marker: Any) -> dict[str, Any]:
    """A backlog of ~600,000 (the job never ran): the chunked sweep, while another register is being marked."""
    where, params = "s.session_date < :d", {"d": today - dt.timedelta(days=1)}
    reopen(engine, where, params, None)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE session_lock_records"))
    quiet = marker.run(seconds=5)
    marker.start()
    backlog_ms, backlog_n = timed_lock(engine)
    during = marker.stop()
    ids = reopen(engine, where, params, None)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE session_lock_records"))
    bare_ms = bare_lock(engine, ids)
    return {"backlog_ms": backlog_ms, "backlog_n": backlog_n, "quiet": quiet, "during": during, "bare_ms": bare_ms}


class Marker:
    """Marks one 100-trainee register over and over (the service, in-process), timing each mark."""

    def __init__(self, engine: Any, reg: dict[str, Any]) -> None:
        self.engine, self.reg = engine, reg
        self.times: list[float] = []
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def _loop(self) -> None:
        from core.attendance import service
        from core.attendance.commands import MarkRegister
        from core.models import User

        with Session(self.engine, expire_on_commit=False) as session:
            user = session.get(User, self.reg["teacher_id"])
            i = 0
            while not self.stopping.is_set():
                status = STATUSES[i % 3]
                t0 = time.perf_counter()
                service.mark(session, user, MarkRegister(
                    session_id=self.reg["session_id"],
                    records=[{"enrolment_id": e, "status": status} for e in self.reg["enrolments"]]))
                self.times.append((time.perf_counter() - t0) * 1000)
                i += 1
                time.sleep(0.02)

    def start(self) -> None:
        self.times, self.stopping = [], threading.Event()
        self.thread = threading.Thread(target=self._loop)
        self.thread.start()

    def stop(self) -> list[float]:
        self.stopping.set()
        assert self.thread is not None
        self.thread.join()
        return self.times

    def run(self, seconds: float) -> list[float]:
        self.start()
        time.sleep(seconds)
        return self.stop()


# --- 3. concurrent facilitators -----------------------------------------------------------------------------

def bench_concurrent(server: Server, engine: Any, registers: list[dict[str, Any]], seconds: float = 30.0
                     ) -> dict[str, Any]:
    url = server.base + "/api/institution/attendance/mark"
    latencies: list[float] = []
    errors: list[str] = []
    last_ok: dict[int, dict[int, str]] = {}
    changed_total = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(len(registers))

    def facilitator(reg: dict[str, Any]) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {reg['token']}"
        rnd = random.Random(reg["session_id"])
        start.wait()
        while time.monotonic() < stop_at:
            marks = {e: rnd.choice(STATUSES[:3]) for e in reg["enrolments"]}
            payload = {"session_id": reg["session_id"],
                       "records": [{"enrolment_id": e, "status": s} for e, s in marks.items()]}
            t0 = time.perf_counter()
            try:
                r = http.post(url, json=payload, timeout=30)
            except requests.RequestException as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                latencies.append(ms)
                last_ok[reg["session_id"]] = marks
                changed_total[0] += len(r.json()["changed"])

    threads = [threading.Thread(target=facilitator, args=(reg,)) for reg in registers]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    lost = 0
    with engine.connect() as conn:
        for sid, marks in last_ok.items():
            stored = dict(conn.execute(text("SELECT enrolment_id, status FROM attendance_records "
                                            "WHERE session_id = :s"), {"s": sid}).all())
            lost += sum(1 for e, s in marks.items() if stored.get(e) != s)
        audits = conn.execute(text("SELECT count(*) FROM audit_events a WHERE a.action = 'attendance.mark' "
                                   "AND (a.context->>'session_id')::int = ANY(:ids)"),
                              {"ids": [r["session_id"] for r in registers]}).scalar()
    return {"requests": len(latencies), "errors": errors, "lost": lost, "elapsed": elapsed,
            "throughput": len(latencies) / elapsed, "marks_per_s": changed_total[0] / elapsed,
            "latencies": latencies, "audit_match": audits == changed_total[0]}


# --- 4. register read: wrk against the trivial endpoint, /api/me and a 100-trainee register ----------------------

def wrk(base: str, path: str, token: str | None, seconds: int = 10, connections: int = 10) -> dict[str, float]:
    """req/s and latency percentiles from one wrk run (wrk prints them with --latency)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, base + path], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value = out.split(label, 1)[1].split()[0]
        return float(value[:-2]) if value.endswith("ms") else float(value[:-2]) / 1000 if value.endswith(
            "us") else float(value[:-1]) * 1000

    non2xx = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
    return {"rps": float(out.split("Requests/sec:")[1].split()[0]), "p50": ms(" 50% "), "p99": ms(" 99% "),
            "errors": non2xx}


def bench_register_read(run: Run, instance: str, reg: dict[str, Any], seconds: int) -> dict[str, dict[str, float]]:
    server = Server(run, instance, workers=2, threads=1)
    try:
        requests.get(server.base + f"/api/institution/class-sessions/{reg['session_id']}",
                     headers={"Authorization": f"Bearer {reg['token']}"}).raise_for_status()
        return {"health": wrk(server.base, "/api/health", None, seconds),
                "me": wrk(server.base, "/api/me", reg["token"], seconds),
                "register": wrk(server.base, f"/api/institution/class-sessions/{reg['session_id']}", reg["token"],
                                seconds)}
    finally:
        server.stop()


class Rows(list):  # type: ignore[type-arg]
    """The result table; each row is also printed as soon as it is measured."""

    def __iadd__(self, new):  # type: ignore[no-untyped-def]
        for name, result, target in new:
            print(f"   {name}: {result}  {('(target ' + target + ')') if target else ''}", flush=True)
        return super().__iadd__(new)


def lock_rows(lock: dict[str, Any], backlog: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    bare = statistics.median(lock["bare"])
    rows = [
        (f"auto-lock normal night ({lock['normal_count']} due of {lock['total']:,})", fmt(lock["normal"]),
         "≤ 20 ms"),
        ("  bare INSERT of the same sessions' records", fmt(lock["bare"]),
         f"sweep = {statistics.median(lock['normal']) / bare:.1f}× bare (p50)"),
        ("auto-lock nothing due", fmt(lock["nothing"]), "≤ 5 ms"),
    ]
    if backlog:
        quiet, during = backlog["quiet"], backlog["during"]
        rows += [
            (f"auto-lock backlog ({backlog['backlog_n']:,} due, chunked)", f"{backlog['backlog_ms'] / 1000:.2f} s",
             "≤ 5 s"),
            ("  bare INSERT of the same records, one statement", f"{backlog['bare_ms'] / 1000:.2f} s",
             f"sweep = {backlog['backlog_ms'] / backlog['bare_ms']:.2f}× bare"),
            ("  marking another 100-trainee register, quiet", fmt(quiet), ""),
            ("  the same during the backlog sweep", fmt(during) if during else "no mark finished",
             "delay ≤ 50 ms"),
            ("  delay (p95 during − p95 quiet)", f"{pct(during, 95) - pct(quiet, 95):.1f} ms; "
             f"max {max(during) if during else float('nan'):.1f} ms ({len(during)} marks)", "≤ 50 ms"),
        ]
    return rows


BARE = ("mark: the upsert statement alone on one connection (no HTTP, auth, validation or register read), "
        "without and with the audit rows the API writes; load: the same with audit rows for one 100-row register, "
        "alone; lock: one INSERT of the same sessions' lock records by id; read: GET /api/health (no auth, no SQL) "
        "on the same gunicorn under the same wrk")


def mark_rows(bulk: dict[str, list[float]], bare: list[float], bare_audited: list[float]) -> list[tuple[str, str, str]]:
    server_p50 = statistics.median(bulk["changing_srv"])
    return [
        ("API mark 500 (all change): server time", fmt(bulk["changing_srv"]), "p95 ≤ 40 ms"),
        ("API mark 500 (all change): round trip", fmt(bulk["changing"]), ""),
        ("API mark 500 (all change, full_register): server", fmt(bulk["full_srv"]), ""),
        ("API mark 500 (resend, no change): server", fmt(bulk["unchanged_srv"]), ""),
        ("API mark 500 (resend, no change): round trip", fmt(bulk["unchanged"]), ""),
        ("bare upsert 500 rows, no audit rows (store statement)", fmt(bare), ""),
        ("bare upsert 500 rows + the same 500 audit rows", fmt(bare_audited), ""),
        ("API server time / bare upsert, no audit (p50 ratio)", f"{server_p50 / statistics.median(bare):.2f}×", ""),
        ("API server time / bare upsert with audit (p50 ratio)",
         f"{server_p50 / statistics.median(bare_audited):.2f}×", "≤ 2.5×"),
    ]


def load_rows(load: dict[str, Any], bare: list[float]) -> list[tuple[str, str, str]]:
    return [
        ("20 concurrent facilitators: requests", f"{load['requests']} in {load['elapsed']:.1f} s "
         f"= {load['throughput']:.1f} req/s ({load['marks_per_s']:.0f} marks/s)", ""),
        ("20 concurrent: latency", fmt(load["latencies"]), ""),
        ("  bare: one 100-row upsert + audit rows, alone", fmt(bare),
         f"latency = {statistics.median(load['latencies']) / statistics.median(bare):.1f}× bare (p50)"),
        ("20 concurrent: errors / lost marks", f"{len(load['errors'])} / {load['lost']}"
         f" (audit rows match: {load['audit_match']})", "0 / 0"),
    ]


def read_rows(read: dict[str, dict[str, float]]) -> list[tuple[str, str, str]]:
    health = read["health"]["rps"]
    rows = []
    for name, label, target in (("health", "GET /api/health (bare: no auth, no SQL)", ""),
                                ("me", "GET /api/me (token auth)", ""),
                                ("register", "GET class-sessions/<id>, 100 trainees (token)", "≥ 50 % of health")):
        r = read[name]
        rows.append((label, f"{r['rps']:,.0f} req/s = {100 * r['rps'] / health:.0f} % of health; "
                     f"p50 {r['p50']:.1f} p99 {r['p99']:.1f} ms; non-2xx {r['errors']:.0f}", target))
    return rows


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_marking")
    parser.add_argument("--only", choices=["mark", "lock", "read", "load"], action="append",
                        help="run only these parts (repeatable); default: all")
    parser.add_argument("--requests", type=int, default=200, help="bulk mark: requests (and bare statements) timed")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the concurrent-facilitators run")
    parser.add_argument("--read-seconds", type=int, default=10, help="length of each wrk run (register read)")
    parser.add_argument("--cohorts", type=int, default=1000, help="lock bench: sessions = cohorts × days")
    parser.add_argument("--days", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true",
                        help="CI: the lock bench on 20 × 700 sessions, a short backlog, no targets judged")
    args = parser.parse_args()
    parts = set(args.only or ["mark", "lock", "read", "load"])
    if args.smoke:
        parts, args.cohorts, args.days = {"lock"}, 20, 700
    run = start(args)
    instance = tempfile.mkdtemp(prefix="bench-marking-")
    print("building schema with the real migrations…", flush=True)
    app = build_app(run, instance)
    from web.config import engine_options

    engine = create_engine(run.db_url, **engine_options(run.db_url, 0))  # as the app connects (JIT off), no timeout
    with app.app_context():
        from web.extensions import db

        seeded = seed_registers(db.session, [500] + [100] * 20)
        db.session.remove()
    big, small = seeded["registers"][0], seeded["registers"][1:]
    rows = run.rows = Rows()
    if parts & {"mark", "load"}:
        server = Server(run, instance)
        try:
            if "mark" in parts:
                print("1. bulk mark of a 500-trainee register…", flush=True)
                bulk = bench_bulk_mark(server, big, args.requests)
                rows += mark_rows(bulk, bench_bare_upsert(engine, big, args.requests),
                                  bench_bare_upsert(engine, big, args.requests, audited=True))
            if "load" in parts:
                print(f"3. 20 facilitators × 100-trainee registers for {args.seconds:.0f} s…", flush=True)
                load = bench_concurrent(server, engine, small, args.seconds)
                rows += load_rows(load, bench_bare_upsert(engine, small[0], 50, audited=True))
                if load["errors"]:
                    print("first errors:", load["errors"][:3])
        finally:
            server.stop()
    if "read" in parts:
        print("4. register read vs the trivial endpoint (gunicorn 2 workers, wrk 10 connections)…", flush=True)
        rows += read_rows(bench_register_read(run, instance, small[0], seconds=args.read_seconds))
    if "lock" in parts:
        total = args.cohorts * args.days
        print(f"2. auto-lock on {total:,} sessions (seeding, then VACUUM ANALYZE, takes a while)…", flush=True)
        t0 = time.perf_counter()
        today = seed_million_sessions(engine, seeded["institution_id"], args.cohorts, args.days)
        print(f"   seeded and analyzed in {time.perf_counter() - t0:.0f} s", flush=True)
        lock = bench_auto_lock(engine, today, rounds=2 if args.smoke else 5)
        backlog = bench_backlog(engine, today, Marker(engine, small[1]))
        rows += lock_rows(lock, backlog)
    run.report(BARE)
    if args.smoke:
        print("smoke run: figures above are not judged")


if __name__ == "__main__":
    main()
