"""Import benchmark (trainee and learner files). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_imports.py [--db attendance_bench_imports]
        [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--rows 100000]
        [--only validate|commit|worker|upload|learners …]

`--db` is a database name on `--host` (or a whole URL); BENCH_REDIS_URL is the worker's broker (default
redis://127.0.0.1:6379/15 when unset; printed); `--only` runs only those parts (repeatable; default: all).

It (re)creates the bench database with the real migrations and the demo data, then measures:
- validation throughput on one process (the service the worker runs, DB writes included; also per CPU
  second of that process, which a loaded machine changes less than the wall clock), and the rules
  alone, against a bare loop that only calls phonenumbers + email-validator on the same values;
- upload → VALIDATED through a real `celery worker` subprocess, and that worker's peak RSS while
  validating a 20k and a 100k file (flat = streaming);
- commit of 100k valid rows (set-based INSERT … SELECT under the cohort lock) against a bare COPY of the
  same rows into a table with the same indexes; then the committed file validated again (every row already
  in the cohort: the error path), after which the committed trainees are removed, so that step 3 sees the
  cohort of step 1;
- upload request latency (test client, 10 MB multipart), p50/p95 over repeated requests;
- learner files: validation on one process (row results written) through the learner target, in rows/s (goal
  ≥ 50,000 rows/s), beside a trainee file of as many rows validated the same way in the same run, the bare
  library loop on the same phone and email values, and the rules alone.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import bench_parser, pct, start  # bench/common.py (scripts run from bench/)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import phonenumbers  # noqa: E402
from email_validator import EmailNotValidError, validate_email  # noqa: E402

FIRST = ["Yacine", "Lina", "Karim", "Amel", "Sofiane", "Imane", "Walid", "Nour", "Hichem", "Meriem", "Anis", "Samira",
         "Farid", "Asma", "Mourad", "Yasmine", "Reda", "Kenza", "Bilal", "Sabrina", "Nassim", "Houda", "Mohamed",
         "Fatima", "Abdelkader", "Khadidja", "Rachid", "Nadia", "Hélène", "Zoubir", "Chaïma", "Aïcha"]
LAST = ["Belkacem", "Haddad", "Mansouri", "Bouzid", "Cherif", "Saidi", "Rahmani", "Benali", "Ziani", "Kaci",
        "Brahimi", "Djebbar", "Touati", "Khelifi", "Hamdi", "Aouadi", "Lounis", "Ferhat", "Amrani", "Mekki",
        "Guerfi", "Slimani", "Boumediene", "Ait Ahmed", "Benbrahim", "Meziane", "Oukaci", "Lefèvre"]
JOBS = ["Operator", "Driver", "Picker", "Supervisor", "Technician", "Clerk", "Welder", "Forklift driver"]
DEPTS = ["Warehouse", "Transport", "Stores", "Maintenance", "HR", "Quality", "Night shift"]
MOBILE_PREFIXES = ["550", "551", "552", "555", "556", "557", "558", "559", "560", "561", "540", "541", "542",
                   "661", "662", "663", "664", "665", "666", "667", "668", "669", "696", "697", "698", "699",
                   "770", "771", "772", "773", "774", "775", "776", "777", "778", "779", "790", "791", "795"]


def _phone(rnd: random.Random) -> str:
    nsn = rnd.choice(MOBILE_PREFIXES) + f"{rnd.randrange(10**6):06d}"
    shape = rnd.random()
    if shape < 0.45:
        return "0" + nsn
    if shape < 0.70:
        return f"0{nsn[:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    if shape < 0.85:
        return f"+213 {nsn[:3]} {nsn[3:5]} {nsn[5:7]} {nsn[7:]}"
    if shape < 0.95:
        return "+213" + nsn
    return f"0{nsn[:3]}-{nsn[3:5]}-{nsn[5:7]}-{nsn[7:]}"


def generate_csv(rows: int, bad_share: float = 0.03, seed: int = 42, delimiter: str = ",") -> bytes:
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write(delimiter.join(["full_name", "phone", "email", "job_title", "employee_code", "department"]) + "\r\n")
    for i in range(rows):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        name = f"{first} {last}"
        phone = _phone(rnd) if rnd.random() < 0.92 else ""
        domain = rnd.choice(["acme.dz", "gmail.com", "mail.example.com"])
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{domain}"
        email = email.encode("ascii", "ignore").decode() if rnd.random() < 0.98 else ""
        fields = [name, phone, email, rnd.choice(JOBS), f"EMP{i:06d}", rnd.choice(DEPTS)]
        if rnd.random() < bad_share:
            kind = rnd.randrange(6)
            if kind == 0:
                fields[1] = f"021 {rnd.randrange(100):02d} {rnd.randrange(100):02d} {rnd.randrange(100):02d}"
            elif kind == 1:
                fields[1] = f"+33 6 {rnd.randrange(10**8):08d}"
            elif kind == 2:
                fields[1] = rnd.choice(["n/a", "12345", "0555", "tel?"])
            elif kind == 3:
                fields[2] = email.replace("@", "@@") or "broken@"
            elif kind == 4:
                fields[0] = ""
            else:
                fields = fields[:4]
        if '"' in name or delimiter in name:
            fields[0] = '"' + name.replace('"', '""') + '"'
        out.write(delimiter.join(fields) + "\r\n")
    return out.getvalue().encode("utf-8")


def generate_learner_csv(rows: int, bad_share: float = 0.03, seed: int = 42) -> bytes:
    """A learner file (full_name, id_number, email, phone, date_of_birth): dates of birth 75% ISO, 15% day
    first (30/04/2001), 10% blank; the same phones as the trainee files; `bad_share` of rows with a problem."""
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write("full_name,id_number,email,phone,date_of_birth\r\n")
    for i in range(rows):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        phone = _phone(rnd) if rnd.random() < 0.9 else ""
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{rnd.choice(['gmail.com', 'mail.example.com'])}"
        email = email.encode("ascii", "ignore").decode() if rnd.random() < 0.95 else ""
        year, month, day = rnd.randrange(1960, 2008), rnd.randrange(1, 13), rnd.randrange(1, 29)
        shape = rnd.random()
        born = (f"{year}-{month:02d}-{day:02d}" if shape < 0.75 else f"{day:02d}/{month:02d}/{year}" if shape < 0.9
                else "")
        fields = [f"{first} {last}", f"{rnd.randrange(10**12):012d}" if rnd.random() < 0.9 else "", email, phone,
                  born]
        if rnd.random() < bad_share:
            kind = rnd.randrange(5)
            if kind == 0:
                fields[3] = f"021 {rnd.randrange(100):02d} {rnd.randrange(100):02d} {rnd.randrange(100):02d}"
            elif kind == 1:
                fields[4] = rnd.choice(["31/02/2001", "yesterday", "2031-01-01"])
            elif kind == 2:
                fields[2] = email.replace("@", "@@") or "broken@"
            elif kind == 3:
                fields[0] = ""
            else:
                fields = fields[:3]
        out.write(",".join(fields) + "\r\n")
    return out.getvalue().encode("utf-8")


def learner_rules_only(data: bytes, today: Any) -> float:
    from core.imports import contacts, learners, reading, service

    contacts.normalize_dz_mobile.cache_clear()
    contacts.normalize_email.cache_clear()
    started = time.perf_counter()
    profile = reading.sniff_file([data[i:i + 1 << 20] for i in range(0, len(data), 1 << 20)])
    reader = reading.TraineeReader(io.TextIOWrapper(io.BytesIO(data), encoding=profile.encoding, newline=""),
                                   learners.COLUMNS)
    validator = learners.LearnerRowValidator(reader.columns, today)
    for batch in reader.batches(service.PROGRESS_EVERY):
        validator.check_batch(batch)
    return time.perf_counter() - started


def bare_library_loop(data: bytes, phone_at: int = 1, email_at: int = 2) -> tuple[float, int]:
    """Only the two libraries, on the same phone/email values: the floor a validator can't beat uncached."""
    import csv

    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))[1:]
    started = time.perf_counter()
    for row in rows:
        if len(row) > phone_at and row[phone_at].strip():
            try:
                n = phonenumbers.parse(row[phone_at].strip(), "DZ")
                if phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == "DZ":
                    phonenumbers.number_type(n)
                    phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
            except phonenumbers.NumberParseException:
                pass
        if len(row) > email_at and row[email_at].strip():
            with contextlib.suppress(EmailNotValidError):
                validate_email(row[email_at].strip(), check_deliverability=False)
    return time.perf_counter() - started, len(rows)


