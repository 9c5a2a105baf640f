"""A few seconds' memory of which user holds an API token, so a script's calls skip the token lookup.

Every API call paid a round trip to find the token's user before doing its own work. Each process keeps what
it found for `ttl` seconds: a token revoked or a user deactivated in this process is forgotten at once (any
flush that changes a user or a token clears the memory), and one changed by another process stops working
within `ttl` seconds. The user is remembered as its column values, never as a live object: each request gets
its own instance in its own session, without a query.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from core.models import ApiToken, User

DEFAULT_TTL_SECONDS = 5.0
_COLUMNS = tuple(attr.key for attr in User.__mapper__.column_attrs)


@dataclass(frozen=True)
class _Entry:
    expires: float  # time.monotonic()
    token_id: int
    last_used_at: dt.datetime | None
    values: dict[str, Any]
    institution_language: str | None


class TokenCache:
    """Token digest → the user holding it, for `ttl` seconds (0 turns the memory off)."""

    def __init__(self, ttl: float = DEFAULT_TTL_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, digest: str) -> tuple[User, int, dt.datetime | None] | None:
        """The remembered user, as a new instance in `session` (no query), with the token's id and last use."""
        entry = self._entries.get(digest)
        if entry is None or entry.expires <= time.monotonic():
            return None
        user = User(**entry.values)
        make_transient_to_detached(user)
        session.add(user)
        user.institution_language = entry.institution_language
        return user, entry.token_id, entry.last_used_at

    def put(self, digest: str, user: User, token_id: int, last_used_at: dt.datetime | None) -> None:
        if self.ttl <= 0:
            return
        values = {key: user.__dict__[key] for key in _COLUMNS if key in user.__dict__}
        entry = _Entry(time.monotonic() + self.ttl, token_id, last_used_at, values, user.institution_language)
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # a flood of distinct tokens: start over rather than grow
            self._entries[digest] = entry

    def used(self, digest: str, at: dt.datetime) -> None:
        """The token's use was just recorded: remember when, so the next minute's calls do not write again."""
        entry = self._entries.get(digest)
        if entry is not None:
            self._entries[digest] = _Entry(entry.expires, entry.token_id, at, entry.values,
                                           entry.institution_language)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


tokens = TokenCache()


@event.listens_for(Session, "after_flush")
def _forget_changed_holders(session: Session, _context: Any) -> None:
    """A user or token changed in this process (revoked, deactivated, new role): forget every token at once."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, (User, ApiToken)):
            tokens.clear()
            return
