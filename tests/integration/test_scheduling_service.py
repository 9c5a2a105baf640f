"""Scheduling services on the real database: apply, idempotency, conflicts, edit/cancel, and the race."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Locked
from core.models import ClassSession, Cohort, Holiday, Institution, Room, SessionStatus, User
from core.models.sessions import ScheduleRunStatus
from core.scheduling.apply import apply
from core.scheduling.commands import CancelSession, EditSession, SchedulePlan
from core.scheduling.edit import cancel_session, edit_session
from core.scheduling.plan import preview
from core.scheduling.runs import execute_run, start_run
from web.scheduling.schemas import schedule_preview

MON = dt.date(2031, 3, 3)  # a Monday, far from the demo's sessions


def _plan(room_id: int, instructor_id: int | None = None, **kw) -> SchedulePlan:
    plan = {"start_date": MON.isoformat(), "end_date": (MON + dt.timedelta(days=11)).isoformat(),
            "weekdays": [0, 1, 2, 3, 4],
            "slots": [{"start": "09:00", "end": "12:00", "session_type": "THEORY", "room_id": room_id,
                       "instructor_id": instructor_id}]}
    plan.update(kw)
    return SchedulePlan.model_validate(plan)


@pytest.fixture
def ctx(db_session, demo):
    s = db_session
    admin = s.get(User, demo["users"]["admin"])
    room = s.scalar(select(Room).where(Room.name == "Workshop"))
    return {"s": s, "admin": admin, "room": room, "teacher": demo["users"]["teacher"],
            "public": demo["public_cohort_id"], "corporate": demo["corporate_cohort_id"]}


def _count(s: Session, cohort_id: int) -> int:
    return s.scalar(select(func.count()).select_from(ClassSession).where(
        ClassSession.cohort_id == cohort_id, ClassSession.status != SessionStatus.CANCELLED,
        ClassSession.session_date >= MON)) or 0


def test_apply_writes_local_times_and_utc_instants(ctx):
    s = ctx["s"]
    applied = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, ctx["teacher"]))
    assert len(applied.created_ids) == 10
    first = s.get(ClassSession, applied.created_ids[0])
    assert (first.session_date, first.start_time) == (MON, dt.time(9))
    assert first.starts_at == dt.datetime(2031, 3, 3, 8, tzinfo=dt.UTC)  # Africa/Algiers is UTC+1


def test_reapplying_the_same_plan_creates_nothing(ctx):
    s = ctx["s"]
    apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    again = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    assert again.created_ids == [] and len(again.preview.result.already_scheduled) == 10
    assert _count(s, ctx["public"]) == 10


def test_preview_writes_nothing(ctx):
    s = ctx["s"]
    pv = preview(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    assert schedule_preview(s, pv)["to_create_count"] == 10
    assert _count(s, ctx["public"]) == 0


def test_holidays_are_skipped(ctx):
    s = ctx["s"]
    s.add(Holiday(institution_id=ctx["admin"].institution_id, date=MON + dt.timedelta(days=1), name="Spring day"))
    s.commit()
    applied = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    assert len(applied.created_ids) == 9


def test_skip_reports_a_clash_with_another_cohorts_session(ctx):
    s = ctx["s"]
    apply(s, ctx["admin"], ctx["corporate"], _plan(ctx["room"].id, end_date=MON.isoformat()))
    applied = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    assert len(applied.created_ids) == 9
    [skipped] = schedule_preview(s, applied.preview)["conflicts"]
    [clash] = skipped["clashes"]
    assert clash["resource"] == "room" and clash["resource_name"] == "Workshop"
    assert skipped["date"] == MON.isoformat() and clash["clashes_with"]["cohort"] == "Acme — Forklift Q4"


def test_a_date_clashing_on_room_and_instructor_is_one_session_skipped_listing_both(ctx):
    s = ctx["s"]
    apply(s, ctx["admin"], ctx["corporate"], _plan(ctx["room"].id, ctx["teacher"], end_date=MON.isoformat()))
    body = schedule_preview(s, preview(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, ctx["teacher"])))
    assert body["conflict_count"] == 1 and body["to_create_count"] == 9
    [skipped] = body["conflicts"]
    assert skipped["date"] == MON.isoformat() and skipped["resources"] == ["room", "instructor"]
    assert [c["resource_name"] for c in skipped["clashes"]] == ["Workshop", "Tarek Teacher"]
    assert "Workshop" in skipped["message"] and "Tarek Teacher" in skipped["message"]


def test_refuse_writes_nothing_and_names_the_clash(ctx):
    s = ctx["s"]
    apply(s, ctx["admin"], ctx["corporate"], _plan(ctx["room"].id, end_date=MON.isoformat()))
    with pytest.raises(Conflict) as caught:
        apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, on_conflict="refuse"))
    assert "Workshop" in caught.value.message
    assert _count(s, ctx["public"]) == 0


def test_capacity_below_the_roster_is_a_warning(ctx):
    s = ctx["s"]
    room = Room(institution_id=ctx["admin"].institution_id, name="Closet", capacity=3)
    s.add(room)
    s.commit()
    warnings = preview(s, ctx["admin"], ctx["public"], _plan(room.id)).warnings
    assert [(w.room, w.capacity, w.trainees) for w in warnings] == [("Closet", 3, 12)]


def test_reschedule_onto_a_busy_room_is_a_conflict(ctx):
    s = ctx["s"]
    other = apply(s, ctx["admin"], ctx["corporate"], _plan(ctx["room"].id, end_date=MON.isoformat()))
    mine = apply(s, ctx["admin"], ctx["public"],
                         _plan(ctx["room"].id, start_date=(MON + dt.timedelta(days=1)).isoformat(),
                               end_date=(MON + dt.timedelta(days=1)).isoformat()))
    with pytest.raises(Conflict) as caught:
        edit_session(s, ctx["admin"], mine.created_ids[0], EditSession(session_date=MON))
    assert caught.value.details["conflicts"][0]["clashes"][0]["clashes_with"]["session_id"] == other.created_ids[0]


def test_a_locked_session_cannot_be_rescheduled(ctx):
    s = ctx["s"]
    sid = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, end_date=MON.isoformat())).created_ids[0]
    s.get(ClassSession, sid).is_locked = True
    s.commit()
    with pytest.raises(Locked):
        edit_session(s, ctx["admin"], sid, EditSession.model_validate({"start_time": "10:00", "end_time": "13:00"}))
    assert edit_session(s, ctx["admin"], sid, EditSession(notes="Bring gloves")).notes == "Bring gloves"


def test_cancelling_frees_the_room(ctx):
    s = ctx["s"]
    sid = apply(s, ctx["admin"], ctx["corporate"],
                        _plan(ctx["room"].id, end_date=MON.isoformat())).created_ids[0]
    cancel_session(s, ctx["admin"], sid, CancelSession(reason="trainer ill"))
    applied = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, end_date=MON.isoformat()))
    assert len(applied.created_ids) == 1 and applied.preview.result.clashes == []


def test_reschedule_across_dst_in_a_zone_that_has_one(ctx):
    s = ctx["s"]
    s.get(Institution, ctx["admin"].institution_id).time_zone = "Europe/Paris"
    s.commit()
    sid = apply(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id, end_date=MON.isoformat())).created_ids[0]
    moved = edit_session(s, ctx["admin"], sid, EditSession(session_date=dt.date(2031, 4, 1)))  # after the spring change
    assert moved.starts_at == dt.datetime(2031, 4, 1, 7, tzinfo=dt.UTC) and moved.start_time == dt.time(9)


def test_background_run_applies_and_is_idempotent(ctx, published):
    s = ctx["s"]
    run = start_run(s, ctx["admin"], ctx["public"], _plan(ctx["room"].id))
    assert published == [("scheduling.apply_plan", (run.id,))]
    done = execute_run(s, run.id)
    assert (done.status, done.created_count, done.progress) == (ScheduleRunStatus.SUCCEEDED, 10, 100)
    execute_run(s, run.id)  # redelivered: nothing more happens
    assert _count(s, ctx["public"]) == 10


@pytest.mark.postgres
def test_two_concurrent_writers_for_one_room_exactly_one_wins(app, demo):
    """Both check, see a free room, then write at the same moment: the exclusion constraint decides."""
    from web.extensions import db

    with app.app_context():
        engine = db.engine
        setup = Session(engine)
        room_id = setup.scalar(select(Room.id).where(Room.name == "Workshop"))
        setup.close()
    barrier = threading.Barrier(2, timeout=20)

    def wait_before_insert(conn, cursor, statement, params, context, executemany):
        # The last statement before the rows go in (PostgreSQL draws their ids, then COPYs them).
        if "nextval(pg_get_serial_sequence('class_sessions'" in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    event.listen(engine, "before_cursor_execute", wait_before_insert)
    outcomes: dict[int, object] = {}

    def writer(cohort_id: int) -> None:
        with app.app_context(), Session(engine) as s:
            admin = s.get(User, demo["users"]["admin"])
            try:
                outcomes[cohort_id] = len(apply(s, admin, cohort_id, _plan(room_id)).created_ids)
            except Exception as exc:  # the loser's error is the assertion below
                outcomes[cohort_id] = exc

    try:
        threads = [threading.Thread(target=writer, args=(cid,))
                   for cid in (demo["public_cohort_id"], demo["corporate_cohort_id"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", wait_before_insert)
    results = list(outcomes.values())
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results
    loser = next(r for r in results if isinstance(r, Conflict))
    assert "Workshop" in loser.message and loser.details["conflicts"]
    with app.app_context():
        s = Session(db.engine)
        rooms_sessions = s.scalar(select(func.count()).select_from(ClassSession).where(
            ClassSession.room_id == room_id, ClassSession.session_date >= MON))
        winner_cohorts = s.scalar(select(func.count(func.distinct(ClassSession.cohort_id))).where(
            ClassSession.room_id == room_id, ClassSession.session_date >= MON))
        s.close()
    assert (rooms_sessions, winner_cohorts) == (10, 1)


def test_cohort_of_another_institution_is_not_found(ctx):
    s = ctx["s"]
    inst = Institution(name="Other", slug="other")
    s.add(inst)
    s.flush()
    cohort = Cohort(institution_id=inst.id, name="Elsewhere", start_date=MON, end_date=MON)
    s.add(cohort)
    s.commit()
    from core.errors import NotFound

    with pytest.raises(NotFound):
        preview(s, ctx["admin"], cohort.id, _plan(ctx["room"].id))


@pytest.mark.postgres
def test_a_deadlock_between_two_writers_is_retried_once_and_lost_as_a_conflict(app, demo):
    """Each writer holds one row the other needs (a real deadlock, PostgreSQL aborts one of them). The
    aborted one writes once more, meets the winner's committed rows, and gets a Conflict naming the room."""
    from core import clock
    from core.models import SessionType
    from core.scheduling import store
    from core.scheduling.apply import in_one_transaction
    from core.scheduling.planner import PlannedSession
    from web.extensions import db

    with app.app_context():
        engine = db.engine
    with Session(engine) as setup:
        room_id = setup.scalar(select(Room.id).where(Room.name == "Workshop"))
        institution_id = setup.scalar(select(Cohort.institution_id).where(Cohort.id == demo["public_cohort_id"]))

    def planned(cohort_id: int, start: int) -> PlannedSession:
        begin, end = dt.time(start), dt.time(start + 1)
        return PlannedSession(cohort_id, MON, 1, begin, end, clock.local_to_utc(MON, begin, "Africa/Algiers"),
                              clock.local_to_utc(MON, end, "Africa/Algiers"), SessionType.THEORY, room_id, None)

    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, object] = {}
    attempts: dict[str, int] = {"a": 0, "b": 0}

    def writer(name: str, cohort_id: int, first_hour: int, second_hour: int) -> None:
        first, second = planned(cohort_id, first_hour), planned(cohort_id, second_hour)
        with Session(engine) as s:
            def work() -> str:
                attempts[name] += 1
                store.insert_sessions(s, institution_id, [first])
                if attempts[name] == 1:
                    barrier.wait()  # both now hold the row the other will ask for
                store.insert_sessions(s, institution_id, [second])
                return "written"

            try:
                outcomes[name] = in_one_transaction(s, [first, second], "Africa/Algiers", work)
            except Exception as exc:  # the loser's error is the assertion below
                outcomes[name] = exc

    threads = [threading.Thread(target=writer, args=("a", demo["public_cohort_id"], 11, 9)),
               threading.Thread(target=writer, args=("b", demo["corporate_cohort_id"], 9, 11))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["Conflict", "str"], outcomes
    loser = next(name for name, o in outcomes.items() if isinstance(o, Conflict))
    assert attempts[loser] == 2  # aborted by the deadlock, then once more
    assert "Workshop" in outcomes[loser].message and outcomes[loser].details["conflicts"]
