"""Self check-in speed on PostgreSQL through the HTTP API (gunicorn, 2 workers). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_check_in.py [--db attendance_bench_check_in]

1. 300 learners (each with an account and a Bearer token) check in to one 300-learner session within 60 s, by
   the six-digit code a "projector" thread reads from the facilitator's status endpoint once a second: latency
   (round trip and the app's Server-Timing), errors, lost or duplicated marks, audit rows = marks.
2. The facilitator's live count: from a check-in's answer to the first status poll (every 0.5 s) counting it.
3. The code check alone (HMAC and window, core.checkin.codes.check_code): checks per second in one process.
4. Bare figure: the register upsert of one check-in mark alone (core.attendance.store.upsert_marks + commit),
   in process, for comparison with the API's server time.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from common import Server, bench_parser, build_app, pct, print_table, start  # bench/common.py (scripts run from bench/)
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEARNERS = 300


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(values: list[float]) -> str:
    if not values:
        return "none"
    return f"p50 {pct(values, 50):7.1f}  p95 {pct(values, 95):7.1f}  p99 {pct(values, 99):7.1f} ms"


def seed(session: Any, learners: int) -> dict[str, Any]:
    """An institution, a facilitator, a public cohort of `learners` learners each with an account (role learner)
    and a token, and a session that started 2 minutes ago and ends in an hour (wall clock)."""
    from core import clock
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import ClassSession, Cohort, CohortType, Enrolment, Institution, Learner, Role, User

    zone = "Africa/Algiers"
    inst = Institution(name="Bench", slug="bench-check-in", time_zone=zone)
    session.add(inst)
    session.flush()
    teacher = User(email="t@bench.example", full_name="Teacher", role=Role.TEACHER, institution_id=inst.id)
    cohort = Cohort(institution_id=inst.id, name="Check-in cohort", cohort_type=CohortType.PUBLIC)
    cohort.facilitators.append(teacher)
    session.add_all([teacher, cohort])
    session.flush()
    users = session.execute(User.__table__.insert().returning(User.__table__.c.id), [
        {"institution_id": inst.id, "email": f"l{i:04d}@bench.example", "full_name": f"Learner {i:04d}",
         "role": "learner", "active": True} for i in range(learners)]).scalars().all()
    ids = session.execute(Learner.__table__.insert().returning(Learner.__table__.c.id), [
        {"institution_id": inst.id, "full_name": f"Learner {i:04d}", "user_id": uid}
        for i, uid in enumerate(users)]).scalars().all()
    session.execute(Enrolment.__table__.insert(), [{"learner_id": i, "cohort_id": cohort.id, "status": "ACTIVE"}
                                                   for i in ids])
    from zoneinfo import ZoneInfo
    now = clock.now().astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    start = now - dt.timedelta(minutes=2)
    end = min(now + dt.timedelta(minutes=60), now.replace(hour=23, minute=59))  # a session stays within its day
    if end - now < dt.timedelta(minutes=5) or end.date() != start.date():
        raise SystemExit("run it outside 23:55–00:02 in Algiers (the session must fit in one local day)")
    cs = ClassSession(institution_id=inst.id, cohort_id=cohort.id, session_date=start.date(),
                      start_time=start.time(), end_time=end.time(), starts_at=start.astimezone(dt.UTC),
                      ends_at=end.astimezone(dt.UTC))
    session.add(cs)
    session.commit()
    teacher_token = create_api_token(session, teacher, CreateApiToken(name="bench"))
    tokens = [create_api_token(session, session.get(User, uid), CreateApiToken(name="bench")) for uid in users]
    return {"session_id": cs.id, "teacher_token": teacher_token, "tokens": tokens, "teacher_id": teacher.id,
            "cohort_id": cohort.id}


def bench_http(server: Server, seeded: dict[str, Any], window: float) -> dict[str, Any]:
    sid = seeded["session_id"]
    status_url = f"{server.base}/api/institution/class-sessions/{sid}/check-in"
    teacher = requests.Session()
    teacher.headers["Authorization"] = f"Bearer {seeded['teacher_token']}"
    opened = teacher.post(status_url, json={"open": True}, timeout=10)
    opened.raise_for_status()
    code = {"now": opened.json()["code"]}
    polls: list[tuple[float, int]] = []
    stop = threading.Event()

    def projector() -> None:  # the screen: the code of this moment, and the live count
        while not stop.is_set():
            r = teacher.get(status_url, timeout=10)
            if r.ok:
                body = r.json()
                code["now"] = body["code"]
                polls.append((time.monotonic(), body["checked_in"]))
            stop.wait(0.5)

    watcher = threading.Thread(target=projector, daemon=True)
    watcher.start()
    latencies: list[float] = []
    server_ms: list[float] = []
    done_at: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    t0 = time.monotonic()
    arrivals = sorted(random.uniform(0, window) for _ in seeded["tokens"])

    def learner(i: int, token: str) -> None:
        delay = t0 + arrivals[i] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        http.cookies.set("check_in_device", f"{i:032d}")
        started = time.monotonic()
        r = http.post(f"{server.base}/api/me/check-in", json={"code": code["now"]}, timeout=30)
        ended = time.monotonic()
        with lock:
            latencies.append((ended - started) * 1000)
            if "Server-Timing" in r.headers:
                server_ms.append(float(r.headers["Server-Timing"].split("dur=")[1]))
            if r.status_code == 200 and not r.json()["already_marked"]:
                done_at.append(ended)
            else:
                errors.append(f"{r.status_code} {r.text[:200]}")

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda a: learner(*a), enumerate(seeded["tokens"])))
    elapsed = time.monotonic() - t0
    time.sleep(2)
    stop.set()
    watcher.join()
    done_at.sort()
    count_lag = []
    for k, at in enumerate(done_at, 1):  # the k-th check-in is counted by the first poll at or after it with ≥ k
        seen = next((t for t, n in polls if t >= at and n >= k), None)
        if seen is not None:
            count_lag.append((seen - at) * 1000)
    return {"latencies": latencies, "server_ms": server_ms, "errors": errors, "accepted": len(done_at),
            "elapsed": elapsed, "count_lag": count_lag, "count_missed": len(done_at) - len(count_lag)}


def count_marks(engine: Any, session_id: int) -> dict[str, int]:
    with engine.connect() as conn:
        marks, members = conn.execute(text(
            "SELECT count(*), count(DISTINCT enrolment_id) FROM attendance_records WHERE session_id = :s "
            "AND source = 'self_check_in'"), {"s": session_id}).one()
        audits = conn.execute(text(
            "SELECT count(*) FROM audit_events WHERE action = 'attendance.mark' "
            "AND (context->>'session_id')::int = :s AND context->>'source' = 'self_check_in'"),
            {"s": session_id}).scalar()
        attempts = conn.execute(text("SELECT count(*) FROM check_in_attempts WHERE session_id = :s AND accepted"),
                                {"s": session_id}).scalar()
    return {"marks": marks, "members": members, "audits": audits, "attempts": attempts}


def bench_code_check(seconds: float = 2.0) -> float:
    from core import clock
    from core.checkin import codes

    secret = codes.session_secret("bench", 1)
    now = clock.now()
    code = codes.code_at(secret, codes.step_of(now) - 1)  # the previous step's: the longer accepted path
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(10000):
            codes.check_code(secret, code, now)
        n += 10000
    return n / (time.perf_counter() - started)


def bench_bare_upsert(app: Any, seeded: dict[str, Any], rounds: int = 100) -> list[float]:
    """One check-in's mark written by the register upsert alone (audited, source self_check_in), then removed."""
    from core import clock
    from core.attendance import locking, marking, roster, store
    from core.models import ClassSession, Enrolment
    from web.extensions import db

    times = []
    with app.app_context():
        session = db.session
        cs = session.get(ClassSession, seeded["session_id"])
        enrolment = session.scalar(text("SELECT id FROM enrolments WHERE cohort_id = :c ORDER BY id LIMIT 1")
                                   .bindparams(c=seeded["cohort_id"]))
        assert session.get(Enrolment, enrolment) is not None
        for _ in range(rounds):
            session.execute(text("DELETE FROM attendance_records WHERE session_id = :s AND enrolment_id = :e"),
                            {"s": cs.id, "e": enrolment})
            session.commit()
            now = clock.now()
            started = time.perf_counter()
            store.upsert_marks(session, roster.PUBLIC_SPEC, cs, [marking.Mark(enrolment, "PRESENT", None, None)], {},
                               None, now, locking.open_session_params(cs, "Africa/Algiers", 24, now),
                               {enrolment: None}, source=store.SELF_CHECK_IN, checked_in_at=now)
            session.commit()
            times.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return times


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_check_in")
    parser.add_argument("--window", type=float, default=55.0, help="seconds over which the 300 arrive")
    args = parser.parse_args()
    run = start(args)  # says which database, Redis and load; recreates the database
    url, redis_url, load_start = run.db_url, run.redis_url, run.load_before
    instance = tempfile.mkdtemp(prefix="bench-check-in-")
    os.environ.update({"CELERY_BROKER_URL": redis_url, "CELERY_RESULT_BACKEND": redis_url})
    app = build_app(run, instance)
    with app.app_context():
        from web.extensions import db

        seeded = seed(db.session, LEARNERS)
        db.session.remove()
    engine = create_engine(url)
    print(f"1. {LEARNERS} learners checking in within {args.window:.0f} s (gunicorn 2 workers)…", flush=True)
    server = Server(run, instance, workers=2, threads=8)
    try:
        http = bench_http(server, seeded, args.window)
    finally:
        server.stop()
    counted = count_marks(engine, seeded["session_id"])
    lost = http["accepted"] - counted["marks"]
    duplicated = counted["marks"] - counted["members"]
    print("2. code check rate (one process)…", flush=True)
    rate = bench_code_check()
    print("3. bare upsert of one check-in mark…", flush=True)
    bare = bench_bare_upsert(app, seeded)
    rows = [
        (f"{LEARNERS} check-ins: accepted in {http['elapsed']:.1f} s", f"{http['accepted']} of {LEARNERS}; "
         f"errors {len(http['errors'])}", "300, 0 errors"),
        ("check-in round trip", fmt(http["latencies"]), "p95 ≤ 50 ms"),
        ("check-in server time (Server-Timing)", fmt(http["server_ms"]), ""),
        ("lost / duplicated marks", f"{lost} / {duplicated}", "0 / 0"),
        ("audit rows = marks", f"{counted['audits']} = {counted['marks']}: {counted['audits'] == counted['marks']}"
         f" (accepted attempts {counted['attempts']})", "equal"),
        ("live count lag (answer → poll counting it)", fmt(http["count_lag"]) + f"; max "
         f"{max(http['count_lag'], default=float('nan')):.0f} ms; missed {http['count_missed']}", "≤ 3000 ms"),
        ("code check (HMAC + window), one process", f"{rate:,.0f} /s", "≥ 50,000 /s"),
        ("bare: one check-in upsert + commit, in process", fmt(bare), ""),
    ]
    print_table(rows)
    print(f"\nload average at start: {load_start}; at end: {load()}; cpus: {os.cpu_count()}")
    if http["errors"]:
        print("first errors:", http["errors"][:3])


if __name__ == "__main__":
    main()
