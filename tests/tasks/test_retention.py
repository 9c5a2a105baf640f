"""The retention run: removes what is due and nothing else, twice safely, and after a SIGKILL of the process
running it, the next run finishes. Its log holds counts, never personal data."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

from sqlalchemy import func, insert, select

from core import clock
from core.models import ImportKind, ImportStatus, RetentionRun, TraineeImport, TraineeImportRow
from core.personal_data import retention
from tests.conftest import wait_for, worker_environment

SECRET_NAME = "Khadidja Retentionova"


def _import(sql, app, institution_id: int, age_days: int, rows: int) -> tuple[int, str]:
    when = clock.now() - dt.timedelta(days=age_days)
    stored = app.extensions["storage"].save_bytes(f"full_name\n{SECRET_NAME}\n".encode(), "imports", ".csv")
    imp = TraineeImport(kind=ImportKind.LEARNERS, institution_id=institution_id, original_filename="l.csv",
                        storage_key=stored.key, size_bytes=stored.size, sha256=stored.sha256,
                        status=ImportStatus.COMMITTED, created_at=when, committed_at=when)
    sql.add(imp)
    sql.flush()
    sql.execute(insert(TraineeImportRow), [{"import_id": imp.id, "row_number": n, "ok": True,
                                             "full_name": f"{SECRET_NAME} {n}"} for n in range(1, rows + 1)])
    sql.commit()
    return imp.id, stored.key


def _rows(sql, import_id: int) -> int:
    sql.expire_all()
    return sql.scalar(select(func.count()).select_from(TraineeImportRow).where(TraineeImportRow.import_id == import_id))


def test_retention_removes_what_is_due_only_twice_safely_and_finishes_after_a_sigkill(app, sql, demo):
    storage = app.extensions["storage"]
    old_id, old_key = _import(sql, app, demo["institution_id"], age_days=200, rows=6000)
    new_id, new_key = _import(sql, app, demo["institution_id"], age_days=10, rows=50)
    env = worker_environment()
    run = subprocess.Popen([sys.executable, "-m", "flask", "--app", "web", "personal-data", "apply-retention",
                            "--batch", "10"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _rows(sql, old_id) < 6000, timeout=60, every=0.02)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    assert 0 < _rows(sql, old_id) < 6000, "killed midway: some batches committed, the rest left"
    first = retention.apply_institution(sql, storage, demo["institution_id"])
    assert _rows(sql, old_id) == 0 and _rows(sql, new_id) == 50
    assert first["import_rows"] > 0  # the file went in the killed run (files come first)
    assert not storage.path(old_key).exists() and storage.path(new_key).exists()
    second = retention.apply_institution(sql, storage, demo["institution_id"])
    assert second == {"import_files": 0, "import_rows": 0, "evidence_files": 0, "held_documents": 0}
    counts = [r.counts for r in sql.scalars(select(RetentionRun).order_by(RetentionRun.id))]
    assert counts[-2:] == [first, second]


def test_the_retention_log_holds_counts_not_personal_data(app, sql, demo):
    _import(sql, app, demo["institution_id"], age_days=200, rows=20)
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "web", "personal-data", "apply-retention"],
                         env=worker_environment(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "import_rows 20" in out.stdout
    assert SECRET_NAME not in out.stdout + out.stderr
