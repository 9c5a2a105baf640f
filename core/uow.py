"""The unit of work: one use case, one transaction.

Every service body runs inside `unit_of_work(session)`. It commits when the block ends normally and
rolls back on any error; callbacks registered with `core.db.after_commit` (enqueue a task, send a mail)
run only after the commit, and a rollback drops them. Services, views and tasks never call `commit()`.

Units nest: an inner unit joins the outer one's transaction, so a use case that needs two services in
one transaction (build a document, then submit it) opens the outer unit and calls both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

_DEPTH = "unit_of_work_depth"


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def in_unit_of_work(session: Session) -> bool:
    return session.info.get(_DEPTH, 0) > 0
