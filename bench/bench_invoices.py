"""Corporate finance speed on PostgreSQL (issue 23). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_invoices.py [--db attendance_bench_invoices]

One institution and organization; 500 corporate cohorts (each its own ACTIVE agreement priced per attended
trainee-day, ZAR 862.50, 15 %), each with 20 trainees and 20 sessions in October 2026 (past their cut-off, so
locked by the rule), every trainee marked (PRESENT, LATE, ABSENT, EXCUSED in turn): 200,000 attendance rows.

1. Drafts for the 500 cohorts × October: the billing run (core.finance.drafting.create_drafts, POST
   /api/invoices/batch: one transaction, a fixed number of statements), and single drafts (POST /api/invoices'
   use case) for 20 of the cohorts, p50/p95. Bare figure: the trainee-day aggregate alone over all 200,000
   rows, one SQL statement.
2. 20 concurrent issues in the one institution (POST /api/invoices/<id>/issue, which numbers, freezes and
   publishes the PDF job to Redis): p50/p95/max, and the numbers given (20 consecutive, no gap, no duplicate).
   a. over HTTP to gunicorn (2 worker processes × 10 threads, as deployed), 20 client threads at once: the
      figure the issue's target is about;
   b. in one Python process (20 threads, each its own test client): every request shares one interpreter
      lock, so this is mostly the 20 requests' Python time one after another; with the counter lock's hold
      time (from the statement that takes the number to the end of the COMMIT, per issue), which is what
      concurrent issues queue on.
   Bare figure: `SELECT 1` round trip p95. The process gets a pool of 50 connections.
3. Invoice PDF time to READY: issue → a real Celery worker (subprocess, documents queue) → READY, for 5
   invoices one after another.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import bench_parser, build_app, pct, print_table, start  # bench/common.py (scripts run from bench/)
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COHORTS, TRAINEES, SESSIONS = 500, 20, 20
PERIOD = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def fmt(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.1f}  p95 {pct(values, 95):7.1f}  max {max(values):7.1f} ms"


def seed(session: Any) -> dict[str, Any]:
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import Institution, Organization, Role, User

    inst = Institution(name="Bench", slug="bench", time_zone="Africa/Johannesburg", invoice_prefix="BEN")
    session.add(inst)
    session.flush()
    org = Organization(institution_id=inst.id, name="Bench Client", contact_email="ap@client.example")
    admin = User(email="admin@bench.example", full_name="Admin", role=Role.ADMIN, institution_id=inst.id)
    session.add_all([org, admin])
    session.commit()
    params = {"inst": inst.id, "org": org.id, "cohorts": COHORTS, "trainees": TRAINEES, "sessions": SESSIONS}
    statements = [
        "INSERT INTO corporate_agreements (organization_id, reference, title, status, created_at, pricing_model, "
        "unit_price, currency, tax_rate, upfront_percent, billing_plan) "
        "SELECT :org, 'BENCH-' || g, 'Agreement ' || g, 'ACTIVE', now(), 'per_attended_trainee_day', 86250, 'ZAR', "
        "1500, 0, 'monthly' FROM generate_series(1, :cohorts) g",
        "INSERT INTO cohorts (institution_id, name, status, cohort_type, organization_id, agreement_id, "
        "start_date, end_date, created_at, updated_at) "
        "SELECT :inst, 'Programme ' || lpad(a.id::text, 4, '0'), 'ACTIVE', 'corporate', :org, a.id, "
        "date '2026-10-01', date '2026-12-31', now(), now() FROM corporate_agreements a",
        "INSERT INTO corporate_trainees (cohort_id, full_name, active, created_at) "
        "SELECT c.id, 'Trainee ' || c.id || '-' || g, true, now() FROM cohorts c, generate_series(1, :trainees) g",
        "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, "
        "ends_at, slot, session_type, status, is_locked, created_at, updated_at) "
        "SELECT :inst, c.id, date '2026-09-30' + g, '09:00', '12:00', "
        "(date '2026-09-30' + g) + time '07:00', (date '2026-09-30' + g) + time '10:00', 1, 'THEORY', "
        "'SCHEDULED', false, now(), now() FROM cohorts c, generate_series(1, :sessions) g",
        "INSERT INTO corporate_attendance_records (trainee_id, session_id, status, marked_at, version, created_at, "
        "updated_at) SELECT t.id, s.id, (ARRAY['PRESENT','PRESENT','LATE','ABSENT','EXCUSED'])"
        "[1 + abs(hashtext(t.id || ':' || s.id)) % 5], now(), 1, now(), now() "
        "FROM class_sessions s JOIN corporate_trainees t ON t.cohort_id = s.cohort_id",
    ]
    for statement in statements:
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(text(statement), params)
        session.commit()
    token = create_api_token(session, admin, CreateApiToken(name="bench"))
    records = session.scalar(text("SELECT count(*) FROM corporate_attendance_records"))
    return {"token": token, "admin_id": admin.id, "records": records, "institution_id": inst.id}


def drafts(app: Any, admin_id: int) -> tuple[float, float, list[int], list[float]]:
    from core.finance import invoices
    from core.finance.commands import CreateDrafts, CreateInvoice
    from core.models import User
    from web.extensions import db

    with app.app_context():
        cohort_ids = list(db.session.scalars(text("SELECT id FROM cohorts ORDER BY id")))
        t0 = time.perf_counter()
        bare = db.session.execute(text(
            "SELECT count(*) FROM (SELECT r.trainee_id, s.session_date FROM corporate_attendance_records r "
            "JOIN class_sessions s ON s.id = r.session_id WHERE r.status IN ('PRESENT', 'LATE') "
            "GROUP BY r.trainee_id, s.session_date) x")).scalar()
        bare_s = time.perf_counter() - t0
        db.session.rollback()
        admin = db.session.get(User, admin_id)
        t0 = time.perf_counter()
        ids = invoices.create_drafts(db.session, admin, CreateDrafts(
            cohort_ids=cohort_ids, period_from=PERIOD[0], period_to=PERIOD[1]), grace_hours=24)
        total = time.perf_counter() - t0
        singles = []
        for cohort_id in cohort_ids[-20:]:
            t0 = time.perf_counter()
            invoices.create_draft(db.session, admin, CreateInvoice(
                cohort_id=cohort_id, period_from=PERIOD[0], period_to=PERIOD[1]), grace_hours=24)
            singles.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
    assert bare and len(ids) == COHORTS
    return total, bare_s, ids, singles


def _hold_times(app: Any) -> list[float]:
    """Record, per issue, how long the counter row stays locked before its COMMIT is sent: from the statement that
    takes the number to the engine's commit (each request runs in its own thread; the COMMIT's own round trip,
    about the bare SELECT 1, comes on top)."""
    from sqlalchemy import event

    from web.extensions import db

    with app.app_context():
        engine = db.engine
    taken: dict[int, float] = {}
    holds: list[float] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "INSERT INTO finance_counters" in statement:
            taken[threading.get_ident()] = time.perf_counter()

    def committed(_conn: Any) -> None:
        started = taken.pop(threading.get_ident(), None)
        if started is not None:
            holds.append((time.perf_counter() - started) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", committed)
    return holds


def concurrent_issues(app: Any, token: str, ids: list[int]) -> tuple[list[float], list[str], list[float],
                                                                       list[float]]:
    from web.extensions import db

    headers = {"Authorization": f"Bearer {token}"}
    warm = app.test_client()
    for _ in range(3):
        warm.get("/api/invoices?per_page=1", headers=headers)
    holds = _hold_times(app)
    barrier = threading.Barrier(len(ids))
    times: list[float] = []
    numbers: list[str] = []
    lock = threading.Lock()

    def issue(invoice_id: int) -> None:
        client = app.test_client()
        barrier.wait()
        t0 = time.perf_counter()
        response = client.post(f"/api/invoices/{invoice_id}/issue", headers=headers, json={})
        elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 200, response.data[:300]
        with lock:
            times.append(elapsed)
            numbers.append(response.get_json()["number"])

    threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        bare = []
        for _ in range(50):
            t0 = time.perf_counter()
            db.session.execute(text("SELECT 1"))
            bare.append((time.perf_counter() - t0) * 1000)
        db.session.remove()
    return times, sorted(numbers), bare, list(holds)


def http_issues(run: Any, instance: str, token: str, ids: list[int]) -> tuple[list[float], list[float], list[str]]:
    """20 issues at once over HTTP to gunicorn (2 processes × 10 threads): client times, the app's own time
    (Server-Timing), and the numbers given."""
    import requests
    from common import Server

    server = Server(run, instance, workers=2, threads=10)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with requests.Session() as warm:
            for _ in range(10):  # every worker process warm (imports, pool, token)
                warm.get(f"{server.base}/api/invoices?per_page=1", headers=headers, timeout=30)
        barrier = threading.Barrier(len(ids))
        times: list[float] = []
        app_times: list[float] = []
        numbers: list[str] = []
        lock = threading.Lock()

        def issue(invoice_id: int) -> None:
            with requests.Session() as http:
                barrier.wait()
                t0 = time.perf_counter()
                response = http.post(f"{server.base}/api/invoices/{invoice_id}/issue", headers=headers, json={},
                                     timeout=60)
                elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.text[:300]
            timing = response.headers.get("Server-Timing", "app;dur=0").split("dur=")[-1]
            with lock:
                times.append(elapsed)
                app_times.append(float(timing))
                numbers.append(response.json()["number"])

        threads = [threading.Thread(target=issue, args=(i,)) for i in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    return times, app_times, sorted(numbers)


def pdf_to_ready(app: Any, token: str, ids: list[int], db_url: str, storage: str, broker: str) -> list[float]:
    import redis

    redis.Redis.from_url(broker).flushdb()
    env = dict(os.environ, DATABASE_URL=db_url, STORAGE_DIR=storage, CELERY_BROKER_URL=broker,
               CELERY_RESULT_BACKEND=broker, SECRET_KEY="bench", LOG_LEVEL="WARNING")
    log = open(Path(storage) / "worker.log", "ab")  # noqa: SIM115
    celery = str(Path(sys.executable).with_name("celery"))
    worker = subprocess.Popen([celery, "-A", "workers.celery_app", "worker", "-c", "1", "-Q", "documents",
                               "--loglevel", "WARNING", "-n", "bench-invoices@%h"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=log)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    times = []
    try:
        time.sleep(8)  # the worker starts and warms up
        for invoice_id in ids:
            t0 = time.perf_counter()
            invoice = client.post(f"/api/invoices/{invoice_id}/issue", headers=headers, json={}).get_json()
            while invoice["document"]["status"] in ("PENDING", "BUILDING") and time.perf_counter() - t0 < 60:
                time.sleep(0.02)
                invoice = client.get(f"/api/invoices/{invoice_id}", headers=headers).get_json()
            assert invoice["document"]["status"] == "READY", invoice
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        worker.terminate()
        worker.wait(30)
    return times


def main() -> None:
    args = bench_parser(__doc__, "attendance_bench_invoices").parse_args()
    run = start(args)  # says which database, Redis and load; recreates the database
    url, broker = run.db_url, run.redis_url
    instance = tempfile.mkdtemp(prefix="bench-invoices-")
    storage = str(Path(instance) / "storage")
    os.environ.update({"CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": broker, "STORAGE_DIR": storage})
    print(f"database {url}; building schema with the real migrations…", flush=True)
    build_app(run, instance)  # the schema, by the real migrations
    from web import create_app
    from web.config import engine_options
    from web.extensions import db

    options = {**engine_options(url, 5000), "pool_size": 25, "max_overflow": 25}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": instance, "SQLALCHEMY_ENGINE_OPTIONS": options})

    t0 = time.perf_counter()
    with app.app_context():
        seeded = seed(db.session)
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"seeded {COHORTS} cohorts, {seeded['records']:,} records in {time.perf_counter() - t0:.0f} s", flush=True)
    total, bare_s, ids, singles = drafts(app, seeded["admin_id"])
    issue_times, numbers, bare, holds = concurrent_issues(app, seeded["token"], ids[:20])
    expected = [f"BEN-2026-{n:06d}" for n in range(1, 21)]
    alone = []
    client = app.test_client()
    for invoice_id in ids[30:50]:  # one at a time: what one issue costs without 19 others in the same process
        t0 = time.perf_counter()
        assert client.post(f"/api/invoices/{invoice_id}/issue", headers={"Authorization": f"Bearer {seeded['token']}"},
                           json={}).status_code == 200
        alone.append((time.perf_counter() - t0) * 1000)
    http_times, http_app, http_numbers = http_issues(run, instance, seeded["token"], ids[50:70])
    pdf_times = pdf_to_ready(app, seeded["token"], ids[20:25], url, storage, broker)
    rows = [
        (f"drafts: {COHORTS} cohorts × October ({seeded['records']:,} rows)", f"{total:.2f} s in all "
         "(one billing run)", "≤ 5 s"),
        ("   single drafts (one cohort each, 20 of them)", fmt(singles), "—"),
        ("   bare: the trainee-day aggregate over all rows", f"{bare_s:.2f} s", "—"),
        ("20 concurrent issues, HTTP to gunicorn (2×10)", fmt(http_times), "p95 ≤ 100 ms"),
        ("   the app's own time (Server-Timing)", fmt(http_app), "—"),
        ("   numbers given", "20 consecutive, no gap, no duplicate" if http_numbers == [
            f"BEN-2026-{n:06d}" for n in range(41, 61)] else str(http_numbers), "consecutive"),
        ("20 concurrent issues, one process (20 threads)", fmt(issue_times), "—"),
        ("   counter lock held (number taken → COMMIT sent)", fmt(holds), "—"),
        ("   numbers given", "20 consecutive, no gap, no duplicate" if numbers == expected else str(numbers),
         "consecutive"),
        ("   one issue at a time (20 of them)", fmt(alone), "—"),
        ("   bare: SELECT 1 round trip", fmt(bare), "—"),
        ("invoice PDF: issue → READY (real worker)", fmt(pdf_times), "≤ 1500 ms"),
    ]
    print_table(rows, result_width=48)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average during the run: {load} (on a shared machine the times vary with it)")


if __name__ == "__main__":
    main()
