"""Marking and auto-lock speed on PostgreSQL. Run by hand; prints a table.

    .venv/bin/python bench/bench_marking.py [--db attendance_bench_marking] [--skip-lock] [--skip-load]

1. Bulk mark of a 500-trainee register through the API (gunicorn on loopback, Bearer token): latency over
   200 requests where every request changes all 500 marks, and 200 resends of an unchanged register; versus
   the bare `INSERT … SELECT FROM unnest(…) ON CONFLICT` statement alone.
2. Auto-lock on 1,000,000 sessions: a normal night (~1,000 due), nothing due, a backlog of 600,000.
3. 20 facilitators marking 20 different 100-trainee registers concurrently for 30 s: errors, lost marks,
   throughput, p95.

Server time is the app's own Server-Timing header (auth, validation, SQL, JSON); round trip adds the client's
request encoding, gunicorn and loopback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
from common import recreate_database  # bench/common.py (scripts run from bench/)
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUSES = ["PRESENT", "ABSENT", "EXCUSED", "LATE"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def server_ms(response: requests.Response) -> float:
    """The app's own time, from its Server-Timing header (app;dur=…)."""
    return float(response.headers["Server-Timing"].split("dur=")[1])


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.1f}  p95 {pct(values, 95):7.1f}  p99 {pct(values, 99):7.1f} ms"


# --- setup -----------------------------------------------------------------------------------------------------

def build_app(url: str, instance: str) -> Any:
    os.environ.update({"DATABASE_URL": url, "INSTANCE_DIR": instance, "SECRET_KEY": "bench"})
    from flask_migrate import upgrade

    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance})
    with app.app_context():
        upgrade()
    return app


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


class Server:
    """gunicorn serving the real app on loopback."""

    def __init__(self, url: str, instance: str, workers: int = 3, threads: int = 4) -> None:
        from tests.conftest import free_port

        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=url, INSTANCE_DIR=instance, SECRET_KEY="bench", APP_ENV="development")
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "--log-level", "warning", "web:create_app()"],
            cwd=ROOT, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.base + "/login", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


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
    changing, unchanged, changing_srv, unchanged_srv = [], [], [], []
    for i in range(requests_n):
        payload = body(STATUSES[i % 4])
        t0 = time.perf_counter()
        r = http.post(url, json=payload)
        changing.append((time.perf_counter() - t0) * 1000)
        changing_srv.append(server_ms(r))
        assert r.status_code == 200 and len(r.json()["changed"]) == len(reg["enrolments"]), r.text[:300]
    same = body("PRESENT")
    http.post(url, json=same).raise_for_status()
    for _ in range(requests_n):
        t0 = time.perf_counter()
        r = http.post(url, json=same)
        unchanged.append((time.perf_counter() - t0) * 1000)
        unchanged_srv.append(server_ms(r))
        assert r.status_code == 200 and r.json()["changed"] == []
    return {"changing": changing, "unchanged": unchanged, "changing_srv": changing_srv,
            "unchanged_srv": unchanged_srv}


def bench_bare_upsert(engine: Any, reg: dict[str, Any], n: int = 200) -> list[float]:
    from core.attendance import marking, roster, service
    from core.models import ClassSession

    times = []
    with Session(engine) as session:
        cs = session.get(ClassSession, reg["session_id"])
        for i in range(n):
            status = STATUSES[(i + 1) % 4]
            marks = [marking.Mark(e, status, 5 if status == "LATE" else None, None) for e in reg["enrolments"]]
            seen = {k: v.version for k, v in roster.current_marks(session, cs.cohort, cs.id).items()}
            session.commit()
            t0 = time.perf_counter()
            written = service.upsert_marks(session, roster.PUBLIC_SPEC, cs, marks, seen, reg["teacher_id"],
                                           dt.datetime.now(dt.UTC))
            session.commit()
            times.append((time.perf_counter() - t0) * 1000)
            assert len(written) == len(marks)
    return times


# --- 2. auto-lock ----------------------------------------------------------------------------------------------

