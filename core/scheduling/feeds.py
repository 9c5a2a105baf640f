"""iCalendar (RFC 5545) subscription feeds per facilitator, cohort or room, behind revocable tokens.

The URL carries a random token; we store only its sha256, so a database leak leaks no feed. Each
event's UID is `session-<id>@<host>`: a client re-reading the feed replaces an edited session
instead of adding a second one, and a cancelled session comes back as STATUS:CANCELLED.
A feed shows what its owner may see *now*: a facilitator taken off a cohort stops seeing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.access.scoping import can, session_filter, visible_cohort
from core.errors import Forbidden, NotFound, ValidationError
from core.i18n import N_
from core.models import ClassSession, Cohort, Role, Room, SessionStatus, User
from core.models.sessions import CalendarEventVersion, CalendarFeedToken, FeedKind
from core.uow import unit_of_work

from . import store
from .commands import CreateFeed

TOKEN_PREFIX = "cal_"
PAST = dt.timedelta(days=60)
FUTURE = dt.timedelta(days=400)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _subject_name(session: Session, kind: FeedKind, subject_id: int) -> str | None:
    model, column = {FeedKind.FACILITATOR: (User, User.full_name), FeedKind.COHORT: (Cohort, Cohort.name),
                     FeedKind.ROOM: (Room, Room.name)}[kind]
    return session.scalar(select(column).where(model.id == subject_id))


def create_feed(session: Session, user: User, command: CreateFeed) -> tuple[CalendarFeedToken, str]:
    """A new feed token; returns the row and the token (shown once, never stored)."""
    kind = command.kind
    subject_id = command.subject_id
    if subject_id is None:
        if kind != FeedKind.FACILITATOR:
            raise ValidationError(N_("subject_id is the cohort's or room's id."), code="invalid_feed")
        subject_id = user.id
    if not can(session, user, "sessions.view"):
        raise Forbidden(N_("You do not have permission to do this."))
    with unit_of_work(session):
        if kind == FeedKind.COHORT:
            visible_cohort(session, user, subject_id, "sessions.view")
        elif kind == FeedKind.ROOM:
            if not can(session, user, "sessions.manage"):
                raise Forbidden(N_("Only schedulers may subscribe to a whole room."))
            if session.scalar(select(Room.id).where(Room.id == subject_id,
                                                    Room.institution_id == user.institution_id)) is None:
                raise NotFound(N_("No such room."))
        else:
            if subject_id != user.id and not can(session, user, "sessions.manage"):
                raise Forbidden(N_("You may subscribe only to your own sessions."))
            found = session.scalar(select(User.id).where(User.id == subject_id, User.role == Role.TEACHER,
                                                         User.institution_id == user.institution_id))
            if found is None:
                raise NotFound(N_("No such facilitator."))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = CalendarFeedToken(user_id=user.id, kind=kind, subject_id=subject_id, token_hash=_digest(token),
                                prefix=token[:12], created_at=clock.now())
        session.add(row)
    return row, token


def feeds_for(session: Session, user: User) -> list[tuple[CalendarFeedToken, str | None]]:
    rows = session.scalars(select(CalendarFeedToken).where(CalendarFeedToken.user_id == user.id,
                                                           CalendarFeedToken.revoked_at.is_(None))
                           .order_by(CalendarFeedToken.id.desc())).all()
    return [(r, _subject_name(session, r.kind, r.subject_id)) for r in rows]


def revoke_feed(session: Session, user: User, token_id: int) -> None:
    with unit_of_work(session):
        row = session.get(CalendarFeedToken, token_id)
        if row is None or (row.user_id != user.id and not can(session, user, "sessions.manage")):
            raise NotFound(N_("No such feed."))
        if row.revoked_at is None:
            row.revoked_at = clock.now()


def feed_calendar(session: Session, token: str, host: str) -> bytes:
    """The iCalendar document for a token; NotFound for an unknown or revoked token."""
    row = session.scalar(select(CalendarFeedToken).where(CalendarFeedToken.token_hash == _digest(token),
                                                         CalendarFeedToken.revoked_at.is_(None)))
    owner = session.get(User, row.user_id) if row is not None else None
    if row is None or owner is None or not owner.active or not can(session, owner, "sessions.view"):
        raise NotFound(N_("No such calendar feed."))
    column = {FeedKind.FACILITATOR: ClassSession.instructor_id, FeedKind.COHORT: ClassSession.cohort_id,
              FeedKind.ROOM: ClassSession.room_id}[row.kind]
    now = clock.now()
    sessions = session.scalars(
        select(ClassSession).join(Cohort, Cohort.id == ClassSession.cohort_id)
        .where(column == row.subject_id, session_filter(owner), ClassSession.starts_at < now + FUTURE,
               ClassSession.ends_at > now - PAST)
        .order_by(ClassSession.starts_at)
    ).all()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        with unit_of_work(session):
            row.last_used_at = now
    name = _subject_name(session, row.kind, row.subject_id) or row.kind.value
    versions = event_versions(session, list(sessions), now)
    return build_calendar(list(sessions), host, f"{name} — sessions", now, versions)


def _event_fields(s: ClassSession) -> dict[str, Any]:
    """Everything an event shows (a renamed room or cohort changes it too)."""
    where = ", ".join(x for x in (s.room.name if s.room else None,
                                  s.location or (s.room.location if s.room else None)) if x)
    lines = [f"Cohort: {s.cohort.name}", f"Type: {s.session_type.label}"]
    if s.instructor:
        lines.append(f"Instructor: {s.instructor.full_name}")
    if s.notes:
        lines.append(s.notes)
    return {"summary": s.title or f"{s.cohort.name} · {s.session_type.label}", "location": where,
            "description": "\n".join(lines), "dtstart": s.starts_at, "dtend": s.ends_at,
            "status": "CANCELLED" if s.status == SessionStatus.CANCELLED else "CONFIRMED"}


def _fingerprint(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, default=str, sort_keys=True).encode()).hexdigest()


def event_versions(session: Session, sessions: list[ClassSession], now: dt.datetime
                   ) -> dict[int, tuple[int, dt.datetime]]:
    """(SEQUENCE, LAST-MODIFIED) per session: bumped once whenever what the event shows differs from what the
    last read of any feed showed, whatever changed it. A session seen for the first time starts from the
    sequence the feed used to derive from its timestamps, so clients never see a lower one."""
    if not sessions:
        return {}
    prints = {s.id: _fingerprint(_event_fields(s)) for s in sessions}
    stored = {v.session_id: v for v in session.scalars(
        select(CalendarEventVersion).where(CalendarEventVersion.session_id.in_(prints)))}
    changed = []
    for s in sessions:
        old = stored.get(s.id)
        if old is None:
            updated = s.updated_at or s.created_at
            first = max(int((updated - s.created_at).total_seconds()), 0) if s.created_at else 0
            changed.append({"session_id": s.id, "fingerprint": prints[s.id], "sequence": first,
                            "modified_at": updated})
        elif old.fingerprint != prints[s.id]:
            changed.append({"session_id": s.id, "fingerprint": prints[s.id], "sequence": old.sequence + 1,
                            "modified_at": max(now, old.modified_at)})
    if changed:
        with unit_of_work(session):
            store.save_event_versions(session, changed)
    versions = {sid: (v.sequence, v.modified_at) for sid, v in stored.items()}
    versions.update({c["session_id"]: (c["sequence"], c["modified_at"]) for c in changed})
    return versions


def build_calendar(sessions: list[ClassSession], host: str, name: str, stamp: dt.datetime,
                   versions: dict[int, tuple[int, dt.datetime]] | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Attendance platform//Schedules//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    versions = versions or {}
    for s in sessions:
        fields = _event_fields(s)
        event = Event()
        event.add("uid", f"session-{s.id}@{host}")
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", fields["dtstart"])
        event.add("dtend", fields["dtend"])
        event.add("summary", fields["summary"])
        if fields["location"]:
            event.add("location", fields["location"])
        event.add("description", fields["description"])
        event.add("status", fields["status"])
        # A higher SEQUENCE tells clients this version replaces the one they have.
        sequence, modified = versions.get(s.id, (0, s.updated_at or s.created_at))
        event.add("last-modified", modified)
        event.add("sequence", sequence)
        cal.add_component(event)
    return cal.to_ical()
