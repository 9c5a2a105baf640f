"""At-risk levels speed on PostgreSQL (issue 24). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/bench_at_risk.py [--db bench_h24]
        [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--cohorts 1000] [--requests 30] [--marks 100]

1,000 public cohorts of 50 learners (50,000 active enrolments), each with 50 planned sessions of which 40 are
marked: 2,000,000 attendance records (written with generate_series), each learner absent at their own rate so
that a good share are at watch or worse.

1. The nightly recompute (core.at_risk.service.recompute) of every level: the first run (every row new) and a
   second one (every row updated, no change), with the number of SQL statements (fixed: it must not grow).
2. GET /api/institution/at-risk, first page (50, smallest margin first) over those levels.
3. POST /api/institution/attendance/mark of a whole 50-learner register (alternately all PRESENT and all ABSENT,
   so every request writes 50 marks) with that cohort's levels refreshed in the same transaction.

Times 2 and 3 are the app's own time for the request, measured around the WSGI call in-process (Flask's test
client: no HTTP server, no network), beside `GET /api/health` through the same client.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_parser, build_app, fmt, start  # bench/common.py
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEARNERS, SESSIONS, MARKED = 50, 50, 40
BARE = ("GET /api/health (no auth, no SQL) through the same test client; for the mark, the same requests with the "
        "level refresh switched off")


def seed(session: Any, cohorts: int) -> dict[str, Any]:
    """The institution, its admin (with a token) and `cohorts` cohorts written set-based in SQL."""
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import Institution, Qualification, Role, User

    inst = Institution(name="Bench", slug="bench", time_zone="UTC")
    session.add(inst)
    session.flush()
    qual = Qualification(institution_id=inst.id, code="B1", title="Bench course")
    admin = User(email="admin@bench.example", full_name="Admin", role=Role.ADMIN, institution_id=inst.id)
    session.add_all([qual, admin])
    session.commit()
    params = {"inst": inst.id, "qual": qual.id, "cohorts": cohorts, "learners": LEARNERS, "sessions": SESSIONS,
              "marked": MARKED}
    statements = [
        "INSERT INTO cohorts (institution_id, qualification_id, name, status, cohort_type, created_at, updated_at) "
        "SELECT :inst, :qual, 'Cohort ' || lpad(g::text, 5, '0'), 'ACTIVE', 'public', now(), now() "
        "FROM generate_series(1, :cohorts) g",
        "INSERT INTO learners (institution_id, full_name, created_at) "
        "SELECT :inst, 'Learner ' || g, now() FROM generate_series(1, CAST(:cohorts AS integer) * :learners) g",
        "INSERT INTO enrolments (learner_id, qualification_id, cohort_id, status, created_at) "
        "SELECT l.id, :qual, c.id, 'ACTIVE', now() FROM learners l "
        "JOIN cohorts c ON c.id = (SELECT min(id) FROM cohorts) + (l.id - (SELECT min(id) FROM learners)) / :learners",
        # One session a day, 09:00-12:00 UTC: the first 40 in the past (marked), the last 10 ahead.
        "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, "
        "ends_at, slot, session_type, status, is_locked, created_at, updated_at) "
        "SELECT :inst, c.id, current_date - :marked - 1 + g, '09:00', '12:00', "
        "(current_date - :marked - 1 + g) + time '09:00', (current_date - :marked - 1 + g) + time '12:00', 1, "
        "'THEORY', 'SCHEDULED', false, now(), now() FROM cohorts c, generate_series(1, :sessions) g",
        # Learner i is absent about (i mod 30) % of the time; one mark in 50 is EXCUSED.
        "INSERT INTO attendance_records (enrolment_id, record_date, session_id, status, created_at) "
        "SELECT e.id, s.session_date, s.id, CASE WHEN (e.id * 7 + s.id) % 50 = 0 THEN 'EXCUSED' "
        "WHEN (e.id * 31 + s.id * 17) % 100 < e.id % 30 THEN 'ABSENT' ELSE 'PRESENT' END, now() "
        "FROM enrolments e JOIN class_sessions s ON s.cohort_id = e.cohort_id AND s.session_date < current_date",
    ]
    for statement in statements:
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(text(statement), params)
        session.commit()
    token = create_api_token(session, admin, CreateApiToken(name="bench"))
    records = session.scalar(text("SELECT count(*) FROM attendance_records"))
    enrolments = session.scalar(text("SELECT count(*) FROM enrolments"))
    return {"token": token, "records": records, "enrolments": enrolments, "institution_id": inst.id,
            "cohort_id": session.scalar(text("SELECT min(id) FROM cohorts"))}


def open_registers(session: Any, institution_id: int, n: int) -> list[tuple[int, list[int]]]:
    """`n` registers started half an hour ago (slot 2: no overlap with the day's sessions), with their rosters."""
    session.execute(text(
        "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, "
        "ends_at, slot, session_type, status, is_locked, created_at, updated_at) "
        "SELECT :inst, c.id, (now() AT TIME ZONE 'UTC')::date, '00:00', '00:01', now() - interval '30 minutes', "
        "now() + interval '30 minutes', 2, 'THEORY', 'SCHEDULED', false, now(), now() "
        "FROM (SELECT id FROM cohorts ORDER BY id LIMIT :n) c"), {"inst": institution_id, "n": n})
    session.commit()
    rows = session.execute(text("SELECT s.id, array_agg(e.id ORDER BY e.id) FROM class_sessions s "
                                "JOIN enrolments e ON e.cohort_id = s.cohort_id WHERE s.slot = 2 GROUP BY s.id "
                                "ORDER BY s.id")).all()
    return [(sid, list(ids)) for sid, ids in rows]


def counted(engine: Any, work: Any) -> tuple[float, int]:
    """Seconds `work` took and the SQL statements it ran."""
    count = [0]

    def on_execute(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        t0 = time.perf_counter()
        work()
        return time.perf_counter() - t0, count[0]
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def timed_get(client: Any, url: str, headers: dict[str, str] | None, n: int) -> list[float]:
    for _ in range(3):
        assert client.get(url, headers=headers).status_code == 200
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.data[:300]
    return times


def timed_marks(client: Any, headers: dict[str, str], registers: list[tuple[int, list[int]]], n: int) -> list[float]:
    times = []
    for i in range(n + 5):
        session_id, roster = registers[i % len(registers)]
        status = "ABSENT" if (i // len(registers)) % 2 == 0 else "PRESENT"
        body = {"session_id": session_id, "records": [{"id": e, "status": status} for e in roster]}
        t0 = time.perf_counter()
        response = client.post("/api/institution/attendance/mark", json=body, headers=headers)
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.data[:300]
        if i >= 5:  # the first few warm the caches
            times.append(elapsed)
    return times


def main() -> None:
    parser = bench_parser(__doc__, "bench_h24")
    parser.add_argument("--cohorts", type=int, default=1000, help=f"cohorts of {LEARNERS} learners")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--marks", type=int, default=100)
    args = parser.parse_args()
    run = start(args)
    instance = tempfile.mkdtemp(prefix="bench-at-risk-")
    print("building schema with the real migrations…", flush=True)
    app = build_app(run, instance, WTF_CSRF_ENABLED=False)
    from core.at_risk import service
    from web.extensions import db

    t0 = time.perf_counter()
    # Seeded on an engine of its own: the app's bounds every statement client-side (DB_STATEMENT_TIMEOUT_MS).
    plain = create_engine(run.db_url)
    with app.app_context(), Session(plain) as session:
        seeded = seed(session, args.cohorts)
        registers = open_registers(session, seeded["institution_id"], 20)
    with plain.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    plain.dispose()
    print(f"seeded {seeded['enrolments']:,} enrolments, {seeded['records']:,} records in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    rows = run.rows
    with app.app_context():
        first, statements = counted(db.engine, lambda: service.recompute(db.session))
        second, statements2 = counted(db.engine, lambda: service.recompute(db.session))
        levels = dict(db.session.execute(text("SELECT level, count(*) FROM at_risk_levels GROUP BY level")).all())
        db.session.remove()
    rows.append((f"recompute {seeded['enrolments']:,} levels, first run", f"{first:.2f} s", "≤ 10 s"))
    rows.append(("recompute again (every row updated)", f"{second:.2f} s", "≤ 10 s"))
    rows.append(("   SQL statements per run", f"{statements}, {statements2}", "fixed"))
    rows.append(("   levels", ", ".join(f"{k} {v:,}" for k, v in sorted(levels.items())), ""))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    rows.append(("bare: GET /api/health, same client", fmt(timed_get(client, "/api/health", None, args.requests)),
                 ""))
    rows.append(("GET /api/institution/at-risk (first page of 50)",
                 fmt(timed_get(client, "/api/institution/at-risk", headers, args.requests)), "≤ 200 ms"))
    rows.append(("   with ?level=at_risk&cohort=<id>", fmt(timed_get(
        client, f"/api/institution/at-risk?level=at_risk&cohort={seeded['cohort_id']}", headers, args.requests)),
        ""))
    rows.append((f"POST mark ({LEARNERS} learners) + that cohort's levels", fmt(timed_marks(
        client, headers, registers, args.marks)), "≤ 40 ms p95"))
    refresh = service.refresh_cohorts
    service.refresh_cohorts = lambda *_a, **_k: None  # type: ignore[assignment]
    try:
        rows.append(("   bare: the same marks without the level refresh", fmt(timed_marks(
            client, headers, registers, args.marks)), ""))
    finally:
        service.refresh_cohorts = refresh  # type: ignore[assignment]
    run.report(BARE, result_width=44)


if __name__ == "__main__":
    main()
