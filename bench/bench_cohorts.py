"""Cohort list, cohort page and learner import benchmark (issue 9). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_cohorts.py
        [--db attendance_bench_cohorts] [--host postgresql+psycopg://postgres@127.0.0.1:5432]
        [--cohorts 1000] [--import-rows 100000] [--runs 20]

Builds (set-based SQL) 1,000 cohorts (`--cohorts`), 50 learners enrolled per cohort, 40 sessions per cohort and
2,000,000 attendance records, plus one cohort of 500 learners × 100 sessions; then measures, through the app
with a Bearer token, `GET /api/institution/cohorts` (p50/p95 and SQL statements per request at two page sizes),
`GET /api/institution/cohorts/<id>` for the 500 × 100 cohort, each beside its bare SQL (the statements the
request ran, captured and replayed on one connection with no app around them), and a learner CSV import
(validation with row results written to PostgreSQL, then the set-based commit) in rows/s beside a trainee import
of as many rows of the same shape into the demo's corporate cohort (different phones and emails, so no cache is
warm for either).
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_parser, build_app, captured_statements, replay_ms, start  # bench/common.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402

# :n cohorts of 50 learners × 40 sessions, and cohort n + 1 of 500 learners × 100 sessions, in the demo
# institution (id 1); bench rows are told from the demo's by their names and codes.
SETUP = """
INSERT INTO qualifications (institution_id, code, title, active, created_at)
  SELECT 1, 'BQ' || g, 'Course ' || g, true, now() FROM generate_series(1, 20) g;
INSERT INTO cohorts (institution_id, qualification_id, name, start_date, end_date, status, cohort_type, created_at,
                     updated_at)
  SELECT 1, q.first + g % 20, 'Bench cohort ' || g, current_date - 60, current_date + 60, 'ACTIVE', 'public', now(),
         now()
  FROM generate_series(1, :n + 1) g, (SELECT min(id) AS first FROM qualifications WHERE code LIKE 'BQ%') q;
INSERT INTO learners (institution_id, full_name, id_number, created_at)
  SELECT 1, 'Learner ' || g, 'BL' || g, now() FROM generate_series(1, :n * 50 + 500) g;
INSERT INTO enrolments (learner_id, cohort_id, status, enrolled_on, created_at)
  SELECT l.id, c.id, 'ACTIVE', current_date - 60, now()
  FROM (SELECT id, CAST(substr(id_number, 3) AS integer) AS g FROM learners WHERE id_number LIKE 'BL%') l
  JOIN cohorts c ON c.name = 'Bench cohort ' || CASE WHEN l.g <= :n * 50 THEN 1 + (l.g - 1) / 50 ELSE :n + 1 END;
INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, ends_at, slot,
                            session_type, status, is_locked, created_at, updated_at)
  SELECT 1, c.id, current_date - 50 + s, '09:00', '12:00', (current_date - 50 + s) + time '08:00',
         (current_date - 50 + s) + time '11:00', 1, 'THEORY', 'SCHEDULED', false, now(), now()
  FROM cohorts c, generate_series(1, 40) s
  WHERE c.name LIKE 'Bench cohort %' AND c.name <> 'Bench cohort ' || (:n + 1);
INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, ends_at, slot,
                            session_type, status, is_locked, created_at, updated_at)
  SELECT 1, c.id, current_date - 60 + s, '13:00', '14:00', (current_date - 60 + s) + time '12:00',
         (current_date - 60 + s) + time '13:00', 1, 'THEORY', 'SCHEDULED', false, now(), now()
  FROM cohorts c, generate_series(1, 100) s WHERE c.name = 'Bench cohort ' || (:n + 1);
INSERT INTO attendance_records (enrolment_id, session_id, record_date, status, marked_at, version, created_at,
                                updated_at)
  SELECT e.id, s.id, s.session_date,
         (ARRAY['PRESENT','PRESENT','PRESENT','LATE','ABSENT','EXCUSED'])[1 + (e.id + s.id) % 6], now(), 1, now(), now()
  FROM cohorts c JOIN enrolments e ON e.cohort_id = c.id
  JOIN class_sessions s ON s.cohort_id = c.id AND s.ends_at < now()
  WHERE c.name LIKE 'Bench cohort %';
