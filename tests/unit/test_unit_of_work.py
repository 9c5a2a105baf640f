"""The unit of work: commit on success, roll back on error, after-commit callbacks only after commit."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import core.db  # noqa: F401 (registers the after-commit hooks)
from core.db import after_commit
from core.uow import unit_of_work


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v INTEGER)"))
    with Session(engine) as s:
        yield s


def _values(session: Session) -> list[int]:
    return list(session.scalars(text("SELECT v FROM t ORDER BY v")))


def test_a_unit_commits_and_then_runs_its_callbacks(session):
    fired: list[list[int]] = []
    with unit_of_work(session):
        session.execute(text("INSERT INTO t VALUES (1)"))
        after_commit(session, lambda: fired.append(_values(Session(session.get_bind()))))
        assert fired == []
    assert fired == [[1]]


def test_an_error_rolls_everything_back_and_drops_callbacks(session):
    fired: list[str] = []
    with pytest.raises(RuntimeError), unit_of_work(session):
        session.execute(text("INSERT INTO t VALUES (1)"))
        after_commit(session, lambda: fired.append("sent"))
        raise RuntimeError("boom")
    assert _values(session) == [] and fired == []


def test_nested_units_share_the_outer_transaction(session):
    with pytest.raises(RuntimeError), unit_of_work(session):
        with unit_of_work(session):
            session.execute(text("INSERT INTO t VALUES (1)"))
        assert _values(session) == [1]  # not committed yet: the outer unit owns the transaction
        raise RuntimeError("the second step failed")
    assert _values(session) == []
