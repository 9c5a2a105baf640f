"""Fail fast, recover in seconds (issue 20). Run by hand; prints one table with the load average.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/bench_recovery.py --db bench_recovery

`--db` is a database name on `--host` (default postgresql+psycopg://postgres@127.0.0.1:5432) or a whole URL; it
is dropped and recreated, so never name one the app or the tests use. BENCH_REDIS_URL (unset:
redis://127.0.0.1:6379/15) is emptied. The load average is printed before and after the run.

It (re)creates the bench database with the real migrations and the demo data and goes through the web app
(API with a token). PostgreSQL and Redis are partitioned through loopback TCP proxies (tests/tcp_proxy.py), never
touched themselves; workers are real `celery worker` subprocesses on BENCH_REDIS_URL.

1. time to 503 while the database hangs (proxy frozen), and /api/health/ready's time then;
2. the time of an upload (202) while the broker hangs (proxy in front of Redis frozen), and of readiness;
3. time from SIGKILL of the prefork pool child holding a 100,000-row validation to its job being taken over;
4. time from the database's return (8 s cut under a running validation) to the import being validated;
5. rows re-validated after a kill half-way (the rows already checked when the child was killed, checked again).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_imports import generate_csv  # bench/ (scripts run from bench/)
from common import print_table, recreate_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from tests.tcp_proxy import TcpProxy  # noqa: E402


def wait_for(predicate: Callable[[], Any], timeout: float = 300, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(every)
    raise TimeoutError("timed out")


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def through(proxy: TcpProxy, url: str) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


class Bench:
    def __init__(self, db_url: str, redis_url: str) -> None:
        self.db_url, self.redis_url = db_url, redis_url
        self.work = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
        self.env = dict(os.environ, DATABASE_URL=db_url, CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url,
                        INSTANCE_DIR=str(self.work / "instance"), STORAGE_DIR=str(self.work / "private"),
                        MAIL_FILE_DIR=str(self.work / "mail"), SECRET_KEY="bench", LOG_LEVEL="WARNING",
                        JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="45", WORKER_HEARTBEAT_SECONDS="1")
        recreate_database(db_url)
        import redis

        redis.Redis.from_url(redis_url).flushdb()
        from flask_migrate import upgrade
        from sqlalchemy import select

        from core.access.auth import create_api_token
        from core.access.commands import CreateApiToken
        from core.demo import load_demo_data
        from core.models import User
        from web.extensions import db

        self.app = self.make_app(db_url, redis_url)
        with self.app.app_context():
            upgrade()
            self.cohort_id = load_demo_data(db.session)["corporate_cohort_id"]
            admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
            self.headers = {"Authorization": f"Bearer {create_api_token(db.session, admin, CreateApiToken(name='b'))}"}
            db.session.remove()
        self.client = self.app.test_client()

    def make_app(self, db_url: str, redis_url: str) -> Any:
        from web import create_app

        return create_app({"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_DIR": self.env["INSTANCE_DIR"],
                           "SQLALCHEMY_DATABASE_URI": db_url, "CELERY_BROKER_URL": redis_url,
                           "CELERY_RESULT_BACKEND": redis_url, "STORAGE_DIR": self.env["STORAGE_DIR"],
                           "MAIL_FILE_DIR": self.env["MAIL_FILE_DIR"], "WTF_CSRF_ENABLED": False,
                           "LISTEN_ADDRESS": "127.0.0.1"})

    def worker(self, pool: str = "solo", **env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", f"--pool={pool}", "--concurrency=1",
             "-Q", "imports,documents,default", "-n", f"r-{uuid.uuid4().hex[:6]}@%h", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle"], cwd=ROOT, env={**self.env, **env}, stdout=subprocess.DEVNULL,
            stderr=open(self.work / "worker.log", "ab"), start_new_session=True)

    @staticmethod
    def stop(worker: subprocess.Popen[bytes]) -> None:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(30)

    def upload(self, client: Any, data: bytes) -> int:
        r = client.post(f"/api/corporate-cohorts/{self.cohort_id}/trainee-imports", headers=self.headers,
                        data={"file": (io.BytesIO(data), "bench.csv")}, content_type="multipart/form-data")
        assert r.status_code == 202, r.json
        return int(r.json["id"])

    def imp(self, import_id: int) -> Any:
        from core.models import TraineeImport
        from web.extensions import db

        with self.app.app_context():
            row = db.session.get(TraineeImport, import_id)
            db.session.expunge(row)
            db.session.remove()
            return row

    def job(self, import_id: int) -> Any:
        from sqlalchemy import select

        from core.models import Job
        from web.extensions import db

        with self.app.app_context():
            row = db.session.scalar(select(Job).where(Job.kind == "imports.validate", Job.entity_id == import_id)
                                    .order_by(Job.id.desc()))
            db.session.expunge(row)
            db.session.remove()
            return row

    # ------------------------------------------------------------------ the five measures

    def partition(self, runs: int = 3) -> tuple[list[float], list[float]]:
        url = make_url(self.db_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        app = self.make_app(through(proxy, self.db_url), self.redis_url)
        client = app.test_client()
        to_503, ready = [], []
        for _ in range(runs):
            assert client.get("/api/rooms", headers=self.headers).status_code == 200
            proxy.freeze()
            r, took = timed(lambda: client.get("/api/rooms", headers=self.headers))
            assert r.status_code == 503, r.status_code
            to_503.append(took)
            ready.append(timed(lambda: client.get("/api/health/ready"))[1])
            proxy.heal()
            wait_for(lambda: client.get("/api/rooms", headers=self.headers).status_code == 200, timeout=30)
        proxy.close()
        return to_503, ready

    def hung_broker(self, uploads: int = 5) -> tuple[list[float], float]:
        url = make_url(self.redis_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 6379)
        app = self.make_app(self.db_url, through(proxy, self.redis_url))
        client = app.test_client()
        small = b"full_name,phone\nAmel Bouzid,0555123456\n"
        self.upload(client, small)  # a live connection to the broker first
        proxy.freeze()
        took = [timed(lambda: self.upload(client, small))[1] for _ in range(uploads)]
        ready = timed(lambda: client.get("/api/health/ready"))[1]
        proxy.close()
        return took, ready

    def pool_child_kill(self, rows: int) -> tuple[float, int, int]:
        """(seconds to take over, rows done at the kill, rows re-validated)."""
        worker = self.worker(pool="prefork")
        try:
            import_id = self.upload(self.client, generate_csv(rows))
            wait_for(lambda: (i := self.imp(import_id)).status.value == "VALIDATING" and i.rows_done >= rows // 2,
                     every=0.02)
            first = self.job(import_id)
            done_at_kill = self.imp(import_id).rows_done
            os.kill(int(first.claimed_by.split(":")[-2]), signal.SIGKILL)
            killed = time.monotonic()
            wait_for(lambda: self.job(import_id).attempts >= 2, every=0.02)
            resumed = time.monotonic() - killed
            lowest = [done_at_kill]

            def validated() -> bool:  # watching the progress: a restart from row 0 would show it falling
                imp = self.imp(import_id)
                lowest[0] = min(lowest[0], imp.rows_done)
                return imp.status.value == "VALIDATED"

            wait_for(validated, every=0.02)
            # The resumed attempt starts after the last committed batch: the committed rows are not checked
            # again (only the batch in flight at the kill, at most PROGRESS_EVERY rows, was lost).
            return resumed, done_at_kill, done_at_kill - lowest[0]
        finally:
            self.stop(worker)

    def database_outage(self, rows: int, outage: float = 8.0) -> float:
        url = make_url(self.db_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        worker = self.worker(DATABASE_URL=through(proxy, self.db_url), JOB_STALE_SECONDS="120")
        try:
            import_id = self.upload(self.client, generate_csv(rows))
            wait_for(lambda: (i := self.imp(import_id)).status.value == "VALIDATING" and i.rows_done > 0, every=0.02)
            proxy.cut()
            time.sleep(outage)  # the outage itself
            proxy.heal()
            back = time.monotonic()
            wait_for(lambda: self.imp(import_id).status.value == "VALIDATED", every=0.1)
            return time.monotonic() - back
        finally:
            self.stop(worker)
            proxy.close()

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="attendance_bench_recovery",
                        help="a bench database name on --host, or a whole URL (dropped and created)")
    parser.add_argument("--host", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    db_url = args.db if "://" in args.db else f"{args.host.rstrip('/')}/{args.db}"
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    before = os.getloadavg()
    print(f"database {db_url}\nredis {redis_url}\nload average before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}")
    bench = Bench(db_url, redis_url)
    try:
        to_503, ready_db = bench.partition()
        uploads, ready_broker = bench.hung_broker()
        resumed, done_at_kill, revalidated = bench.pool_child_kill(args.rows)
        after_outage = bench.database_outage(args.rows)
    finally:
        bench.close()
    load = os.getloadavg()
    print_table([
        ("time to 503, database frozen (3 runs)", f"median {statistics.median(to_503):.2f} s, max {max(to_503):.2f} s",
         "≤ 5 s"),
        ("/api/health/ready, database frozen", f"max {max(ready_db):.2f} s", "≤ 3 s"),
        ("upload (202), broker frozen (5 runs)", f"median {statistics.median(uploads):.3f} s, max {max(uploads):.3f} s",
         "≤ 1 s"),
        ("/api/health/ready, broker frozen", f"{ready_broker:.2f} s", "≤ 3 s"),
        ("take-over after the pool child is killed", f"{resumed:.2f} s", "≤ 15 s"),
        ("validated after the database's return (8 s cut)", f"{after_outage:.2f} s", "≤ 30 s"),
        (f"rows re-validated after a kill half-way ({args.rows:,} rows)",
         f"{revalidated:,} of the {done_at_kill:,} committed at the kill (+ the batch in flight, ≤ 5,000)",
         "0 of the committed rows"),
    ])
    print(f"\nload average (1, 5, 15 min) before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}; after: "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} · {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
