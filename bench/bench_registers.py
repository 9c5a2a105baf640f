"""Register documents: speed and memory, against a naive render in the same run. Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_registers.py
        [--db attendance_bench_registers] [--host postgresql+psycopg://postgres@127.0.0.1:5432]
        [--skip-workers] [--quick] [--pages-per-run N]

BENCH_REDIS_URL is the workers' broker in part 4 (its database is emptied first: give the bench its own).

1. Cohort register 500 trainees × 20 sessions: the naive render (one HTML table with a cell per mark and
   repeating header rows, one WeasyPrint pass, "Page x of y" by CSS counters) against the product's
   (fixed rows per page, the grid as monospace slots, tagged PDF/UA; up to REGISTER_PAGES_PER_RUN pages in
   one pass in the building process, longer documents in page runs on child processes joined by qpdf).
2. Session register of 50 trainees: naive (one table) against the product's.
3. Memory: cohort registers of 1,000 and 5,000 trainees (× 20 sessions): peak RSS of the building process and
   of its largest child; flat means it does not grow with the trainees.
4. 20 builds queued at once on two Celery worker processes (Redis): total time and errors (a repeated
   request is served the document already built: the 20 requests make 18 documents).
5. Seals (issue 22): every product build above includes the seal (PAdES, pyHanko), applied last as in
   store_build; its own cost is printed beside (target ≤ 150 ms a document). Verification of an uploaded
   sealed register (the 1,000-trainee cohort register, about 2 MB): inspection (no scripts, no external
   references) and pyHanko's validation of the seal, as POST /verify does it (target ≤ 500 ms).

Each measurement runs in a fresh process (so peak RSS is its own), warmed up as a worker process is (templates,
fonts, PDF code) before the clock starts. Time is wall-clock on this machine; read the figures with the
machine's load in mind (printed first, and last).
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import bench_parser, database_url, redis_url, start  # bench/common.py (run from bench/)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BARE = ("the naive render in the same run: one HTML table with a cell per mark, one WeasyPrint pass, page numbers by "
        "CSS counters, from the same register data")


def _app(db_url: str, storage: str) -> Any:
    from web import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "STORAGE_DIR": storage, "TESTING": True,
                       "CELERY_BROKER_URL": redis_url(), "CELERY_RESULT_BACKEND": redis_url()})


# --- data ------------------------------------------------------------------------------------------------------

def seed(db_url: str, storage: str, sizes: list[int], sessions: int) -> dict[str, Any]:
    """A cohort per size, each with `sessions` past sessions fully marked, set-based."""
    import datetime as dt

    from flask_migrate import upgrade
    from sqlalchemy import text

    from core import clock
    from core.demo import load_demo_data
    from web.extensions import db

    app = _app(db_url, storage)
    out: dict[str, Any] = {"cohorts": {}}
    with app.app_context():
        upgrade()
        ids = load_demo_data(db.session)
        inst = ids["institution_id"]
        today = clock.today_in("Africa/Algiers")
        conn = db.session.connection()
        for size in sizes:
            cohort = conn.execute(text(
                "INSERT INTO cohorts (institution_id, qualification_id, name, status, cohort_type, start_date, "
                "end_date, created_at, updated_at) SELECT :i, id, :n, 'ACTIVE', 'public', :s, :e, now(), now() "
                "FROM qualifications WHERE institution_id = :i LIMIT 1 RETURNING id"),
                {"i": inst, "n": f"Bench cohort {size}", "s": today - dt.timedelta(days=sessions + 5),
                 "e": today}).scalar()
            conn.execute(text(
                "INSERT INTO learners (institution_id, full_name, id_number, created_at) "
                "SELECT :i, (ARRAY['Élodie','Yacine','Zoé','Amel','ياسين','Karim','émile','Nour'])[1 + g % 8] "
                "|| ' Trainee ' || g, 'B' || :c || '-' || g, now() FROM generate_series(1, :n) g"),
                {"i": inst, "c": cohort, "n": size})
            conn.execute(text(
                "INSERT INTO enrolments (learner_id, cohort_id, status, enrolled_on, created_at) "
                "SELECT id, :c, 'ACTIVE', :s, now() FROM learners WHERE id_number LIKE 'B' || :c || '-%'"),
                {"c": cohort, "s": today - dt.timedelta(days=sessions + 5)})
            for k in range(sessions):
                day = today - dt.timedelta(days=sessions - k + 2)
                starts = clock.local_to_utc(day, dt.time(8), "Africa/Algiers")
                sid = conn.execute(text(
                    "INSERT INTO class_sessions (institution_id, cohort_id, session_date, start_time, end_time, "
                    "starts_at, ends_at, slot, session_type, status, is_locked, created_at, updated_at) VALUES "
                    "(:i, :c, :d, '08:00', '09:00', :s, :e, 1, 'THEORY', 'SCHEDULED', false, now(), now()) "
                    "RETURNING id"), {"i": inst, "c": cohort, "d": day, "s": starts,
                                      "e": starts + dt.timedelta(hours=1)}).scalar()
                conn.execute(text(
                    "INSERT INTO attendance_records (enrolment_id, session_id, record_date, status, minutes_late, "
                    "version, marked_at, created_at, updated_at) SELECT id, :sid, :d, "
                    "(ARRAY['PRESENT','PRESENT','ABSENT','LATE','EXCUSED'])[1 + (id + :k) % 5], "
                    "CASE WHEN (id + :k) % 5 = 3 THEN 10 END, 1, now(), now(), now() "
                    "FROM enrolments WHERE cohort_id = :c"), {"sid": sid, "d": day, "k": k, "c": cohort})
                if k == 0:
                    out.setdefault("first_session", {})[size] = sid
            out["cohorts"][size] = cohort
        db.session.commit()
        admin = db.session.execute(text("SELECT id FROM users WHERE email = 'admin@demo.example'")).scalar()
        out["admin_id"] = admin
        out["from"] = (today - dt.timedelta(days=sessions + 5)).isoformat()
        out["to"] = today.isoformat()
    return out


# --- measurements (each in its own process) --------------------------------------------------------------------

def _peak_rss_mb() -> tuple[float, float]:  # (this process, waited-for children)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _naive_cohort_html(doc: Any) -> str:
    head = "".join(f"<th>{c.date:%d/%m}<br>{c.start:%H:%M}</th>" for c in doc.columns)
    rows = "".join(
        f"<tr><td>{i}</td><td>{t.name}</td><td>{t.detail or ''}</td>"
        + "".join(f"<td>{(v or '')[:1]}</td>" for v in t.cells)
        + f"<td>{'' if t.rate is None else round(100 * t.rate)}%</td></tr>"
        for i, t in enumerate(doc.trainees, 1))
    return ("<html><head><style>@page { size: A4 landscape; margin: 10mm; @bottom-right { content: 'Page ' "
            "counter(page) ' of ' counter(pages) } } body { font-family: 'DejaVu Sans'; font-size: 7pt } "
            "table { border-collapse: collapse; width: 100% } td, th { border: 0.4pt solid #666; padding: 0 1pt }"
            f"</style></head><body><h1>{doc.header.institution} — {doc.header.cohort}</h1><table><thead><tr>"
            f"<th>#</th><th>Trainee</th><th>ID</th>{head}<th>%</th></tr></thead><tbody>{rows}</tbody></table>"
            "</body></html>")


def _naive_session_html(doc: Any) -> str:
    rows = "".join(f"<tr><td>{i}</td><td>{r.name}</td><td>{r.detail or ''}</td><td>{r.status or ''}</td>"
                   f"<td>{r.minutes_late or ''}</td><td>{r.notes or ''}</td><td style='height:24pt'></td></tr>"
                   for i, r in enumerate(doc.rows, 1))
    return ("<html><head><style>@page { size: A4; margin: 15mm; @bottom-right { content: 'Page ' counter(page) "
            "' of ' counter(pages) } } body { font-family: 'DejaVu Sans'; font-size: 9pt } table { border-collapse:"
            " collapse; width: 100% } td, th { border: 0.5pt solid #777; padding: 3pt }</style></head><body>"
            f"<h1>{doc.header.cohort}</h1><table><thead><tr><th>#</th><th>Trainee</th><th>ID</th><th>Status</th>"
            f"<th>Late</th><th>Note</th><th>Signature</th></tr></thead><tbody>{rows}</tbody></table></body></html>")


def measure(db_url: str, storage: str, what: str, size: int, seeded: dict[str, Any], processes: int,
            pages_per_run: int | None) -> dict:
    """One measurement in this (fresh) process: seconds, pages, bytes, peak RSS."""
    from pypdf import PdfReader
    from weasyprint import HTML

    from core.models import DocumentKind, RegisterDocument
    from core.registers import data, service
    from core.seals import service as seals
    from web.extensions import db

    app = _app(db_url, storage)
    with app.app_context():
        # Imports, fonts, templates and locale data, as in a running worker (its processes warm up when they
        # start: tasks/registers.py).
        from core.registers import render

        render.warm_up(None, ("en",))
        cohort = seeded["cohorts"][str(size)]
        seals.ensure_seal(db.session, 1)  # made once, before the clock (an institution gets it when created)
        seal_ms = 0.0
        started = time.perf_counter()
        if what == "naive-cohort":
            import datetime as dt

            doc = data.cohort_register(db.session, cohort, dt.date.fromisoformat(seeded["from"]),
                                       dt.date.fromisoformat(seeded["to"]), "en", 24)
            pdf = HTML(string=_naive_cohort_html(doc)).write_pdf()
        elif what == "naive-session":
            doc = data.session_register(db.session, seeded["first_session"][str(size)], "en", 24)
            pdf = HTML(string=_naive_session_html(doc)).write_pdf()
        else:
            import datetime as dt

            kind = DocumentKind.COHORT if what in ("cohort", "verify") else DocumentKind.SESSION
            row = RegisterDocument(
                institution_id=1, cohort_id=cohort, kind=kind, format="pdf", language="en",
                session_id=seeded["first_session"][str(size)] if kind == DocumentKind.SESSION else None,
                period_start=dt.date.fromisoformat(seeded["from"]) if kind == DocumentKind.COHORT else None,
                period_end=dt.date.fromisoformat(seeded["to"]) if kind == DocumentKind.COHORT else None,
                reference=service.new_reference(), verification_code="BENCH000")
            settings = service.BuildSettings(base_url="http://127.0.0.1:5000", processes=processes)
            if pages_per_run:
                settings = dataclasses.replace(settings, pages_per_run=pages_per_run)
            pdf, _ = service.render_document(db.session, row, settings)
            sealing_started = time.perf_counter()
            pdf, _ = seals.seal_issued_pdf(db.session, 1, pdf)  # what store_build does last
            seal_ms = (time.perf_counter() - sealing_started) * 1000
        elapsed = time.perf_counter() - started
        if what.startswith("verify"):
            return _verify(db.session, pdf, elapsed)
    from core.registers import render_processes

    own, _ = _peak_rss_mb()
    children = render_processes.CHILD_PEAK_RSS_KB[0] / 1024  # the render children's own peaks
    return {"what": what, "size": size, "seconds": round(elapsed, 2), "pages": len(PdfReader(io.BytesIO(pdf)).pages),
            "bytes": len(pdf), "rss_mb": round(own), "child_rss_mb": round(children), "seal_ms": round(seal_ms)}


def _verify(session: Any, content: bytes, built_seconds: float) -> dict:
    """An uploaded sealed register checked as POST /verify checks it: its bytes matched, inspected, its seal
    validated by pyHanko. Best and median of five."""
    from core.registers import verification

    times = []
    for _ in range(5):
        started = time.perf_counter()
        result = verification.check_upload(session, content)
        times.append((time.perf_counter() - started) * 1000)
        session.rollback()
    assert result.seal is not None and result.seal.outcome == "sealed_unchanged", result
    times.sort()
    return {"what": "verify", "bytes": len(content), "best_ms": round(times[0]), "median_ms": round(times[2]),
            "built_seconds": round(built_seconds, 2)}


def run_measure(args: argparse.Namespace, what: str, size: int, seeded: dict[str, Any], processes: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--db", args.db, "--host", args.host, "--measure", what,
                          "--size", str(size),
                          "--seeded", json.dumps(seeded), "--processes", str(processes),
                          "--pages-per-run", str(args.pages_per_run or 0)],
                         capture_output=True, text=True, cwd=ROOT / "bench")
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- 20 builds on two worker processes -------------------------------------------------------------------------

def twenty_builds(db_url: str, storage: str, seeded: dict[str, Any]) -> dict[str, Any]:
    import redis
    from sqlalchemy import text

    from core.models import User
    from core.registers import service
    from core.registers.commands import RequestRegister
    from web.extensions import db

    broker = redis_url()
    redis.Redis.from_url(broker).flushdb()  # no task left by an earlier run reaches these workers
    print(f"emptied {broker} for the 20 builds", flush=True)
    env = dict(os.environ, DATABASE_URL=db_url, STORAGE_DIR=storage, CELERY_BROKER_URL=broker,
               CELERY_RESULT_BACKEND=broker, SECRET_KEY="bench", LOG_LEVEL="WARNING")
    # The worker's log goes to a file: a pipe nobody reads fills up and blocks the worker mid-build.
    worker_log = open(Path(storage) / "worker.log", "ab")  # noqa: SIM115
    celery = str(Path(sys.executable).with_name("celery"))  # this interpreter's (a worktree may have no .venv)
    worker = subprocess.Popen([celery, "-A", "workers.celery_app", "worker", "-c", "2", "-Q", "documents,default",
                               "--loglevel", "WARNING", "-n", "bench-registers@%h"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=worker_log)
    try:
        time.sleep(8)  # the worker starts
        app = _app(db_url, storage)
        with app.app_context():
            admin = db.session.get(User, seeded["admin_id"])
            cohort_500 = seeded["cohorts"]["500"]
            started = time.perf_counter()
            ids = []
            for i in range(20):
                # 20 different registers: session registers and cohort registers of the 500 cohort, PDF
                sid = db.session.execute(text(
                    "SELECT id FROM class_sessions WHERE cohort_id = :c ORDER BY id OFFSET :o LIMIT 1"),
                    {"c": cohort_500, "o": i}).scalar()
                command = RequestRegister(kind="session", session_id=sid, format="pdf") if i % 4 else RequestRegister(
                    kind="cohort", cohort_id=cohort_500, format=("pdf", "xlsx", "csv", "pdf", "pdf")[i // 4],
                    **{"from": seeded["from"], "to": seeded["to"]})
                doc, _ = service.request_document(db.session, admin, command)  # a job, sent after commit
                ids.append(doc.id)
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                db.session.rollback()
                states = dict(db.session.execute(text(
                    "SELECT status, count(*) FROM register_documents WHERE id = ANY(:ids) GROUP BY status"),
                    {"ids": ids}).all())
                if states.get("READY", 0) + states.get("FAILED", 0) == len(set(ids)):  # repeats are reused
                    break
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        worker_log.close()
    return {"builds": len(ids), "documents": len(set(ids)), "seconds": round(elapsed, 1),
            "ready": states.get("READY", 0),
            "failed": states.get("FAILED", 0)}


def table_rows(rows: list[dict[str, Any]], procs: list[int]) -> list[tuple[str, str, str]]:
    out = []
    for row, p in zip(rows, procs, strict=False):
        label = {"naive-cohort": "bare: naive cohort render", "naive-session": "bare: naive session render"}.get(
            row["what"], f"{row['what']} register")
        out.append((f"{label}, {row['size']} trainees, {p} process{'es' if p > 1 else ''}", f"{row['seconds']} s",
                    f"{row['pages']} pages, {row['bytes']:,} bytes, RSS {row['rss_mb']} MB, "
                    f"child {row['child_rss_mb']} MB"))
    naive, fast = rows[0]["seconds"], rows[1]["seconds"]
    out += [("cohort 500×20: naive / product (same run)", f"{naive / fast:.1f}×", "target ≤ 11 s and ≥ 2×"),
            ("session register of 50", f"{rows[4]['seconds']} s", f"target ≤ 1.5 s; naive {rows[3]['seconds']} s")]
    out += [(f"  of which the seal: {row['what']} register, {row['size']} trainees", f"{row['seal_ms']} ms",
             "target ≤ 150 ms a document") for row in rows if row.get("seal_ms")]
    return out


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_registers")
    parser.add_argument("--measure")
    parser.add_argument("--size", type=int)
    parser.add_argument("--seeded")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--pages-per-run", type=int, help="page-run size (default: the product's, BuildSettings)")
    parser.add_argument("--skip-workers", action="store_true")
    parser.add_argument("--quick", action="store_true", help="skip the 5,000-trainee memory run")
    args = parser.parse_args()
    db_url = database_url(args)
    storage = f"/tmp/{db_url.rsplit('/', 1)[-1]}-storage"
    if args.measure:
        print(json.dumps(measure(db_url, storage, args.measure, args.size, json.loads(args.seeded), args.processes,
                                 args.pages_per_run)))
        return
    run = start(args)
    from core.collation import engine

    print(f"collation: {engine()}")
    sizes = [50, 500, 1000] + ([] if args.quick else [5000])
    seeded = json.loads(json.dumps(seed(db_url, storage, sizes, 20)))
    rows = [run_measure(args, "naive-cohort", 500, seeded, 1),
            run_measure(args, "cohort", 500, seeded, 2),
            run_measure(args, "cohort", 500, seeded, 1),
            run_measure(args, "naive-session", 50, seeded, 1),
            run_measure(args, "session", 50, seeded, 2),
            run_measure(args, "cohort", 1000, seeded, 2)]
    if not args.quick:
        rows.append(run_measure(args, "cohort", 5000, seeded, 2))
    run.rows += table_rows(rows, [1, 2, 1, 1, 2, 2, 2])
    checked = run_measure(args, "verify", 1000, seeded, 2)
    run.rows.append((f"verify an uploaded sealed register ({checked['bytes'] / 1e6:.1f} MB)",
                     f"{checked['median_ms']} ms", f"best {checked['best_ms']} ms of 5; target ≤ 500 ms"))
    if not args.skip_workers:
        result = twenty_builds(db_url, storage, seeded)
        run.rows.append(("20 builds queued at once, 2 worker processes", f"{result['seconds']} s",
                         f"{result['documents']} documents: {result['ready']} ready, {result['failed']} failed"))
    run.report(BARE, result_width=9, third="detail")


if __name__ == "__main__":
    main()