def seed_million_sessions(engine: Any, institution_id: int, cohorts: int = 1000, days: int = 1000) -> dt.date:
    """cohorts × days sessions, one a day per cohort from today-600 to today+399 (Algiers time):
    past ones locked except the day before yesterday (≈1,000 due tonight), today and later unlocked."""
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=600)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        cohort_ids = conn.execute(text(
            "INSERT INTO cohorts (institution_id, name, status, cohort_type) "
            "SELECT :inst, 'Lock bench ' || g, 'ACTIVE', 'public' FROM generate_series(1, :n) g RETURNING id"),
            {"inst": institution_id, "n": cohorts}).scalars().all()
        lo, hi = min(cohort_ids), max(cohort_ids)
        conn.execute(text("""
            INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at,
                                        ends_at, slot, session_type, status, is_locked, locked_at)
            SELECT :inst, c, d::date, time '09:00', time '12:00', d + interval '8 hours', d + interval '11 hours',
                   1, 'THEORY', 'SCHEDULED', d::date < CAST(:due_day AS date),
                   CASE WHEN d::date < CAST(:due_day AS date) THEN now() END
              FROM generate_series(CAST(:lo AS integer), CAST(:hi AS integer)) c,
                   generate_series(CAST(:first AS timestamptz), CAST(:last AS timestamptz), interval '1 day') d
        """), {"inst": institution_id, "lo": lo, "hi": hi, "first": dt.datetime.combine(first, dt.time(), dt.UTC),
               "last": dt.datetime.combine(first + dt.timedelta(days=days - 1), dt.time(), dt.UTC),
               "due_day": today - dt.timedelta(days=2)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE class_sessions"))
    return today


def timed_lock(engine: Any) -> tuple[float, int]:
    from core.attendance import service

    with Session(engine) as session:
        t0 = time.perf_counter()
        ids = service.lock_past_sessions(session, grace_hours=24)
        return (time.perf_counter() - t0) * 1000, len(ids)


def bench_auto_lock(engine: Any, today: dt.date) -> dict[str, Any]:
    due_day = today - dt.timedelta(days=2)
    normal, nothing = [], []
    counts = set()
    for _ in range(5):
        ms, n = timed_lock(engine)
        normal.append(ms)
        counts.add(n)
        nothing_ms, zero = timed_lock(engine)
        assert zero == 0
        nothing.append(nothing_ms)
        with engine.begin() as conn:  # back to "tonight": the same ~1,000 sessions due again
            conn.execute(text("UPDATE class_sessions SET is_locked = false, locked_at = NULL WHERE session_date = :d"),
                         {"d": due_day})
            conn.execute(text("DELETE FROM audit_events WHERE action = 'session.auto_lock'"))
    for _ in range(5):
        nothing_extra = timed_lock(engine)  # includes the re-opened ones once, then nothing
        if nothing_extra[1] == 0:
            nothing.append(nothing_extra[0])
    with engine.begin() as conn:
        total = conn.execute(text("SELECT count(*) FROM class_sessions")).scalar()
        conn.execute(text("UPDATE class_sessions SET is_locked = false, locked_at = NULL "
                          "WHERE session_date < :d AND session_date >= :lo"),
                     {"d": today - dt.timedelta(days=1), "lo": today - dt.timedelta(days=600)})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE class_sessions"))
    backlog_ms, backlog_n = timed_lock(engine)
    return {"total": total, "normal": normal, "normal_count": sorted(counts), "nothing": nothing,
            "backlog_ms": backlog_ms, "backlog_n": backlog_n}


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


class Rows(list):  # type: ignore[type-arg]
    """The result table; each row is also printed as soon as it is measured."""

    def __iadd__(self, new):  # type: ignore[no-untyped-def]
        for name, result, target in new:
            print(f"   {name}: {result}  {('(target ' + target + ')') if target else ''}", flush=True)
        return super().__iadd__(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="attendance_bench_marking")
    parser.add_argument("--host", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--skip-lock", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    url = f"{args.host}/{args.db}"
    instance = tempfile.mkdtemp(prefix="bench-marking-")
    print(f"database {url}; building schema with the real migrations…", flush=True)
    recreate_database(url)
    app = build_app(url, instance)
    engine = create_engine(url)
    with app.app_context():
        from web.extensions import db

        seeded = seed_registers(db.session, [500] + [100] * 20)
        db.session.remove()
    big, small = seeded["registers"][0], seeded["registers"][1:]
    server = Server(url, instance)
    rows = Rows()
    try:
        print("1. bulk mark of a 500-trainee register…", flush=True)
        bulk = bench_bulk_mark(server, big)
        bare = bench_bare_upsert(engine, big)
        ratio = statistics.median(bulk["changing_srv"]) / statistics.median(bare)
        rows += [
            ("API mark 500 (all change): server time", fmt(bulk["changing_srv"]), "p95 ≤ 40 ms"),
            ("API mark 500 (all change): round trip", fmt(bulk["changing"]), ""),
            ("API mark 500 (resend, no change): server", fmt(bulk["unchanged_srv"]), ""),
            ("API mark 500 (resend, no change): round trip", fmt(bulk["unchanged"]), ""),
            ("bare unnest upsert 500 rows", fmt(bare), "≈ 8–10 ms"),
            ("API server time / bare upsert (p50 ratio)", f"{ratio:.1f}×", ""),
        ]
        if not args.skip_load:
            print(f"3. 20 facilitators × 100-trainee registers for {args.seconds:.0f} s…", flush=True)
            load = bench_concurrent(server, engine, small, args.seconds)
            rows += [
                ("20 concurrent facilitators: requests", f"{load['requests']} in {load['elapsed']:.1f} s "
                 f"= {load['throughput']:.1f} req/s ({load['marks_per_s']:.0f} marks/s)", ""),
                ("20 concurrent: latency", fmt(load["latencies"]), ""),
                ("20 concurrent: errors / lost marks", f"{len(load['errors'])} / {load['lost']}"
                 f" (audit rows match: {load['audit_match']})", "0 / 0"),
            ]
            if load["errors"]:
                print("first errors:", load["errors"][:3])
    finally:
        server.stop()
    if not args.skip_lock:
        print("2. auto-lock on 1,000,000 sessions (seeding takes a while)…", flush=True)
        t0 = time.perf_counter()
        today = seed_million_sessions(engine, seeded["institution_id"])
        print(f"   seeded in {time.perf_counter() - t0:.0f} s", flush=True)
        lock = bench_auto_lock(engine, today)
        rows += [
            (f"auto-lock normal night ({lock['normal_count']} due of {lock['total']:,})",
             f"median {statistics.median(lock['normal']):.1f} ms, max {max(lock['normal']):.1f} ms", "≤ 20 ms"),
            ("auto-lock nothing due", f"median {statistics.median(lock['nothing']):.1f} ms, "
                                      f"max {max(lock['nothing']):.1f} ms", "≤ 5 ms"),
            (f"auto-lock backlog ({lock['backlog_n']:,} due)", f"{lock['backlog_ms'] / 1000:.2f} s", "≤ 5 s"),
        ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'result':<58}  target")
    print("-" * (width + 70))
    for name, result, target in rows:
        print(f"{name:<{width}}  {result:<58}  {target}")


if __name__ == "__main__":
    main()
