"""The audit chain's speed on PostgreSQL. Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/10 .venv/bin/python bench/bench_audit_chain.py --db bench_audit_chain
        [--rows 1000000] [--host postgresql+psycopg://postgres@127.0.0.1:5432]

1. Verification (core/audit_trail/verify.py, what `flask audit verify` and the nightly job run) of one
   institution's chain of `--rows` audit rows shaped like bulk-mark rows, against the bare read of the same
   rows in the same batches without hashing. Target: >= 200,000 rows per second.
2. Appending: a 500-row INSERT into audit_events (one register's audit rows) with the chain trigger, against
   the same INSERT with the trigger disabled (the bare statement): what chaining adds to a bulk mark.

Rows are seeded through the trigger itself, in 500-row statements, so the chain verified is one the database
built.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import Run, bench_parser, build_app, fmt, start  # bench/common.py (scripts run from bench/)
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One register's audit rows, as the bulk mark writes them (store._upsert_sql).
_INSERT = text("""
INSERT INTO audit_events (institution_id, at, actor_id, action, entity_type, entity_id, before, after, context)
SELECT :inst, now(), 7, 'attendance.mark', 'attendance_record', :base + g,
       jsonb_build_object('status', 'ABSENT', 'minutes_late', NULL, 'notes', NULL),
       jsonb_build_object('status', 'PRESENT', 'minutes_late', NULL, 'notes', 'on time'),
       jsonb_build_object('session_id', 4242, 'enrolment_id', 100000 + g, 'version', 3, 'source', 'staff')
  FROM generate_series(1, :n) AS g
""")


def seed(engine, institution_id: int, rows: int) -> float:
    started = time.perf_counter()
    done = 0
    while done < rows:
        n = min(500, rows - done)
        with engine.begin() as conn:
            conn.execute(_INSERT, {"inst": institution_id, "base": done, "n": n})
        done += n
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_events"))
    return time.perf_counter() - started


def bare_read(engine, institution_id: int, batch: int) -> tuple[float, int]:
    """The same rows, the same batches, in seq order, without the hashes: what reading alone costs."""
    sql = text("SELECT id, seq, prev_hash, row_hash FROM audit_events WHERE institution_id = :i AND seq > :after "
               "ORDER BY seq LIMIT :batch")
    started, after, count = time.perf_counter(), 0, 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(sql, {"i": institution_id, "after": after, "batch": batch}).all()
            if not rows:
                break
            count += len(rows)
            after = rows[-1][1]
    return time.perf_counter() - started, count


def append_ms(engine, institution_id: int, runs: int, chained: bool) -> list[float]:
    times = []
    for n in range(runs):
        with engine.begin() as conn:
            if not chained:
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain"))
            started = time.perf_counter()
            conn.execute(_INSERT, {"inst": institution_id, "base": 10_000_000 + n * 500, "n": 500})
            times.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    return times


def main() -> None:
    parser = bench_parser(__doc__, "bench_audit_chain")
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit rows in the chain verified")
    parser.add_argument("--appends", type=int, default=100, help="500-row appends timed, each way")
    args = parser.parse_args()
    run: Run = start(args)
    instance = tempfile.mkdtemp(prefix="bench-audit-chain-")
    app = build_app(run, instance)
    from core.audit_trail import verify
    from core.models import Institution
    from web.extensions import db

    engine = create_engine(run.db_url)
    with app.app_context():
        inst = Institution(name="Bench", slug="bench", time_zone="Africa/Algiers")
        db.session.add(inst)
        db.session.commit()
        institution_id = inst.id
    seeded = seed(engine, institution_id, args.rows)
    print(f"seeded {args.rows:,} chained rows in {seeded:.1f} s ({args.rows / seeded:,.0f} rows/s through the "
          "trigger)", flush=True)
    bare_s, bare_n = bare_read(engine, institution_id, verify.BATCH)
    with app.app_context():
        started = time.perf_counter()
        report = verify.verify_chain(db.session, institution_id)
        own_s = time.perf_counter() - started
        db.session.remove()
    assert report.ok and report.rows == args.rows == bare_n, (report, bare_n)
    chained = append_ms(engine, institution_id, args.appends, chained=True)
    bare = append_ms(engine, institution_id, args.appends, chained=False)
    run.rows += [
        (f"verify a chain of {args.rows:,} rows", f"{args.rows / own_s:,.0f} rows/s ({own_s:.2f} s; bare read "
         f"{bare_n / bare_s:,.0f} rows/s, {bare_s:.2f} s)", ">= 200,000 rows/s"),
        ("append 500 audit rows (one register)", f"{fmt(chained)}", "(bulk mark p95 <= 40 ms)"),
        ("  the same INSERT, trigger disabled", f"{fmt(bare)}",
         f"chaining adds {statistics.median(chained) - statistics.median(bare):.1f} ms (p50)"),
    ]
    run.report("reading the same rows in the same batches without hashing; the same INSERT without the chain "
               "trigger")
    engine.dispose()


if __name__ == "__main__":
    main()
