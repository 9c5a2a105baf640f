"""Organization portal speed on PostgreSQL. Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_portals.py [--db attendance_bench_portals]
        [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--requests 50] [--cohorts 200]

One organization with 200 corporate cohorts; each cohort 50 trainees and 100 past sessions, every trainee
marked in every session: 20,000 sessions and 1,000,000 attendance records.

1. GET /api/org/programs: the whole list (per_page=200) and the default first page (50), and the number
   of SQL statements each request runs (it must not grow with the number of cohorts).
2. GET /api/org/programs/<id> of one 100-session cohort.

Time is the app's own time for the request (auth, validation, SQL, JSON), measured around the WSGI call
in-process (Flask's test client: no HTTP server, no network). Beside each: two bare figures from the same run,
`GET /api/health` (no auth, no SQL) through the same client, and the request's own SQL statements replayed on
one connection with no app around them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_parser, build_app, captured_statements, fmt, pct, replay_ms, start  # bench/common.py
from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRAINEES, SESSIONS = 50, 100
BARE = ("GET /api/health (no auth, no SQL) through the same test client; and the request's own SQL statements "
        "(captured from a warm run) replayed on one connection: no HTTP, auth, Python or JSON around them")


def seed(session: Any, cohorts: int) -> dict[str, Any]:
    """The organization, its member (with a token) and `cohorts` cohorts of 50 trainees × 100 marked sessions,
    written set-based in SQL."""
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import Institution, Organization, OrgMembership, Role, User

    inst = Institution(name="Bench", slug="bench", time_zone="Africa/Algiers")
    session.add(inst)
    session.flush()
    org = Organization(institution_id=inst.id, name="Bench Client")
    member = User(email="client@bench.example", full_name="Client", role=Role.ORG_MEMBER)
    session.add_all([org, member])
    session.flush()
    session.add(OrgMembership(organization_id=org.id, user_id=member.id))
    session.commit()
    params = {"inst": inst.id, "org": org.id, "cohorts": cohorts, "trainees": TRAINEES, "sessions": SESSIONS}
    statements = [
        "INSERT INTO corporate_agreements (organization_id, reference, title, status, created_at) "
        "SELECT :org, 'BENCH-' || g, 'Agreement ' || g, 'ACTIVE', now() FROM generate_series(1, :cohorts) g",
        "INSERT INTO cohorts (institution_id, name, status, cohort_type, organization_id, agreement_id, "
        "start_date, created_at, updated_at) "
        "SELECT :inst, 'Programme ' || lpad(a.id::text, 4, '0'), 'ACTIVE', 'corporate', :org, a.id, "
        "current_date - 200 + (a.id % 50), now(), now() FROM corporate_agreements a",
        "INSERT INTO corporate_trainees (cohort_id, full_name, active, created_at) "
        "SELECT c.id, 'Trainee ' || c.id || '-' || g, true, now() FROM cohorts c, generate_series(1, :trainees) g",
        # One session a day, 09:00-12:00 UTC, all in the past.
        "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, "
        "ends_at, slot, session_type, status, is_locked, created_at, updated_at) "
        "SELECT :inst, c.id, current_date - 150 + g, '09:00', '12:00', "
        "(current_date - 150 + g) + time '09:00', (current_date - 150 + g) + time '12:00', 1, 'THEORY', "
        "CASE WHEN g % 25 = 0 THEN 'CANCELLED' ELSE 'SCHEDULED' END, true, now(), now() "
        "FROM cohorts c, generate_series(1, :sessions) g",
        "INSERT INTO corporate_attendance_records (trainee_id, session_id, status, marked_at, version, created_at, "
        "updated_at) SELECT t.id, s.id, (ARRAY['PRESENT','PRESENT','PRESENT','LATE','ABSENT','EXCUSED'])"
        "[1 + ((t.id + s.id) % 6)], now(), 1, now(), now() "
        "FROM class_sessions s JOIN corporate_trainees t ON t.cohort_id = s.cohort_id",
    ]
    for statement in statements:
        session.execute(text("SET LOCAL statement_timeout = 0"))  # a million rows take longer than the app's limit
        session.execute(text(statement), params)
        session.commit()
    token = create_api_token(session, member, CreateApiToken(name="bench"))
    cohort_id = session.scalar(text("SELECT min(id) FROM cohorts"))
    records = session.scalar(text("SELECT count(*) FROM corporate_attendance_records"))
    return {"token": token, "cohort_id": cohort_id, "records": records}


def timed(app: Any, client: Any, url: str, headers: dict[str, str] | None, n: int
          ) -> tuple[list[float], list[int]]:
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[int] = []
    count = [0]

    def on_execute(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(5):  # warm caches and the connection pool
            assert client.get(url, headers=headers).status_code == 200
        times = []
        for _ in range(n):
            count[0] = 0
            t0 = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            statements.append(count[0])
            assert response.status_code == 200, response.data[:300]
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return times, statements


def bare_sql(app: Any, client: Any, url: str, headers: dict[str, str], n: int) -> list[float]:
    """The request's own SQL statements, captured from one warm run and replayed on one connection."""
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    return replay_ms(engine, captured_statements(engine, lambda: client.get(url, headers=headers)), n)


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_portals")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--cohorts", type=int, default=200, help=f"cohorts of {TRAINEES} × {SESSIONS} marked sessions")
    args = parser.parse_args()
    run = start(args)
    instance = tempfile.mkdtemp(prefix="bench-portals-")
    print("building schema with the real migrations…", flush=True)
    app = build_app(run, instance)
    from web.extensions import db

    t0 = time.perf_counter()
    with app.app_context():
        seeded = seed(db.session, args.cohorts)
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"seeded {args.cohorts} cohorts, {seeded['records']:,} records in {time.perf_counter() - t0:.0f} s",
          flush=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    health, _ = timed(app, client, "/api/health", None, args.requests)
    rows = run.rows
    rows.append(("bare: GET /api/health (no auth, no SQL), same client", fmt(health), ""))
    for label, path, target in (
        (f"GET /api/org/programs?per_page={args.cohorts} (all {args.cohorts})", f"/api/org/programs?per_page="
         f"{args.cohorts}", "≤ 150 ms"),
        ("GET /api/org/programs (first page of 50)", "/api/org/programs", "≤ 150 ms"),
        (f"GET /api/org/programs/<id> ({SESSIONS} sessions)", f"/api/org/programs/{seeded['cohort_id']}", "≤ 100 ms"),
    ):
        times, statements = timed(app, client, path, headers, args.requests)
        bare = bare_sql(app, client, path, headers, args.requests)
        rows.append((label, fmt(times), target))
        rows.append(("   SQL statements per request", f"{min(statements)}–{max(statements)}", "fixed"))
        rows.append(("   bare: those statements replayed", fmt(bare),
                     f"request = {pct(times, 50) / pct(bare, 50):.1f}× bare SQL, "
                     f"{pct(times, 50) / pct(health, 50):.1f}× health (p50)"))
    run.report(BARE, result_width=44)


if __name__ == "__main__":
    main()