def rules_only(data: bytes) -> float:
    from core.imports import contacts, reading, rules, service

    contacts.normalize_dz_mobile.cache_clear()
    contacts.normalize_email.cache_clear()
    started = time.perf_counter()
    profile = reading.sniff_file([data[i:i + 1 << 20] for i in range(0, len(data), 1 << 20)])
    reader = reading.TraineeReader(io.TextIOWrapper(io.BytesIO(data), encoding=profile.encoding, newline=""))
    validator = rules.RowValidator(reader.columns)
    for batch in reader.batches(service.PROGRESS_EVERY):  # as the worker reads and checks them
        validator.check_batch(batch)
    return time.perf_counter() - started


COPY_COLUMNS = "cohort_id, full_name, phone_e164, email, job_title, employee_code, department"
FOREIGN_KEYS = ("ADD FOREIGN KEY (cohort_id) REFERENCES cohorts (id), "
                "ADD FOREIGN KEY (import_id) REFERENCES trainee_imports (id), "
                "ADD FOREIGN KEY (user_id) REFERENCES users (id), "
                "ADD FOREIGN KEY (org_employee_id) REFERENCES org_employees (id)")


def bare_copy(session: Any, rows: list[tuple[Any, ...]], foreign_keys: str) -> float:
    """The bare figure for a commit: a COPY of `rows` into a table like corporate_trainees (the same indexes; with
    `foreign_keys`, those constraints too), seconds. Rows end with active and created_at, and with import_id
    before them when the foreign keys are there."""
    from sqlalchemy import text

    session.execute(text("DROP TABLE IF EXISTS bench_copy"))
    session.execute(text("CREATE TABLE bench_copy (LIKE corporate_trainees INCLUDING ALL)"))
    if foreign_keys:
        session.execute(text(f"ALTER TABLE bench_copy {foreign_keys}"))
    session.commit()
    columns = f"{COPY_COLUMNS}, {'import_id, ' if foreign_keys else ''}active, created_at"
    conn = session.connection().connection.driver_connection
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(f"COPY bench_copy ({columns}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)
    session.commit()
    seconds = time.perf_counter() - started
    session.execute(text("DROP TABLE bench_copy"))
    session.commit()
    return seconds


def timed_validation(app: Any, storage: Any, import_id: int) -> dict[str, Any]:
    """validate_import on this process with the contact caches cold: seconds, CPU seconds, counts, row results."""
    from sqlalchemy import func, select

    from core.imports import contacts, service
    from core.models import TraineeImportRow
    from web.extensions import db

    contacts.normalize_dz_mobile.cache_clear()
    contacts.normalize_email.cache_clear()
    with app.app_context():
        started, cpu_started = time.perf_counter(), time.process_time()
        imp = service.validate_import(db.session, storage, import_id)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        done = {"seconds": seconds, "cpu": cpu, "status": imp.status.value, "valid": imp.valid_count,
                "invalid": imp.invalid_count, "reasons": dict(imp.errors_by_reason or {}),
                "written": db.session.scalar(select(func.count()).select_from(TraineeImportRow)
                                             .where(TraineeImportRow.import_id == import_id))}
        db.session.remove()
    return done


def learner_rows(app: Any, storage: Any, admin_id: int, new_import: Any, rows: int) -> list[tuple[str, str, str]]:
    """A learner file of `rows` rows validated through the learner target (row results written), beside a
    trainee file of as many rows validated the same way, the bare library loop and the rules alone."""
    from core import clock
    from core.imports import learners
    from core.models import Institution, User
    from web.extensions import db

    learner_data = generate_learner_csv(rows)
    with app.app_context():
        user = db.session.get(User, admin_id)
        today = clock.today_in(db.session.get(Institution, user.institution_id).time_zone or "UTC")
        imp = learners.create_learner_import(db.session, storage, institution_id=user.institution_id, cohort_id=None,
                                             uploader=user, stream=io.BytesIO(learner_data), filename="learners.csv",
                                             max_bytes=1 << 30)
        learner_import_id = imp.id
        db.session.remove()
    trainee_import_id = new_import(generate_csv(rows, seed=5))
    bare_s, bare_rows = bare_library_loop(learner_data, phone_at=3, email_at=2)
    rules_s = learner_rules_only(learner_data, today)
    done = timed_validation(app, storage, learner_import_id)
    trainee = timed_validation(app, storage, trainee_import_id)
    for outcome in (done, trainee):
        assert outcome["status"] == "VALIDATED" and outcome["written"] == rows, outcome
    seconds, trainee_s = done["seconds"], trainee["seconds"]
    return [
        ("learners: bare loop, phonenumbers + email-validator only", f"{bare_rows / bare_s:,.0f} rows/s",
         f"{bare_s:.2f} s"),
        ("learners: rules only (decode, csv, checks)", f"{rows / rules_s:,.0f} rows/s", f"{rules_s:.2f} s"),
        ("learners: validate_import (one process, row results written)", f"{rows / seconds:,.0f} rows/s",
         f"goal ≥ 50,000 rows/s; {seconds:.2f} s = ×{bare_s / seconds:.2f} the bare loop's rate"),
        ("  per CPU second of this process (load-independent)", f"{rows / done['cpu']:,.0f} rows/s",
         f"{done['cpu']:.2f} s CPU"),
        ("  outcome", f"{done['valid']:,} valid / {done['invalid']:,} invalid",
         f"{done['written']:,} row results written"),
        ("trainees: validate_import, as many rows, same run", f"{rows / trainee_s:,.0f} rows/s",
         f"{trainee_s:.2f} s; learners = ×{trainee_s / seconds:.2f} the trainee rate; "
         f"per CPU second {rows / trainee['cpu']:,.0f} rows/s"),
    ]


def upload_rows(app: Any, cohort_id: int, token: str, storage_dir: Path, uploads: int) -> list[tuple[str, str, str]]:
    """Upload request latency for a 10 MB file (the request stores the bytes and answers; no parsing), beside the
    bare write of the same bytes to a file in the same storage folder."""
    from core.jobs.outbox import broker

    ten_mb = generate_csv(140_000, seed=11)[: 10 * 1024 * 1024]
    client = app.test_client()
    timings = []
    original = broker.publish
    sent: list[Any] = []
    broker.publish = lambda *a: sent.append(a)  # measure the request, not a queue nobody drains
    try:
        for _ in range(uploads):
            started = time.perf_counter()
            r = client.post(f"/api/corporate-cohorts/{cohort_id}/trainee-imports",
                            headers={"Authorization": f"Bearer {token}"},
                            data={"file": (io.BytesIO(ten_mb), "ten.csv")}, content_type="multipart/form-data")
            timings.append(time.perf_counter() - started)
            assert r.status_code == 202
    finally:
        broker.publish = original
    bare_writes = []
    for n in range(uploads):
        started = time.perf_counter()
        (storage_dir / f"bench-bare-{n}.csv").write_bytes(ten_mb)
        bare_writes.append(time.perf_counter() - started)
    return [(f"upload request, {len(ten_mb) / 2**20:.1f} MiB file (×{len(timings)})",
             f"p95 {pct(timings, 95) * 1000:.0f} ms", f"p50 {statistics.median(timings) * 1000:.0f} ms"),
            ("  bare: the same bytes written to a file in storage", f"p95 {pct(bare_writes, 95) * 1000:.0f} ms",
             f"p50 {statistics.median(bare_writes) * 1000:.0f} ms")]


PARTS = ["validate", "commit", "worker", "upload", "learners"]
BARE = ("validation: a loop calling only phonenumbers and email-validator on the same phone and email values (no "
        "CSV, no rules, no database); commit: a COPY of the same rows into a table with the same indexes (and then "
        "the same foreign keys); worker: validate_import on this process (part 1); upload: the same bytes written "
        "to a file in the same storage folder, no request")


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_imports")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--only", choices=PARTS, action="append", help="run only these parts (repeatable)")
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    run = start(args)
    db_url, redis_url = run.db_url, run.redis_url
    work = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    settings = {"TESTING": True, "SECRET_KEY": "bench", "INSTANCE_DIR": str(work / "instance"),
                "SQLALCHEMY_DATABASE_URI": db_url, "CELERY_BROKER_URL": redis_url,
                "CELERY_RESULT_BACKEND": redis_url, "STORAGE_DIR": str(work / "private"),
                "MAIL_FILE_DIR": str(work / "mail"), "WTF_CSRF_ENABLED": False}

    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.demo import load_demo_data
    from core.imports import commit, service
    from core.jobs.outbox import broker
    from core.models import Cohort, CorporateTrainee, ImportStatus, TraineeImport, User
    from web import create_app
    from web.extensions import db

    app = create_app(settings)
    results = run.rows
    with app.app_context():
        upgrade()
        ids = load_demo_data(db.session)
        cohort_id = ids["corporate_cohort_id"]
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
        admin_id = admin.id
        token = create_api_token(db.session, admin, CreateApiToken(name="bench"))
    storage = app.extensions["storage"]

    data = b""
    if parts & {"validate", "worker"}:
        print(f"generating {args.rows:,} rows …", flush=True)
        data = generate_csv(args.rows)
        print(f"  {len(data) / 1e6:.1f} MB", flush=True)

    def new_import(payload: bytes) -> int:
        with app.app_context():
            cohort = db.session.get(Cohort, cohort_id)
            user = db.session.get(User, admin_id)
            imp = service.create_import(db.session, storage, cohort=cohort, uploader=user,
                                        stream=io.BytesIO(payload), filename="bench.csv", max_bytes=1 << 30)
            new_id = imp.id
            db.session.remove()
            return new_id

    # 1. validation on one process: rules alone, then the full service (row results COPY'd, progress committed)
    if "validate" in parts:
        bare_s, bare_rows = bare_library_loop(data)
        rules_s = rules_only(data)
        done = timed_validation(app, storage, new_import(data))
        validate_s, validate_cpu, valid, invalid, reasons = (done["seconds"], done["cpu"], done["valid"],
                                                             done["invalid"], done["reasons"])
        results += [
            ("bare loop: phonenumbers + email-validator only", f"{bare_rows / bare_s:,.0f} rows/s", f"{bare_s:.2f} s"),
            ("rules only (decode, csv, checks, caches)", f"{args.rows / rules_s:,.0f} rows/s", f"{rules_s:.2f} s"),
            ("validate_import (one process, DB writes incl.)", f"{args.rows / validate_s:,.0f} rows/s",
             f"{validate_s:.2f} s; ×{bare_s / validate_s:.1f} vs bare loop"),
            ("  per CPU second of this process (load-independent)", f"{args.rows / validate_cpu:,.0f} rows/s",
             f"{validate_cpu:.2f} s CPU (the database server's work not included)"),
            ("  outcome", f"{valid:,} valid / {invalid:,} invalid",
             ", ".join(f"{k}={v}" for k, v in sorted(reasons.items()))),
        ]

    # 2. commit of N valid rows vs a bare COPY of the same rows into a table with the same indexes
    if "commit" in parts:
        clean = generate_csv(args.rows, bad_share=0.0, seed=7)
        commit_id = new_import(clean)
        with app.app_context():
            service.validate_import(db.session, storage, commit_id)
            imp = db.session.get(TraineeImport, commit_id)
            commit.request_commit(db.session, commit_id, db.session.get(User, admin_id),
                                   cohort=db.session.get(Cohort, cohort_id))
            started = time.perf_counter()
            imp = commit.commit_trainees(db.session, commit_id)
            commit_s = time.perf_counter() - started
            inserted = imp.inserted_count
            rows = db.session.execute(select(CorporateTrainee.cohort_id, CorporateTrainee.full_name,
                                             CorporateTrainee.phone_e164, CorporateTrainee.email,
                                             CorporateTrainee.job_title, CorporateTrainee.employee_code,
                                             CorporateTrainee.department).where(
                CorporateTrainee.import_id == commit_id)).all()
            copy_s = bare_copy(db.session, [(*r, True, "now") for r in rows], "")
            # The same again with corporate_trainees' foreign keys: their per-row checks are part of the cost.
            copy_fk_s = bare_copy(db.session, [(*r, commit_id, True, "now") for r in rows], FOREIGN_KEYS)
            db.session.remove()
        # The committed file uploaded again: every row is already in the cohort (each an error, with its JSON).
        again_id = new_import(clean)
        with app.app_context():
            started = time.perf_counter()
            again = service.validate_import(db.session, storage, again_id)
            again_s = time.perf_counter() - started
            again_invalid = again.invalid_count
            # Back to the cohort of step 1, so that the worker below validates the same file in the same state.
            db.session.execute(text("DELETE FROM corporate_trainees WHERE import_id = :i"), {"i": commit_id})
            db.session.commit()
            db.session.remove()
        results += [
            (f"commit_import: {inserted:,} rows (INSERT … SELECT, locked)", f"{inserted / commit_s:,.0f} rows/s",
             f"{commit_s:.2f} s"),
            (f"bare COPY of the same {len(rows):,} rows (same indexes)", f"{len(rows) / copy_s:,.0f} rows/s",
             f"{copy_s:.2f} s; commit = ×{commit_s / copy_s:.2f} bare COPY"),
            ("bare COPY, same indexes + the same foreign keys", f"{len(rows) / copy_fk_s:,.0f} rows/s",
             f"{copy_fk_s:.2f} s; commit = ×{commit_s / copy_fk_s:.2f} this COPY"),
            ("validate_import, the committed file again", f"{args.rows / again_s:,.0f} rows/s",
             f"{again_s:.2f} s; {again_invalid:,} rows already in the cohort (errors)"),
        ]

    # 3. upload → VALIDATED through a real worker subprocess, sampling its RSS
    if "worker" in parts:
        import psutil

        env = dict(os.environ, DATABASE_URL=db_url, CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url,
                   INSTANCE_DIR=settings["INSTANCE_DIR"], STORAGE_DIR=settings["STORAGE_DIR"],
                   MAIL_FILE_DIR=settings["MAIL_FILE_DIR"], SECRET_KEY="bench")
        queue = f"bench-imports-{os.getpid()}"
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo",
                                   "-Q", queue, "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                                   "--without-heartbeat"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(work / "worker.log", "wb"))  # noqa: SIM115
        from tasks.imports import validate_import as validate_task

        def through_worker(payload: bytes) -> tuple[float, int, float]:
            client = app.test_client()
            started = time.perf_counter()
            original = broker.publish
            broker.publish = lambda name, entity_id, _queue: validate_task.apply_async(args=[entity_id], queue=queue)
            try:
                r = client.post(f"/api/corporate-cohorts/{cohort_id}/trainee-imports",
                                headers={"Authorization": f"Bearer {token}"},
                                data={"file": (io.BytesIO(payload), "bench.csv")}, content_type="multipart/form-data")
            finally:
                broker.publish = original
            assert r.status_code == 202, r.json
            proc = psutil.Process(worker.pid)
            peak = 0
            while True:
                peak = max(peak, proc.memory_info().rss)
                status = client.get(r.json["status_url"], headers={"Authorization": f"Bearer {token}"}).json["status"]
                if status not in ("UPLOADED", "VALIDATING"):
                    break
                time.sleep(0.02)
            assert status == "VALIDATED", status
            elapsed = time.perf_counter() - started
            with app.app_context():  # the task's own time, as the import row recorded it
                done = db.session.get(TraineeImport, r.json["id"])
                task_s = (done.finished_at - done.started_at).total_seconds()
                db.session.remove()
            return elapsed, peak, task_s

        try:
            with app.app_context():
                validate_task  # noqa: B018 (imported so the task is registered on this app)
            time.sleep(3)
            idle = psutil.Process(worker.pid).memory_info().rss
            small_s, small_peak, small_task = through_worker(generate_csv(args.rows // 5, seed=3))
            full_s, full_peak, full_task = through_worker(data)
        finally:
            worker.terminate()
            worker.wait(30)
        results += [
            (f"upload → VALIDATED via worker ({args.rows // 5:,} rows)", f"{small_s:.2f} s",
             f"task {small_task:.2f} s = {args.rows // 5 / small_task:,.0f} rows/s; worker peak RSS "
             f"{small_peak / 2**20:.0f} MiB (idle {idle / 2**20:.0f} MiB)"),
            (f"upload → VALIDATED via worker ({args.rows:,} rows)", f"{full_s:.2f} s",
             f"task {full_task:.2f} s = {args.rows / full_task:,.0f} rows/s; worker peak RSS "
             f"{full_peak / 2**20:.0f} MiB"),
        ]
        if "validate" in parts:  # the same file, validated on this process in part 1
            results.append(("  bare: validate_import on this process, same file", f"{validate_s:.2f} s",
                            f"worker task = ×{full_task / validate_s:.2f} this"))

    # 4. upload request latency for a 10 MB file (the request stores the bytes and answers; no parsing)
    if "upload" in parts:
        results += upload_rows(app, cohort_id, token, Path(settings["STORAGE_DIR"]), args.uploads)

    # 5. a learner file through the learner target: validation on one process, row results COPY'd
    if "learners" in parts:
        results += learner_rows(app, storage, admin_id, new_import, args.rows)

    with app.app_context():
        db.session.execute(text("UPDATE trainee_imports SET status = 'CANCELLED' WHERE status = 'UPLOADED'"))
        db.session.commit()
        left = db.session.scalar(select(func.count()).select_from(TraineeImport)
                                 .where(TraineeImport.status == ImportStatus.VALIDATED))
        db.session.remove()

    print(f"\n({left} validated imports left in {db_url.rsplit('/', 1)[-1]})")
    run.report(BARE, result_width=26, third="detail")


if __name__ == "__main__":
    main()
