"""Workers and queues benchmark (issue 13). Run by hand; prints two tables.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_workers.py [--db bench_workers]
        [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--private-redis]
        [--rows 100000] [--imports 4] [--import-rows 25000] [--pdfs 10] [--repeat 3]

It (re)creates the bench database with the real migrations and the demo data, uses BENCH_REDIS_URL (its database
is emptied first: give the bench its own; `--private-redis` starts a redis-server of its own instead, no
persistence, a free port), starts real `celery worker` subprocesses, and goes through the web app (API with a
token), so every job travels the real way: outbox → Redis → worker → PostgreSQL.

Bare, in the same run: the same work on this process without a queue or a worker — validate_import of the same
file, and the same session register rendered (core.registers.service.render_document).

1. PDF latency while a large import validates: a session-register PDF requested just after a --rows import
   starts validating, with one worker consuming every queue (what `bin/start` runs) against a worker per
   queue (imports | documents + default, what the Procfile runs). Also the PDF with idle workers.
2. Throughput with 1 and 2 worker processes (each consuming every queue): --imports imports of
   --import-rows rows requested at once, until all are validated; then --pdfs PDFs requested at once.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_imports import generate_csv, timed_validation  # bench/ (scripts run from bench/)
from common import Run, bench_parser, start

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 900, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise TimeoutError("timed out")


class Stack:
    """The bench database, a private Redis, the web app (test client + token) and worker subprocesses."""

    def __init__(self, run: Run, private_redis: bool) -> None:
        import redis

        db_url = run.db_url
        self.work = Path(tempfile.mkdtemp(prefix="bench-workers-"))
        self.redis: subprocess.Popen[bytes] | None = None
        if private_redis:
            port = free_port()
            self.redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                           "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
            self.redis_url = f"redis://127.0.0.1:{port}/0"
            wait_for(lambda: _pings(self.redis_url), timeout=30, every=0.1)
        else:
            self.redis_url = run.redis_url
            redis.Redis.from_url(self.redis_url).flushdb()  # no task left by an earlier run reaches these workers
        print(f"workers' broker {self.redis_url} ({'private' if private_redis else 'emptied'})", flush=True)
        self.env = dict(os.environ, DATABASE_URL=db_url, CELERY_BROKER_URL=self.redis_url,
                        CELERY_RESULT_BACKEND=self.redis_url, INSTANCE_DIR=str(self.work / "instance"),
                        STORAGE_DIR=str(self.work / "private"), MAIL_FILE_DIR=str(self.work / "mail"),
                        SECRET_KEY="bench", LOG_LEVEL="WARNING")
        from flask_migrate import upgrade
        from sqlalchemy import select

        from core.access.auth import create_api_token
        from core.access.commands import CreateApiToken
        from core.demo import load_demo_data
        from core.models import User
        from web import create_app
        from web.extensions import db

        self.app = create_app({"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_DIR": self.env["INSTANCE_DIR"],
                               "SQLALCHEMY_DATABASE_URI": db_url, "CELERY_BROKER_URL": self.redis_url,
                               "CELERY_RESULT_BACKEND": self.redis_url, "STORAGE_DIR": self.env["STORAGE_DIR"],
                               "MAIL_FILE_DIR": self.env["MAIL_FILE_DIR"], "WTF_CSRF_ENABLED": False})
        with self.app.app_context():
            upgrade()
            ids = load_demo_data(db.session)
            self.cohort_id = ids["corporate_cohort_id"]
            admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
            token = create_api_token(db.session, admin, CreateApiToken(name="bench"))
            self.headers = {"Authorization": f"Bearer {token}"}
            self.session_ids = self._register_sessions(db.session)
            self.requested = 0
            db.session.remove()
        self.client = self.app.test_client()
        self.workers: list[subprocess.Popen[bytes]] = []

    def _register_sessions(self, session: Any, days: int = 16) -> list[int]:
        """The last `days` days' sessions of the corporate cohort, with 50 more trainees: two-page register PDFs
        (distinct sessions, so PDFs requested at once are distinct builds)."""
        from sqlalchemy import insert

        from core import clock
        from core.models import ClassSession, Cohort, CorporateTrainee, Institution

        session.execute(insert(CorporateTrainee), [{"cohort_id": self.cohort_id, "full_name": f"Bench Trainee {i:03d}",
                                                    "active": True} for i in range(50)])
        cohort = session.get(Cohort, self.cohort_id)
        zone = session.get(Institution, cohort.institution_id).time_zone
        rows = []
        for back in range(1, days + 1):
            day = clock.today_in(zone) - dt.timedelta(days=back)
            rows.append(ClassSession(institution_id=cohort.institution_id, cohort_id=self.cohort_id, session_date=day,
                                     start_time=dt.time(6), end_time=dt.time(7),
                                     starts_at=clock.local_to_utc(day, dt.time(6), zone),
                                     ends_at=clock.local_to_utc(day, dt.time(7), zone)))
        session.add_all(rows)
        session.commit()
        return [row.id for row in rows]

    def start_workers(self, *queue_sets: str) -> None:
        for n, queues in enumerate(queue_sets):
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "-Q", queues,
                 "-n", f"bench{n}-{os.getpid()}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                stderr=open(self.work / f"worker{n}.log", "ab")))  # noqa: SIM115
        ready = self.client.get  # the heartbeat row says each worker is consuming
        wait_for(lambda: len(ready("/api/health/ready").json["checks"]["workers"]["live"]) >= len(queue_sets),
                 timeout=120, every=0.2)

    def stop_workers(self) -> None:
        for w in self.workers:
            w.terminate()
        for w in self.workers:
            w.wait(60)
        self.workers.clear()
        from sqlalchemy import delete

        from core.models import WorkerHeartbeat
        from web.extensions import db

        with self.app.app_context():
            db.session.execute(delete(WorkerHeartbeat))
            db.session.commit()
            db.session.remove()

    def upload(self, data: bytes) -> str:
        r = self.client.post(f"/api/corporate-cohorts/{self.cohort_id}/trainee-imports", headers=self.headers,
                             data={"file": (io.BytesIO(data), "bench.csv")}, content_type="multipart/form-data")
        assert r.status_code == 202, r.json
        return r.json["status_url"]

    def request_pdf(self) -> str:
        # A register whose data has not changed answers its existing document: retire it, so each request
        # measures a real build (bench database only).
        from sqlalchemy import update

        from core.models import DocumentStatus, RegisterDocument
        from web.extensions import db

        with self.app.app_context():
            session_id = self.session_ids[self.requested % len(self.session_ids)]
            self.requested += 1
            db.session.execute(update(RegisterDocument).where(RegisterDocument.session_id == session_id,
                                                              RegisterDocument.status == DocumentStatus.READY)
                               .values(status=DocumentStatus.FAILED))
            db.session.commit()
        r = self.client.post(f"/api/institution/class-sessions/{session_id}/register-documents",
                             headers=self.headers)
        assert r.status_code == 202, r.json
        return r.json["status_url"]

    def status(self, url: str) -> dict[str, Any]:
        return self.client.get(url, headers=self.headers).json

    def close(self) -> None:
        self.stop_workers()
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(30)
        shutil.rmtree(self.work, ignore_errors=True)

    def bare_validation(self, data: bytes) -> float:
        """validate_import of `data` on this process: no queue, no worker (seconds)."""
        from core.imports import service
        from core.models import Cohort, User
        from web.extensions import db

        storage = self.app.extensions["storage"]
        with self.app.app_context():
            admin = db.session.scalar(db.select(User).where(User.email == "admin@demo.example"))
            imp = service.create_import(db.session, storage, cohort=db.session.get(Cohort, self.cohort_id),
                                        uploader=admin, stream=io.BytesIO(data), filename="bare.csv",
                                        max_bytes=1 << 30)
            import_id = imp.id
            db.session.remove()
        return timed_validation(self.app, storage, import_id)["seconds"]

    def bare_pdf(self, runs: int = 3) -> float:
        """The same session register rendered on this process, warmed up as a worker is: no queue (median s)."""
        from core.models import ClassSession, DocumentKind, RegisterDocument
        from core.registers import render, service
        from web.extensions import db

        times = []
        with self.app.app_context():
            render.warm_up(None, ("en",))
            for n in range(runs):
                session_id = self.session_ids[n % len(self.session_ids)]
                cs = db.session.get(ClassSession, session_id)
                row = RegisterDocument(institution_id=cs.institution_id, cohort_id=cs.cohort_id,
                                       kind=DocumentKind.SESSION, format="pdf", language="en", session_id=session_id,
                                       reference=service.new_reference(), verification_code="BENCH000")
                started = time.perf_counter()
                service.render_document(db.session, row, service.BuildSettings(base_url="http://bench", processes=1))
                times.append(time.perf_counter() - started)
                db.session.rollback()
        return statistics.median(times)


def _pings(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def pdf_seconds(stack: Stack) -> float:
    started = time.perf_counter()
    url = stack.request_pdf()
    wait_for(lambda: stack.status(url)["status"] in ("READY", "FAILED"))
    assert stack.status(url)["status"] == "READY"
    return time.perf_counter() - started


def pdf_during_import(stack: Stack, data: bytes) -> tuple[float, float]:
    """(PDF latency, import validation time) for a PDF requested once the import is validating."""
    started = time.perf_counter()
    url = stack.upload(data)

    def validating() -> bool:
        s = stack.status(url)
        if s["status"] not in ("UPLOADED", "VALIDATING"):
            raise SystemExit(f"the import was {s['status']} before it reported a batch: use more --rows")
        return s["status"] == "VALIDATING" and s["progress"]["rows_done"] > 0

    wait_for(validating)
    pdf = pdf_seconds(stack)
    wait_for(lambda: stack.status(url)["status"] not in ("UPLOADED", "VALIDATING"), every=0.2)
    return pdf, time.perf_counter() - started


def all_done(stack: Stack, request: Callable[[], list[str]]) -> float:
    """Seconds from the first request until every requested job is done."""
    started = time.perf_counter()
    urls = request()
    wait_for(lambda: all(stack.status(u)["status"] in ("VALIDATED", "FAILED", "READY") for u in urls), every=0.25)
    return time.perf_counter() - started


def throughput(stack: Stack, imports: list[bytes], pdfs: int) -> tuple[float, float]:
    """(import rows/s, PDFs/s): the imports requested at once, then the PDFs requested at once."""
    import_s = all_done(stack, lambda: [stack.upload(d) for d in imports])
    pdf_s = all_done(stack, lambda: [stack.request_pdf() for _ in range(pdfs)])
    rows = sum(d.count(b"\n") - 1 for d in imports)
    return rows / import_s, pdfs / pdf_s


BARE = ("the same work on this process, no outbox, queue or worker: validate_import of the same file, and the same "
        "session register rendered by core.registers.service.render_document (warmed up as a worker is)")


def main() -> None:
    parser = bench_parser(__doc__, "bench_workers")
    parser.add_argument("--private-redis", action="store_true",
                        help="start a redis-server of its own instead of BENCH_REDIS_URL")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--imports", type=int, default=4)
    parser.add_argument("--import-rows", type=int, default=25_000)
    parser.add_argument("--pdfs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="PDF-during-import runs per layout")
    parser.add_argument("--skip-latency", action="store_true", help="only the 1-vs-2-processes table")
    args = parser.parse_args()
    from core.imports.service import PROGRESS_EVERY

    if args.rows < 2 * PROGRESS_EVERY and not args.skip_latency:
        parser.error(f"--rows: at least {2 * PROGRESS_EVERY:,} (the PDF is requested once a batch of "
                     f"{PROGRESS_EVERY:,} rows is validated, while the import still validates)")
    run = start(args)

    stack = Stack(run, args.private_redis)
    rows = run.rows
    try:
        print(f"generating {args.rows:,} rows …", flush=True)
        big = generate_csv(args.rows, seed=1)
        small = [generate_csv(args.import_rows, seed=10 + i) for i in range(args.imports)]
        bare_pdf = stack.bare_pdf()
        bare_big = stack.bare_validation(big)
        bare_small = sum(stack.bare_validation(d) for d in small)
        rows += [("bare: register PDF rendered on this process", f"{bare_pdf:.2f} s", "median of 3"),
                 (f"bare: validate_import of the {args.rows:,}-row file on this process", f"{bare_big:.1f} s",
                  f"{args.rows / bare_big:,.0f} rows/s"),
                 (f"bare: validate_import of the {args.imports} × {args.import_rows:,}-row files, one after another",
                  f"{bare_small:.1f} s", f"{args.imports * args.import_rows / bare_small:,.0f} rows/s")]

        layouts = (("one worker, every queue (bin/start)", ["imports,documents,default"]),
                   ("a worker per queue (Procfile)", ["imports", "documents,default"]))
        for name, queue_sets in layouts if not args.skip_latency else ():
            stack.start_workers(*queue_sets)
            idle = statistics.median(pdf_seconds(stack) for _ in range(3))
            runs = [pdf_during_import(stack, big) for _ in range(args.repeat)]
            stack.stop_workers()
            pdf = sorted(r[0] for r in runs)
            rows += [(f"{name}: PDF, idle workers", f"{idle:.2f} s", f"= {idle / bare_pdf:.1f}× bare PDF"),
                     (f"{name}: PDF while a {args.rows:,}-row import validates",
                      f"{statistics.median(pdf):.2f} s",
                      f"min {pdf[0]:.2f}, max {pdf[-1]:.2f} (median of {args.repeat})"),
                     (f"{name}: that import validated in", f"{statistics.median(r[1] for r in runs):.1f} s",
                      f"upload → VALIDATED; bare {bare_big:.1f} s")]
            print(f"  {name}: done", flush=True)

        for processes in (1, 2):
            stack.start_workers(*["imports,documents,default"] * processes)
            rows_s, pdfs_s = throughput(stack, small, args.pdfs)
            stack.stop_workers()
            label = f"{processes} worker process{'es' if processes > 1 else ''} (each on every queue)"
            rows += [(f"{label}: {args.imports} imports × {args.import_rows:,} rows at once", f"{rows_s:,.0f} rows/s",
                      f"bare {args.imports * args.import_rows / bare_small:,.0f} rows/s"),
                     (f"{label}: {args.pdfs} PDFs at once", f"{pdfs_s:.2f} PDFs/s", f"bare {1 / bare_pdf:.2f} PDFs/s")]
            print(f"  {processes} process(es): done", flush=True)
    finally:
        stack.close()
    run.report(BARE, result_width=14, third="detail")


if __name__ == "__main__":
    main()
