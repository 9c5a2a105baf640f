"""Scheduling speed figures (issue 4). Run by hand; prints a table.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bench_scheduling.py   # all three parts
        [--db attendance_bench_scheduling] [--host postgresql+psycopg://postgres@127.0.0.1:5432] [--planner-only]
        [--smoke]   # a tenth of the cohorts in each part: proves it runs, judges nothing

1. Plan + conflict-check one year (weekdays, 2 slots/day) for 20 … 200 cohorts (≈104,000 sessions at 200)
   across 250 rooms and 300 instructors, with a few % real clashes (8 cohorts borrow a neighbour's room for
   their second slot, and ~2,000 existing sessions of other cohorts sit in random rooms). Pure Python, one core.
2. Apply ≈10,000 sessions on PostgreSQL: (a) one multi-row INSERT transaction of 10,000 planned sessions,
   (b) the full apply use case (read busy sessions, check, insert, audit, commit) for 20 cohorts × 1 year.
3. The calendar API for one month of one institution holding 5,000+ sessions that month (Flask test client,
   so the time is server time without the network), median of 7 calls; beside two bare figures from the same
   run: `GET /api/health` (no auth, no SQL) through the same client, and the calendar request's own SQL
   statements replayed on one connection with no app around them.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

from common import Run, bench_parser, build_app, captured_statements, replay_ms, start  # bench/common.py

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.models.enums import SessionType
from core.scheduling.planner import Busy, Plan, Slot, expand, plan_sessions

ZONE = "Africa/Algiers"
YEAR_START, YEAR_END = dt.date(2032, 1, 1), dt.date(2032, 12, 31)
ROOMS, INSTRUCTORS = 250, 300
MORNING, AFTERNOON = (dt.time(9), dt.time(12)), (dt.time(13), dt.time(16))
BARE = ("planner: none (pure Python; read its scaling); apply: the sessions' bare COPY (store.insert_sessions, "
        "no busy read or checks in Python, no audit); calendar: GET /api/health (no auth, no SQL) through the same "
        "client, and the calendar request's own SQL statements replayed on one connection")


def year_plans(n: int, start: dt.date = YEAR_START, end: dt.date = YEAR_END, *, clash_every: int = 25,
               rooms: list[int] | None = None, instructors: list[int] | None = None,
               cohort_ids: list[int] | None = None) -> list[Plan]:
    rooms = rooms or list(range(1, ROOMS + 1))
    instructors = instructors or list(range(1, INSTRUCTORS + 1))
    cohort_ids = cohort_ids or list(range(1, n + 1))
    plans = []
    for c in range(n):
        # Cohort c owns room c for both slots; slot 2's instructor is the one teaching slot 1 of cohort c+100.
        slot2_room = rooms[(c + 1) % len(rooms)] if clash_every and c % clash_every == 0 else rooms[c % len(rooms)]
        plans.append(Plan(
            cohort_id=cohort_ids[c], start_date=start, end_date=end, weekdays=frozenset(range(5)), zone=ZONE,
            slots=(Slot(*MORNING, SessionType.THEORY, rooms[c % len(rooms)], instructors[c % len(instructors)]),
                   Slot(*AFTERNOON, SessionType.PRACTICAL, slot2_room, instructors[(c + 100) % len(instructors)]))))
    return plans


def existing_sessions(count: int, seed: int = 4) -> list[Busy]:
    rng = random.Random(seed)
    days = [YEAR_START + dt.timedelta(days=i) for i in range((YEAR_END - YEAR_START).days + 1)]
    out = []
    for i in range(count):
        day = rng.choice(days)
        start = dt.datetime.combine(day, dt.time(rng.choice([8, 10, 14])), tzinfo=dt.UTC)
        out.append(Busy(10_000_000 + i, 90_000 + i, rng.randint(1, ROOMS), None, start, start + dt.timedelta(hours=2)))
    return out


def bench_planner(sizes: tuple[int, ...]) -> list[tuple[str, str, str]]:
    rows = []
    existing = existing_sessions(2000)
    times = {}
    for n in sizes:
        plans = year_plans(n)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            result = plan_sessions(plans, existing)
            best = min(best, time.perf_counter() - t0)
        planned = result.planned_count
        times[n] = best
        clashes = len(result.clashes)
        rows.append((f"plan+check {n} cohorts × 1 year", f"{best:.3f} s",
                     f"{planned:,} sessions, {planned / best:,.0f}/s, {clashes:,} clashes "
                     f"({100 * len({id(c.planned) for c in result.clashes}) / planned:.1f}%)"))
    first, last = sizes[0], sizes[-1]
    rows.append((f"scaling {first}→{last} cohorts", f"×{times[last] / times[first]:.1f}",
                 f"{last / first:.0f}× the sessions (linear = ×{last / first:.0f})"))
    return rows


def _setup_database(run: Run):
    import tempfile

    instance = tempfile.mkdtemp(prefix="bench-scheduling-")
    return build_app(run, instance, TESTING=True, WTF_CSRF_ENABLED=False, STORAGE_DIR=f"{instance}/private",
                     BASE_URL="http://bench")


def _fixtures(session, n_cohorts: int, n_rooms: int, n_instructors: int, start: dt.date, end: dt.date, tag: str):
    from sqlalchemy import insert, select

    from core.models import Cohort, Institution, Role, Room, User

    inst = session.scalar(select(Institution).where(Institution.slug == "bench"))
    if inst is None:
        inst = Institution(name="Bench", slug="bench", time_zone=ZONE)
        session.add(inst)
        session.flush()
    room_ids = session.scalars(insert(Room).returning(Room.id), [
        {"institution_id": inst.id, "name": f"{tag} room {i}", "capacity": 40} for i in range(n_rooms)]).all()
    user_ids = session.scalars(insert(User).returning(User.id), [
        {"institution_id": inst.id, "email": f"{tag}-t{i}@bench.example", "full_name": f"Teacher {i}",
         "role": Role.TEACHER} for i in range(n_instructors)]).all()
    cohort_ids = session.scalars(insert(Cohort).returning(Cohort.id), [
        {"institution_id": inst.id, "name": f"{tag} cohort {i}", "start_date": start, "end_date": end}
        for i in range(n_cohorts)]).all()
    session.commit()
    return inst, list(room_ids), list(user_ids), list(cohort_ids)


def bench_apply(app, n: int = 20) -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select

    from core.access.auth import create_user
    from core.models import ClassSession, Role
    from core.scheduling import store
    from core.scheduling.apply import apply
    from core.scheduling.commands import SchedulePlan
    from web.extensions import db

    rows = []
    with app.app_context():
        s = db.session
        inst, rooms, users, cohorts = _fixtures(s, n, n, 2 * n, YEAR_START, YEAR_END, "bulk")
        planned = [p for plan in year_plans(n, rooms=rooms, instructors=users, cohort_ids=cohorts, clash_every=0)
                   for p in expand(plan)][:10_000]
        t0 = time.perf_counter()
        store.insert_sessions(s, inst.id, planned)
        s.commit()  # the bench times the bare insert, outside any use case
        insert_s = time.perf_counter() - t0
        rows.append((f"bare: insert {len(planned):,} sessions (1 transaction)", f"{insert_s:.3f} s",
                     f"{len(planned) / insert_s:,.0f} rows/s, COPY, 3 exclusion constraints checked per row"))

        admin = create_user(s, email="bench-admin@bench.example", role=Role.ADMIN, institution_id=inst.id)
        _, rooms2, users2, cohorts2 = _fixtures(s, n, n, 2 * n, dt.date(2033, 1, 1), dt.date(2033, 12, 31), "svc")
        plans = year_plans(n, dt.date(2033, 1, 1), dt.date(2033, 12, 31), rooms=rooms2, instructors=users2,
                           cohort_ids=cohorts2, clash_every=0)
        t0 = time.perf_counter()
        created = 0
        for plan, cohort_id in zip(plans, cohorts2, strict=True):
            body = {"start_date": "2033-01-01", "end_date": "2033-12-31", "weekdays": [0, 1, 2, 3, 4],
                    "slots": [{"start": sl.start.isoformat(), "end": sl.end.isoformat(), "room_id": sl.room_id,
                               "instructor_id": sl.instructor_id, "session_type": sl.session_type.value}
                              for sl in plan.slots]}
            created += len(apply(s, admin, cohort_id, SchedulePlan.model_validate(body)).created_ids)
        apply_s = time.perf_counter() - t0
        rows.append((f"apply {n} cohorts × 1 year ({created:,})", f"{apply_s:.3f} s",
                     f"{created / apply_s:,.0f} sessions/s incl. busy read, checks, audit, {n} commits "
                     f"(= {len(planned) / insert_s / (created / apply_s):.1f}× slower than the bare insert per row)"))
        total = s.scalar(select(func.count()).select_from(ClassSession))
        rows.append(("sessions in the database", f"{total:,}", ""))
    return rows


def bench_calendar(app, n: int = 120) -> list[tuple[str, str, str]]:
    from sqlalchemy import text

    from core.access.auth import create_api_token
    from core.access.commands import CreateApiToken
    from core.models import User
    from core.scheduling import store
    from web.extensions import db

    month_start, month_end = dt.date(2034, 3, 1), dt.date(2034, 3, 31)
    with app.app_context():
        s = db.session
        inst, rooms, users, cohorts = _fixtures(s, n, n, 2 * n, month_start, month_end, "cal")
        planned = [p for plan in year_plans(n, month_start, month_end, rooms=rooms, instructors=users,
                                            cohort_ids=cohorts, clash_every=0) for p in expand(plan)]
        store.insert_sessions(s, inst.id, planned)
        s.commit()
        s.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
        s.commit()
        admin = s.scalar(db.select(User).where(User.email == "bench-admin@bench.example"))
        token = create_api_token(s, admin, CreateApiToken(name="bench"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/institution/attendance/calendar?start=2034-03-01&end=2034-04-01"
    timings = []
    for _ in range(8):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.data[:300]
    total = response.json["total"]
    median = statistics.median(timings[1:])
    health = []
    for _ in range(8):
        t0 = time.perf_counter()
        assert client.get("/api/health").status_code == 200
        health.append(time.perf_counter() - t0)
    with app.app_context():
        engine = db.engine
    bare = replay_ms(engine, captured_statements(engine, lambda: client.get(url, headers=headers)), 7)
    return [(f"calendar API, 1 month, {total:,} sessions", f"{median * 1000:.0f} ms",
             f"median of 7 (first call {timings[0] * 1000:.0f} ms), {len(response.data) / 1e6:.1f} MB JSON"),
            ("  bare: GET /api/health, same client", f"{statistics.median(health[1:]) * 1000:.1f} ms", "median of 7"),
            ("  bare: the calendar's SQL replayed", f"{statistics.median(bare):.0f} ms",
             f"median of 7; request = {median * 1000 / statistics.median(bare):.1f}× its bare SQL")]


def main() -> None:
    parser = bench_parser(__doc__, "attendance_bench_scheduling")
    parser.add_argument("--planner-only", action="store_true", help="part 1 only (no database)")
    parser.add_argument("--smoke", action="store_true", help="a tenth of the cohorts in each part")
    args = parser.parse_args()
    run = start(args, recreate=not args.planner_only)
    tenth = 10 if args.smoke else 1
    run.rows += bench_planner(tuple(n // tenth for n in (20, 50, 100, 200)))
    if not args.planner_only:
        app = _setup_database(run)
        run.rows += bench_apply(app, 20 // tenth)
        run.rows += bench_calendar(app, 120 // tenth)
    run.report(BARE, result_width=9, third="notes")


if __name__ == "__main__":
    main()
