"""Personal data speed on PostgreSQL (issue 25). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/bench_personal_data.py [--db bench_h25]

One institution, one public cohort of 30 learners and 2,000 sessions; the learner under test has a mark on every
session (2,000 marks, each with an audit event) and 20 evidence files of 200 kB.

1. Export of that learner (core.personal_data.exports.build, the worker's use case, in this process): ZIP with
   data.json, summary.pdf (WeasyPrint) and the 20 files. Target <= 5 s. Bare: one SELECT of the 2,000 marks.
2. Erasure of that learner (core.personal_data.erasure.erase: one transaction): target <= 1 s; the cohort's
   per-status counts and each member's attended/counted compared before and after (must be equal).
3. Retention over 1,000,000 import rows of which 100,000 are due (core.personal_data.retention.apply_institution,
   batches of 1,000, each its own transaction): target <= 60 s, while a thread marks (UPDATE of one attendance row,
   autocommit) every 10 ms; the longest mark must stay under 50 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import bench_parser, build_app, pct, start  # bench/common.py (scripts run from bench/)
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SESSIONS, MEMBERS, FILES = 2000, 30, 20
DUE, TOTAL = 100_000, 1_000_000


def seed(session: Any, storage: Any) -> dict[str, Any]:
    from core.models import Cohort, Institution, Learner, Role, User

    inst = Institution(name="Bench", slug="bench", time_zone="Africa/Algiers")
    session.add(inst)
    session.flush()
    admin = User(email="admin@bench.example", full_name="Admin", role=Role.ADMIN, institution_id=inst.id)
    cohort = Cohort(institution_id=inst.id, name="Bench cohort", start_date=dt.date(2020, 1, 1),
                    end_date=dt.date(2026, 12, 31))
    session.add_all([admin, cohort])
    session.flush()
    for i in range(MEMBERS):
        session.add(Learner(institution_id=inst.id, full_name=f"Bench Learner {i:03d}", id_number=f"BL{i:06d}",
                            email=f"bl{i}@bench.example", phone_e164=f"+2135500{i:05d}"))
    session.flush()
    p = {"inst": inst.id, "cohort": cohort.id, "n": SESSIONS, "admin": admin.id}
    session.execute(text("INSERT INTO enrolments (learner_id, cohort_id, status, enrolled_on, created_at) SELECT id, "
                         ":cohort, 'ACTIVE', '2020-01-01', now() FROM learners WHERE institution_id = :inst"), p)
    session.execute(text(
        "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, starts_at, "
        "ends_at, slot, session_type, status, is_locked, created_at, updated_at) "
        "SELECT :inst, :cohort, d::date, '09:00', '10:00', d + interval '8 hours', d + interval '9 hours', 1, "
        "'THEORY', 'SCHEDULED', false, now(), now() "
        "FROM generate_series(timestamptz '2020-01-06', timestamptz '2020-01-06' + (:n - 1) * interval '1 day', "
        "interval '1 day') d"), p)
    session.execute(text(
        "INSERT INTO attendance_records (enrolment_id, record_date, session_id, status, notes, marked_by_id, "
        "marked_at, version, updated_at, source, created_at) "
        "SELECT e.id, s.session_date, s.id, CASE WHEN s.id % 5 = 0 THEN 'ABSENT' ELSE 'PRESENT' END, "
        "CASE WHEN s.id % 50 = 0 THEN 'Seen ' || l.full_name END, :admin, now(), 1, now(), 'staff', now() "
        "FROM enrolments e JOIN learners l ON l.id = e.learner_id JOIN class_sessions s ON s.cohort_id = e.cohort_id"),
        p)
    target = session.scalar(text("SELECT l.id FROM learners l WHERE institution_id = :inst ORDER BY id LIMIT 1"), p)
    p["target"] = target
    session.execute(text(
        "INSERT INTO audit_events (at, actor_id, action, entity_type, entity_id, before, after, context) "
        "SELECT now(), :admin, 'attendance.mark', 'attendance_record', a.id, NULL, "
        "jsonb_build_object('status', a.status, 'name', l.full_name), NULL FROM attendance_records a "
        "JOIN enrolments e ON e.id = a.enrolment_id JOIN learners l ON l.id = e.learner_id WHERE l.id = :target"), p)
    records = list(session.scalars(text(
        "SELECT a.id FROM attendance_records a JOIN enrolments e ON e.id = a.enrolment_id "
        "WHERE e.learner_id = :target ORDER BY a.id LIMIT :files"), {**p, "files": FILES}))
    for record_id in records:
        stored = storage.save_bytes(os.urandom(200_000), "evidence", ".pdf")
        evidence_id = session.scalar(text(
            "INSERT INTO evidence_files (storage_key, original_filename, content_type, size_bytes, sha256, created_at) "
            "VALUES (:k, 'note.pdf', 'application/pdf', :s, :h, now()) RETURNING id"),
            {"k": stored.key, "s": stored.size, "h": stored.sha256})
        session.execute(text("UPDATE attendance_records SET evidence_file_id = :e WHERE id = :r"),
                        {"e": evidence_id, "r": record_id})
    session.commit()
    return p


def cohort_figures(session: Any, cohort_id: int) -> Any:
    return session.execute(text(
        "SELECT e.id, count(*) FILTER (WHERE a.status IN ('PRESENT', 'LATE')), count(a.id) FROM enrolments e "
        "LEFT JOIN attendance_records a ON a.enrolment_id = e.id WHERE e.cohort_id = :c GROUP BY e.id ORDER BY e.id"),
        {"c": cohort_id}).all()


def seed_imports(session: Any, institution_id: int) -> None:
    per = 10_000
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    new = dt.datetime.now(dt.UTC) - dt.timedelta(days=5)
    for n in range(TOTAL // per):
        when = old if n < DUE // per else new
        import_id = session.scalar(text(
            "INSERT INTO trainee_imports (kind, institution_id, original_filename, storage_key, size_bytes, sha256, "
            "status, rows_done, valid_count, invalid_count, errors_by_reason, inserted_count, enrolled_count, "
            "possible_duplicate_count, duplicate_file_confirmed, include_possible_duplicates, created_at, "
            "committed_at) VALUES ('LEARNERS', :i, 'f.csv', :k, 1, 'x', 'COMMITTED', 0, 0, 0, '{}', 0, 0, 0, false, "
            "false, :w, :w) RETURNING id"), {"i": institution_id, "k": f"imports/bench/{n}.csv", "w": when})
        session.execute(text("INSERT INTO trainee_import_rows (import_id, row_number, ok, full_name) "
                             "SELECT :i, g, true, 'Row ' || g FROM generate_series(1, :n) g"),
                        {"i": import_id, "n": per})
    session.commit()


def main() -> None:
    args = bench_parser(__doc__, "bench_h25").parse_args()
    run = start(args)
    instance = tempfile.mkdtemp(prefix="bench-personal-data-")
    app = build_app(run, instance)
    from core import clock
    from core.models import DataExport, User
    from core.personal_data import erasure, exports, retention
    from web.extensions import db

    with app.app_context():
        storage = app.extensions["storage"]
        session = db.session
        p = seed(session, storage)
        export = DataExport(institution_id=p["inst"], person_kind="learners", person_id=p["target"], status="PENDING",
                            language="en", created_at=clock.now())
        session.add(export)
        session.commit()
        t = time.perf_counter()
        session.execute(text("SELECT a.* FROM attendance_records a JOIN enrolments e ON e.id = a.enrolment_id "
                             "WHERE e.learner_id = :target"), p).all()
        bare = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        exports.build(session, storage, export.id, str(ROOT / "web" / "translations"))
        took = time.perf_counter() - t
        size = session.get(DataExport, export.id).size_bytes
        run.rows.append(("export: 2,000 marks + 20 files (200 kB)", f"{took:6.2f} s ({size // 1024} kB ZIP); bare "
                         f"{bare:.1f} ms", "<= 5 s"))
        before = cohort_figures(session, p["cohort"])
        admin = session.get(User, p["admin"])
        session.commit()
        t = time.perf_counter()
        erasure.erase(session, admin, "learners", p["target"], "bench", None, clock.now())
        took = time.perf_counter() - t
        same = cohort_figures(session, p["cohort"]) == before
        run.rows.append(("erasure: 2,000 marks, one transaction", f"{took * 1000:7.1f} ms; rates unchanged: {same}",
                         "<= 1 s"))
        seed_imports(session, p["inst"])
        engine = create_engine(run.db_url, isolation_level="AUTOCOMMIT")
        waits: list[float] = []
        stop = threading.Event()

        def mark() -> None:
            with engine.connect() as conn:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    conn.execute(text("UPDATE attendance_records SET version = version + 1 WHERE id = "
                                      "(SELECT min(id) FROM attendance_records)"))
                    waits.append((time.perf_counter() - t0) * 1000)
                    time.sleep(0.01)

        marker = threading.Thread(target=mark)
        marker.start()
        time.sleep(3)  # marks alone first: the machine's own latency, to read the figure against
        alone, waits[:] = list(waits), []
        t = time.perf_counter()
        counts = retention.apply_institution(session, storage, p["inst"])
        took = time.perf_counter() - t
        stop.set()
        marker.join()
        left = session.scalar(text("SELECT count(*) FROM trainee_import_rows"))
        run.rows.append(("retention: 1,000,000 rows, 100,000 due", f"{took:6.2f} s; removed {counts['import_rows']:,}"
                         f", left {left:,}; marks p99 {pct(waits, 99):.1f} max {max(waits):.1f} ms "
                         f"(alone: p99 {pct(alone, 99):.1f} max {max(alone):.1f} ms)",
                         "<= 60 s; marks < 50 ms"))
        engine.dispose()
    run.report("one SELECT of the learner's 2,000 marks (the export's own read, alone)", result_width=70)


if __name__ == "__main__":
    main()
