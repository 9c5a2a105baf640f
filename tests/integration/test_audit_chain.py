"""The tamper-evident trail on the real database: every audit row is linked into its institution's chain by the
database, `flask audit verify` names the first row that no longer holds, and two transactions appending at once
keep one unbroken chain."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from core import clock
from core.attendance import service
from core.attendance.commands import MarkRegister
from core.audit_trail import chain, verify
from core.models import AuditChainHead, AuditEvent, User
from tests.attendance_factories import make_session, members

DAY = dt.date(2026, 2, 2)


@pytest.fixture(autouse=True)
def _the_day_after(request):
    if "demo" in request.fixturenames:
        request.getfixturevalue("demo")
    with clock.frozen_at(dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)):
        yield


def _mark(sql: Session, demo: dict, status: str = "PRESENT", user: str = "teacher") -> list[int]:
    session_id = make_session(sql, demo["public_cohort_id"], DAY)
    ids = members(sql, demo["public_cohort_id"])
    service.mark(sql, sql.get(User, demo["users"][user]),
                 MarkRegister(session_id=session_id, records=[{"enrolment_id": i, "status": status} for i in ids]))
    sql.rollback()
    return list(sql.scalars(select(AuditEvent.id).where(AuditEvent.action == "attendance.mark")
                            .order_by(AuditEvent.seq)))


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_a_bulk_mark_joins_its_institutions_chain_one_link_per_row(sql, app, demo):
    ids = _mark(sql, demo)
    rows = sql.execute(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.seq)).scalars().all()
    assert len(rows) == 12 and {r.institution_id for r in rows} == {demo["institution_id"]}
    seqs = [r.seq for r in rows]
    assert seqs == list(range(seqs[0], seqs[0] + 12))
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    head = sql.get(AuditChainHead, demo["institution_id"])
    last = sql.scalar(select(AuditEvent).where(AuditEvent.institution_id == demo["institution_id"])
                      .order_by(AuditEvent.seq.desc()).limit(1))
    assert (head.seq, head.row_hash) == (last.seq, last.row_hash)


def test_the_documented_hash_recomputes_from_the_row_alone(sql, app, demo):
    """An outside reader with only the row and the README's definition gets the stored hash."""
    row_id = _mark(sql, demo)[3]
    r = sql.execute(text("SELECT seq, institution_id, at, actor_id, action, entity_type, entity_id, before::text, "
                         "after::text, context::text, prev_hash, row_hash FROM audit_events WHERE id = :id"),
                    {"id": row_id}).one()
    line = chain.line(*r[:10])
    assert chain.row_hash(bytes(r.prev_hash), line) == bytes(r.row_hash)
    assert line.split("\n")[2].endswith("Z") and line.split("\n")[4] == "attendance.mark"


def test_an_unbroken_trail_verifies_with_exit_code_0(sql, app, demo):
    _mark(sql, demo)
    result = _verify(app, "--institution", "demo")
    assert result.exit_code == 0, result.output
    assert "unbroken" in result.output and "BROKEN" not in result.output


def test_an_audit_row_changed_with_sql_is_named_by_audit_verify(sql, app, demo):
    ids = _mark(sql, demo)
    sql.execute(text("UPDATE audit_events SET after = jsonb_set(after, '{status}', '\"ABSENT\"') WHERE id = :id")
                if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else
                text("UPDATE audit_events SET after = '{\"status\": \"ABSENT\"}' WHERE id = :id"), {"id": ids[5]})
    sql.commit()
    result = _verify(app, "--institution", "demo")
    assert result.exit_code == 1
    assert f"BROKEN at row id {ids[5]} " in result.output and "content_changed" in result.output
    whole = _verify(app)  # every chain: the same break
    assert whole.exit_code == 1 and f"row id {ids[5]} " in whole.output


def test_a_rewritten_hash_breaks_the_next_link(sql, app, demo):
    ids = _mark(sql, demo)
    sql.execute(update(AuditEvent).where(AuditEvent.id == ids[2]).values(row_hash=bytes(32)))
    sql.commit()
    report = verify.verify_chain(sql, demo["institution_id"])
    assert report.broken is not None and report.broken.row_id == ids[2]  # its content no longer gives its hash