"""
BARE = ("the SQL statements the request ran (captured from its last warm run), replayed on one connection with no "
        "app around them: no HTTP, no auth, no Python between them, no JSON")


def _timed(client, url: str, headers: dict[str, str], runs: int) -> tuple[list[float], int]:
    from web.extensions import db

    statements: list[int] = []

    def count(*_args: object) -> None:
        statements.append(1)

    samples = []
    for _ in range(runs):
        event.listen(db.engine, "before_cursor_execute", count)
        statements.clear()
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.data[:300]
        warm_count = len(statements)  # the last run's: caches warm, as in steady use
    return samples, warm_count


def _percentiles(samples: list[float]) -> str:
    p95 = sorted(samples)[int(0.95 * len(samples)) - 1]
    return f"p50 {statistics.median(samples):.0f} ms, p95 {p95:.0f} ms"


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write("full_name,id_number,email,phone,date_of_birth\n")
    for i in range(rows):
        out.write(f"Person {i},N{i:07d},person{i}@example.com,0550{i % 1000000:06d},1990-01-{1 + i % 28:02d}\n")
    return out.getvalue().encode()


def _trainee_csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write("full_name,phone,email,job_title,employee_code,department\n")
    for i in range(rows):
        out.write(f"Trainee {i},0770{i % 1000000:06d},trainee{i}@example.com,Operator,E{i:07d},Stores\n")
    return out.getvalue().encode()


def _import_rates(label: str, validate: Any, commit: Any, rows: int) -> list[tuple[str, str, str]]:
    """Run `validate` then `commit`; two table rows with rows/s."""
    out = []
    for step, run in (("validation", validate), ("commit", commit)):
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
        out.append((f"{label} {step}, {rows:,} rows", f"{rows / seconds:,.0f} rows/s", f"{seconds:.1f} s"))
    return out


def _with_bare(app: Any, client: Any, url: str, headers: dict[str, str], runs: int, label: str
               ) -> list[tuple[str, str, str]]:
    """The request's p50/p95 and statement count, then the bare replay of its statements, and their ratio."""
    from web.extensions import db

    samples, statements = _timed(client, url, headers, runs)
    with app.app_context():
        engine = db.engine
    captured = captured_statements(engine, lambda: client.get(url, headers=headers))
    bare = replay_ms(engine, captured, runs)
    return [(label, _percentiles(samples), f"{statements} SQL statements"),
            ("  bare: the same SQL replayed", _percentiles(bare),
             f"request = {statistics.median(samples) / statistics.median(bare):.1f}× bare (p50)")]


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_cohorts")
    parser.add_argument("--cohorts", type=int, default=1000, help="cohorts of 50 learners × 40 sessions")
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    run = start(args)
    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.demo import load_demo_data
    from core.imports import commit as commits
    from core.imports import learners as learner_imports
    from core.imports import service as imports
    from core.models import Cohort, CohortType, ImportStatus, TraineeImport, User
    from web.extensions import db

    app = build_app(run, tempfile.mkdtemp(prefix="bench-cohorts-"), WTF_CSRF_ENABLED=False,
                    DB_STATEMENT_TIMEOUT_MS=900_000)
    rows = run.rows
    with app.app_context():
        load_demo_data(db.session)
        started = time.perf_counter()
        with db.engine.begin() as conn:
            for statement in SETUP.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"n": args.cohorts})
            big = conn.execute(text("SELECT id FROM cohorts WHERE name = :name"),
                               {"name": f"Bench cohort {args.cohorts + 1}"}).scalar()
            records = conn.execute(text("SELECT count(*) FROM attendance_records")).scalar()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        rows.append(("setup: cohorts / learners / records",
                     f"{args.cohorts + 1} / {args.cohorts * 50 + 500} / {records:,}",
                     f"{time.perf_counter() - started:.0f} s"))
        admin = db.session.scalar(db.select(User).where(User.email == "admin@demo.example"))
        token = create_api_token(db.session, admin, CreateApiToken(name="bench"))
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        for per_page in (50, 200):
            rows += _with_bare(app, client, f"/api/institution/cohorts?per_page={per_page}", headers, args.runs,
                               f"GET /api/institution/cohorts per_page={per_page}")
        rows += _with_bare(app, client, f"/api/institution/cohorts/{big}", headers, args.runs,
                           "GET /api/institution/cohorts/<id> 500 × 100")

        storage = app.extensions["storage"]
        data = _csv(args.import_rows)
        imp = learner_imports.create_learner_import(
            db.session, storage, institution_id=admin.institution_id, cohort_id=None, uploader=admin,
            stream=io.BytesIO(data), filename="bench.csv", max_bytes=len(data) + 1)
        learner_id = imp.id

        def request_learner_commit() -> None:
            validated = db.session.get(TraineeImport, learner_id)
            assert validated.status == ImportStatus.VALIDATED, (validated.status, validated.error_message)
            learner_imports.request_learner_commit(db.session, validated, admin)
            learner_imports.commit_learner_import(db.session, learner_id)

        rows += _import_rates("learner import", lambda: imports.validate_import(db.session, storage, learner_id),
                              request_learner_commit, args.import_rows)

        corporate = db.session.scalar(db.select(Cohort).where(Cohort.cohort_type == CohortType.CORPORATE))
        data = _trainee_csv(args.import_rows)
        imp = imports.create_import(db.session, storage, cohort=corporate, uploader=admin, stream=io.BytesIO(data),
                                    filename="bench-trainees.csv", max_bytes=len(data) + 1)
        trainee_id = imp.id

        def request_trainee_commit() -> None:
            validated = db.session.get(TraineeImport, trainee_id)
            assert validated.status == ImportStatus.VALIDATED, (validated.status, validated.error_message)
            commits.request_commit(db.session, trainee_id, admin, cohort=corporate)
            commits.commit_trainees(db.session, trainee_id)

        rows += _import_rates("trainee import", lambda: imports.validate_import(db.session, storage, trainee_id),
                              request_trainee_commit, args.import_rows)
        counts = db.session.execute(text(
            "SELECT kind, status, valid_count, inserted_count FROM trainee_imports WHERE id IN (:a, :b) ORDER BY id"),
            {"a": learner_id, "b": trainee_id}).all()
        rows.append(("imports (kind, status, valid, inserted)", "; ".join(", ".join(map(str, c)) for c in counts),
                     ""))
    run.report(BARE, result_width=32, third="detail")


if __name__ == "__main__":
    main()
