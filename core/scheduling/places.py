"""Rooms and the institution's holidays: small admin lists the generator reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.db import flush_or_conflict
from core.errors import NotFound, ValidationError
from core.models import Holiday, Room, User


def _institution(user: User) -> int:
    if user.institution_id is None:
        raise ValidationError("Your account belongs to no institution.", code="no_institution")
    return user.institution_id


def room_json(room: Room) -> dict[str, Any]:
    return {"id": room.id, "name": room.name, "capacity": room.capacity, "location": room.location,
            "is_active": room.is_active}


def holiday_json(h: Holiday) -> dict[str, Any]:
    return {"id": h.id, "date": h.date.isoformat(), "name": h.name}


def rooms_stmt(user: User, q: str | None = None, include_inactive: bool = False) -> Select:
    stmt = select(Room).where(Room.institution_id == _institution(user))
    if not include_inactive:
        stmt = stmt.where(Room.is_active.is_(True))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Room.name.ilike(like), Room.location.ilike(like)))
    return stmt.order_by(Room.name)


def _room_fields(data: Any, partial: bool) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("Send the room as a JSON object.", code="invalid_room")
    problems, out = [], {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 120:
            problems.append({"field": "name", "message": "A room needs a name (at most 120 characters)."})
        out["name"] = name
    if "capacity" in data:
        raw = data.get("capacity")
        if raw in (None, ""):
            out["capacity"] = None
        else:
            try:
                out["capacity"] = int(raw)
                if not 0 < out["capacity"] <= 10000:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append({"field": "capacity", "message": "Capacity is a whole number from 1 to 10000."})
    if "location" in data:
        location = str(data.get("location") or "").strip()
        if len(location) > 200:
            problems.append({"field": "location", "message": "Location is at most 200 characters."})
        out["location"] = location or None
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            problems.append({"field": "is_active", "message": "is_active is true or false."})
        out["is_active"] = bool(data["is_active"])
    if problems:
        raise ValidationError("The room has problems.", code="invalid_room", details=problems)
    return out


def create_room(session: Session, user: User, data: Any) -> Room:
    room = Room(institution_id=_institution(user), **_room_fields(data, partial=False))
    session.add(room)
    flush_or_conflict(session, f"A room named {data.get('name')!r} already exists.", "duplicate_room")
    audit.record(session, actor_id=user.id, action="room.create", entity_type="room", entity_id=room.id,
                 after=room_json(room))
    session.commit()
    return room


def update_room(session: Session, user: User, room_id: int, data: Any) -> Room:
    room = session.scalar(select(Room).where(Room.id == room_id, Room.institution_id == _institution(user)))
    if room is None:
        raise NotFound("No such room.")
    before = room_json(room)
    for name, value in _room_fields(data, partial=True).items():
        setattr(room, name, value)
    flush_or_conflict(session, "Another room already has that name.", "duplicate_room")
    audit.record(session, actor_id=user.id, action="room.update", entity_type="room", entity_id=room.id,
                 before=before, after=room_json(room))
    session.commit()
    return room


def holidays_stmt(user: User, year: int | None = None, q: str | None = None) -> Select:
    stmt = select(Holiday).where(Holiday.institution_id == _institution(user))
    if year:
        stmt = stmt.where(Holiday.date.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if q and q.strip():
        stmt = stmt.where(Holiday.name.ilike(f"%{q.strip()}%"))
    return stmt.order_by(Holiday.date)


def create_holiday(session: Session, user: User, data: Any) -> Holiday:
    if not isinstance(data, dict):
        raise ValidationError("Send the holiday as a JSON object.", code="invalid_holiday")
    problems = []
    try:
        day = dt.date.fromisoformat(str(data.get("date") or ""))
    except ValueError:
        problems.append({"field": "date", "message": "date is YYYY-MM-DD."})
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 120:
        problems.append({"field": "name", "message": "A holiday needs a name (at most 120 characters)."})
    if problems:
        raise ValidationError("The holiday has problems.", code="invalid_holiday", details=problems)
    holiday = Holiday(institution_id=_institution(user), date=day, name=name)
    session.add(holiday)
    flush_or_conflict(session, f"{day.isoformat()} is already a holiday.", "duplicate_holiday")
    audit.record(session, actor_id=user.id, action="holiday.create", entity_type="holiday", entity_id=holiday.id,
                 after=holiday_json(holiday))
    session.commit()
    return holiday


def delete_holiday(session: Session, user: User, holiday_id: int) -> None:
    holiday = session.scalar(select(Holiday).where(Holiday.id == holiday_id,
                                                   Holiday.institution_id == _institution(user)))
    if holiday is None:
        raise NotFound("No such holiday.")
    audit.record(session, actor_id=user.id, action="holiday.delete", entity_type="holiday", entity_id=holiday.id,
                 before=holiday_json(holiday))
    session.delete(holiday)
    session.commit()


def instructors(session: Session, institution_id: int | None) -> list[User]:
    from core.models import Role

    return list(session.scalars(select(User).where(User.institution_id == institution_id, User.role == Role.TEACHER,
                                                   User.active.is_(True)).order_by(User.full_name)))