def test_a_deleted_row_is_a_gap_and_a_cut_end_a_head_mismatch(sql, app, demo):
    ids = _mark(sql, demo)
    sql.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[-1]})
    sql.commit()
    cut = verify.verify_chain(sql, demo["institution_id"])
    assert cut.broken is not None and cut.broken.reason == "head_mismatch"
    sql.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[4]})
    sql.commit()
    gap = verify.verify_chain(sql, demo["institution_id"])
    assert gap.broken is not None and (gap.broken.row_id, gap.broken.reason) == (ids[5], "seq_gap")


def test_an_unknown_institution_is_refused_with_its_slug(sql, app, demo):
    result = _verify(app, "--institution", "nowhere")
    assert result.exit_code != 0 and "nowhere" in result.output


@pytest.mark.postgres
def test_two_transactions_appending_for_one_institution_keep_one_unbroken_chain(sql, app, demo):
    from web.extensions import db

    sessions = [make_session(sql, demo["public_cohort_id"], DAY, dt.time(h), dt.time(h + 1)) for h in (8, 14)]
    ids = members(sql, demo["public_cohort_id"])
    with app.app_context():
        engine = db.engine
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def facilitator(user_key: str, session_id: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as own:
                user = own.get(User, demo["users"][user_key])
                barrier.wait()
                for n in range(6):
                    status = ("PRESENT", "ABSENT")[n % 2]
                    service.mark(own, user, MarkRegister(
                        session_id=session_id, records=[{"enrolment_id": i, "status": status} for i in ids]))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=facilitator, args=("teacher", sessions[0])),
               threading.Thread(target=facilitator, args=("admin", sessions[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    sql.rollback()
    marks = sql.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "attendance.mark"))
    assert marks == 2 * 6 * 12
    report = verify.verify_chain(sql, demo["institution_id"])
    assert report.ok, report.broken
    total = sql.scalar(select(func.count()).select_from(AuditEvent)
                       .where(AuditEvent.institution_id == demo["institution_id"]))
    assert report.rows == report.last_seq == total


# --- the embedded default: SQLite (the same chain, hashed by the Python function the app registers) -----------

def test_on_sqlite_the_trigger_chains_every_writer_and_verify_names_a_changed_row(tmp_path):
    import importlib.util
    from pathlib import Path

    from sqlalchemy import create_engine

    from core import audit
    from core.models import Base, Institution

    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0025_audit_chain.py"
    spec = importlib.util.spec_from_file_location("migration_0025", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = create_engine(f"sqlite:///{tmp_path / 'embedded.sqlite'}")
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(migration._TRIGGER_SQLITE)
    with Session(engine) as s:
        inst = Institution(name="Embedded", slug="embedded", time_zone="Africa/Algiers")
        s.add(inst)
        s.flush()
        audit.record(s, actor_id=None, action="test.one", entity_type="institution", entity_id=inst.id,
                     after={"n": 1})
        audit.record_many(s, [{"actor_id": None, "action": "test.many", "entity_type": "institution",
                               "entity_id": inst.id, "after": {"n": n}} for n in range(5)])
        audit.record(s, actor_id=None, action="test.platform", entity_type="lock_sweep", entity_id=1)
        s.commit()
        assert [r.ok for r in verify.verify(s)] == [True, True]  # the platform's chain and the institution's
        report = verify.verify_chain(s, inst.id)
        assert (report.rows, report.last_seq) == (6, 6)
        victim = s.scalar(select(AuditEvent.id).where(AuditEvent.seq == 4, AuditEvent.institution_id == inst.id))
        s.execute(text("UPDATE audit_events SET after = '{\"n\": 99}' WHERE id = :id"), {"id": victim})
        s.commit()
        broken = verify.verify_chain(s, inst.id).broken
        assert broken is not None and (broken.row_id, broken.reason) == (victim, "content_changed")
    engine.dispose()
