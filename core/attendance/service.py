"""Attendance services, the entry points: read a register (reads.py), mark it (marks.py), lock and unlock by hand.
Each public function is one transaction and commits it. The lock rule and the nightly sweep live in locking.py;
the SQL that differs by database in store.py.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core.access.scoping import require
from core.models import ClassSession, User
from core.uow import unit_of_work

from . import locking, roster
from .commands import LockSession, UnlockSession
from .marks import MarkOutcome, mark
from .reads import Register, SessionInfo, get_register, load_session, open_session
from .store import upsert_marks

__all__ = ["MarkOutcome", "Register", "SessionInfo", "get_register", "lock_session", "mark", "open_session",
           "unlock_session", "upsert_marks"]


# ---------------------------------------------------------------------------------------------------------------
# Locking by hand (the rule and the nightly sweep: locking.py)
# ---------------------------------------------------------------------------------------------------------------

def lock_session(session: Session, user: User, session_id: int, command: LockSession) -> ClassSession:
    """An admin locks a session by hand (audited). Locking a locked session changes nothing."""
    with unit_of_work(session):
        class_session, _, _ = open_session(session, user, session_id)
        return locking.lock_session(session, user, class_session, command.reason)


def unlock_session(session: Session, user: User, session_id: int, command: UnlockSession, *,
                   grace_hours: int = 24) -> ClassSession:
    """Only admins unlock (audited); a session past its cut-off stays open until `relock_after`."""
    relock = command.relock_after.astimezone(dt.UTC) if command.relock_after else None
    with unit_of_work(session):
        class_session, cohort, zone = load_session(session, user, session_id)
        require(session, user, roster.permissions_for(cohort)[0])
        return locking.unlock_session(session, user, class_session, zone, command.reason, relock,
                                      grace_hours=grace_hours)
