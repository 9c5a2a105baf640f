"""Rooms and the institution's holidays: small admin lists the generator reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core import audit, clock
from core.collation import collated, name_matches
from core.db import flush_or_conflict
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.institutions.phones import institution_country
from core.models import Holiday, Role, Room, User
from core.uow import unit_of_work

from .commands import CreateHoliday, CreateRoom, HolidaysQuery, UpdateRoom
from .public_holidays import INSTITUTION, PUBLIC, HolidayEntry, holiday_entries
from .reads import institution_zone


def _institution(user: User) -> int:
    if user.institution_id is None:
        raise ValidationError(N_("Your account belongs to no institution."), code="no_institution")
    return user.institution_id


def _room_record(room: Room) -> dict[str, Any]:
    """A room as the audit trail keeps it."""
    return {"id": room.id, "name": room.name, "capacity": room.capacity, "location": room.location,
            "is_active": room.is_active}


def rooms_stmt(user: User, q: str | None = None, include_inactive: bool = False, language: str = "en") -> Select:
    stmt = select(Room).where(Room.institution_id == _institution(user))
    if not include_inactive:
        stmt = stmt.where(Room.is_active.is_(True))
    if q and q.strip():
        stmt = stmt.where(or_(name_matches(Room.name, q.strip()), name_matches(Room.location, q.strip())))
    return stmt.order_by(collated(Room.name, language), Room.id)


def create_room(session: Session, user: User, command: CreateRoom) -> Room:
    with unit_of_work(session):
        room = Room(institution_id=_institution(user), name=command.name, capacity=command.capacity,
                    location=(command.location or "").strip() or None)
        session.add(room)
        flush_or_conflict(session, N_("A room named “%(name)s” already exists."), "duplicate_room",
                          params={"name": command.name})
        audit.record(session, actor_id=user.id, action="room.create", entity_type="room", entity_id=room.id,
                     after=_room_record(room))
    return room


def update_room(session: Session, user: User, room_id: int, command: UpdateRoom) -> Room:
    with unit_of_work(session):
        room = session.scalar(select(Room).where(Room.id == room_id, Room.institution_id == _institution(user)))
        if room is None:
            raise NotFound(N_("No such room."))
        before = _room_record(room)
        for name in command.model_fields_set & {"name", "capacity", "location", "is_active"}:
            value = getattr(command, name)
            setattr(room, name, (value.strip() or None) if name == "location" and value is not None else value)
        flush_or_conflict(session, N_("Another room already has that name."), "duplicate_room")
        audit.record(session, actor_id=user.id, action="room.update", entity_type="room", entity_id=room.id,
                     before=before, after=_room_record(room))
    return room


def holiday_list(session: Session, user: User, query: HolidaysQuery, language: str = "en"
                 ) -> tuple[list[HolidayEntry], int, int]:
    """A page of the year's holidays, both kinds (the year: the query's, else the current one in the institution's
    zone): (entries, total, year)."""
    institution_id = _institution(user)
    year = query.year or clock.today_in(institution_zone(session, institution_id)).year
    sources = (query.source,) if query.source else (PUBLIC, INSTITUTION)
    entries = holiday_entries(session, institution_id, institution_country(session, institution_id), year, query.q,
                              language, sources)
    start = (query.page - 1) * query.per_page
    return entries[start:start + query.per_page], len(entries), year


def _holiday_record(h: Holiday) -> dict[str, Any]:
    return {"id": h.id, "date": h.date.isoformat(), "name": h.name}


def create_holiday(session: Session, user: User, command: CreateHoliday) -> Holiday:
    with unit_of_work(session):
        holiday = Holiday(institution_id=_institution(user), date=command.date, name=command.name)
        session.add(holiday)
        flush_or_conflict(session, N_("%(date)s is already a holiday."), "duplicate_holiday",
                          params={"date": command.date.isoformat()})
        audit.record(session, actor_id=user.id, action="holiday.create", entity_type="holiday",
                     entity_id=holiday.id, after=_holiday_record(holiday))
    return holiday


def delete_holiday(session: Session, user: User, holiday_id: int) -> None:
    with unit_of_work(session):
        holiday = session.scalar(select(Holiday).where(Holiday.id == holiday_id,
                                                       Holiday.institution_id == _institution(user)))
        if holiday is None:
            raise NotFound(N_("No such holiday."))
        audit.record(session, actor_id=user.id, action="holiday.delete", entity_type="holiday",
                     entity_id=holiday.id, before=_holiday_record(holiday))
        session.delete(holiday)


def instructors(session: Session, institution_id: int | None, language: str = "en") -> list[User]:
    return list(session.scalars(select(User).where(User.institution_id == institution_id, User.role == Role.TEACHER,
                                                   User.active.is_(True))
                                .order_by(collated(User.full_name, language), User.id)))
