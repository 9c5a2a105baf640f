"""Response schemas of the scheduling API and the presenters that shape domain results into them."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.attendance.locking import lock_state
from core.jobs import JobView
from core.models import ClassSession, Holiday, Room
from core.models.sessions import CalendarFeedToken, ScheduleRun
from core.scheduling.apply import Applied
from core.scheduling.calendar import CalendarWindow
from core.scheduling.clashes import Names, SkippedReport
from core.scheduling.plan import Preview
from core.scheduling.planner import PlannedSession
from core.scheduling.public_holidays import HolidayEntry

from ..contract import Accepted, JobOut
from ..i18n import say


class _SessionSlot(BaseModel):
    """What a planned and a scheduled session both show: when (local times, and instants with the offset),
    what kind, where and with whom."""

    date: str
    slot: int
    start_time: str
    end_time: str
    starts_at: str
    ends_at: str
    session_type: str
    cohort_id: int
    room_id: int | None
    room: str | None
    instructor_id: int | None
    instructor: str | None


class PlannedSessionOut(_SessionSlot):
    session_type_label: str


class CreatedSessionOut(PlannedSessionOut):
    id: int


class WarningOut(BaseModel):
    code: str
    room_id: int
    room: str
    capacity: int
    trainees: int
    message: str


class ScheduleOut(BaseModel):
    """A preview (`dry_run`: `sessions` lists what would be created) or an applied plan (`created`)."""

    cohort_id: int
    time_zone: str
    on_conflict: str
    planned_count: int
    to_create_count: int
    already_scheduled_count: int
    conflict_count: int
    refused: bool
    conflicts: list[SkippedReport]
    warnings: list[WarningOut]
    sessions: list[PlannedSessionOut] | None = Field(None, description="dry_run only: the sessions to create.")
    created: list[CreatedSessionOut] | None = Field(None, description="Applied only: the sessions created.")
    created_count: int | None = Field(None, description="Applied only.")


class RunAccepted(Accepted):
    progress: int
    planned_count: int


class RunOut(BaseModel):
    id: int
    cohort_id: int
    status: str = Field(description="PENDING, RUNNING, SUCCEEDED or FAILED")
    progress: int
    planned_count: int
    created_count: int
    already_scheduled_count: int
    conflicts: list[SkippedReport]
    error: str | None
    finished_at: str | None
    job: JobOut | None = Field(description="The background job applying the plan, in words.")
    retry_url: str = Field(description="POST here to apply a FAILED run's plan again.")


class ClassSessionOut(_SessionSlot):
    id: int
    title: str | None
    location: str | None
    notes: str | None
    status: str
    locked: bool = Field(description="By hand, or past its cut-off (the lock rule).")


class RoomOut(BaseModel):
    id: int
    name: str
    capacity: int | None
    location: str | None
    is_active: bool


class HolidayOut(BaseModel):
    id: int | None = Field(description="The institution's own holidays only (DELETE /api/holidays/<id>).")
    date: dt.date
    name: str
    source: str = Field("institution", description="public: the country's public holiday (the holidays library); "
                                                   "institution: a day the institution added.")


class FeedOut(BaseModel):
    id: int
    kind: str
    subject_id: int
    subject: str | None
    prefix: str
    created_at: str | None
    last_used_at: str | None
    revoked: bool


class NewFeedOut(FeedOut):
    token: str = Field(description="Shown once; only its hash is kept.")
    url: str


class EventRef(BaseModel):
    id: int
    name: str | None


class EventOut(BaseModel):
    id: int
    title: str
    start: str
    end: str
    type: str
    type_label: str
    status: str
    slot: int
    locked: bool
    cohort: EventRef
    room: EventRef | None
    instructor: EventRef | None
    marked: int
    roster: int


class CalendarHolidayOut(BaseModel):
    date: dt.date
    name: str
    source: str = Field(description="public or institution")


class CalendarOut(BaseModel):
    items: list[EventOut]
    holidays: list[CalendarHolidayOut] = Field(default_factory=list, description="Holidays in the window.")
    total: int
    time_zone: str
    start: str
    end: str


# ------------------------------------------------------------------------------------------------ presenters


def planned_session(p: PlannedSession, names: Names) -> dict[str, Any]:
    return {
        "date": p.session_date.isoformat(), "slot": p.slot,
        "start_time": p.start_time.strftime("%H:%M"), "end_time": p.end_time.strftime("%H:%M"),
        "starts_at": names.local(p.starts_at).isoformat(), "ends_at": names.local(p.ends_at).isoformat(),
        "session_type": p.session_type.value, "session_type_label": p.session_type.label, "cohort_id": p.cohort_id,
        "room_id": p.room_id, "room": names.rooms.get(p.room_id) if p.room_id else None,
        "instructor_id": p.instructor_id, "instructor": names.users.get(p.instructor_id) if p.instructor_id else None,
    }


def schedule_preview(session: Session, pv: Preview, limit: int | None = None) -> dict[str, Any]:
    """What the plan would do; `sessions` lists at most `limit` of the sessions to create."""
    names = pv.names(session)
    to_create = pv.result.to_create if limit is None else pv.result.to_create[:limit]
    return {
        "cohort_id": pv.cohort.id, "time_zone": pv.zone, "on_conflict": pv.plan.on_conflict.value,
        "planned_count": pv.result.planned_count, "to_create_count": len(pv.result.to_create),
        "already_scheduled_count": len(pv.result.already_scheduled),
        "conflict_count": len(pv.result.skipped),  # sessions skipped, not clashes per resource
        "refused": pv.result.refused,
        "sessions": [planned_session(p, names) for p in to_create],
        "conflicts": [c.as_record() for c in pv.clashes(session)],
        "warnings": [{"code": w.code, "room_id": w.room_id, "room": w.room, "capacity": w.capacity,
                      "trainees": w.trainees, "message": w.message} for w in pv.warnings],
    }


def schedule_applied(session: Session, applied: Applied) -> dict[str, Any]:
    body = schedule_preview(session, applied.preview, limit=0)
    del body["sessions"]
    names = applied.preview.names(session)
    body["created"] = [{"id": sid, **planned_session(p, names)}
                       for sid, p in zip(applied.created_ids, applied.preview.result.to_create, strict=True)]
    body["created_count"] = len(applied.created_ids)
    return body


def schedule_run(run: ScheduleRun, job: JobView | None, retry_url: str) -> dict[str, Any]:
    return {"id": run.id, "cohort_id": run.cohort_id, "status": run.status.value, "progress": run.progress,
            "planned_count": run.planned_count, "created_count": run.created_count,
            "already_scheduled_count": run.existing_count,
            "conflicts": (run.conflicts or {}).get("items", []), "error": run.error,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "job": job.as_json(say) if job else None, "retry_url": retry_url}


def class_session(s: ClassSession, zone: str, grace_hours: int) -> dict[str, Any]:
    z = ZoneInfo(zone)
    return {
        "id": s.id, "cohort_id": s.cohort_id, "date": s.session_date.isoformat(), "slot": s.slot,
        "start_time": s.start_time.strftime("%H:%M"), "end_time": s.end_time.strftime("%H:%M"),
        "starts_at": s.starts_at.astimezone(z).isoformat(), "ends_at": s.ends_at.astimezone(z).isoformat(),
        "session_type": s.session_type.value, "title": s.title, "room_id": s.room_id,
        "room": s.room.name if s.room else None, "instructor_id": s.instructor_id,
        "instructor": s.instructor.full_name if s.instructor else None, "location": s.location, "notes": s.notes,
        "status": s.status.value, "locked": lock_state(s, zone, grace_hours).locked,
    }


def room(r: Room) -> dict[str, Any]:
    return RoomOut.model_validate(r, from_attributes=True).model_dump(mode="json")


def holiday(h: Holiday | HolidayEntry) -> dict[str, Any]:
    return HolidayOut.model_validate(h, from_attributes=True).model_dump(mode="json")


def feed(row: CalendarFeedToken, subject: str | None = None) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind.value, "subject_id": row.subject_id, "subject": subject,
            "prefix": row.prefix, "created_at": row.created_at.isoformat() if row.created_at else None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "revoked": row.revoked_at is not None}


def calendar(window: CalendarWindow) -> dict[str, Any]:
    """Events for the calendar screen. Many share start times, cohorts, rooms and instructors: each is
    formatted once (a month can hold thousands of events)."""
    zone = ZoneInfo(window.time_zone)
    local: dict[dt.datetime, str] = {}
    refs: dict[tuple[str, int], dict[str, Any]] = {}
    titles: dict[tuple[str, str], str] = {}

    def when(instant: dt.datetime) -> str:
        text = local.get(instant)
        if text is None:
            text = local[instant] = instant.astimezone(zone).isoformat()
        return text

    def ref(kind: str, rid: int | None, name: str | None) -> dict[str, Any] | None:
        if rid is None:
            return None
        found = refs.get((kind, rid))
        if found is None:
            found = refs[(kind, rid)] = {"id": rid, "name": name}
        return found

    events = []
    for r in window.rows:
        title = r.title
        if not title:
            title = titles.get((r.cohort_name, r.session_type))
            if title is None:
                title = titles[(r.cohort_name, r.session_type)] = f"{r.cohort_name} · {r.session_type.label}"
        events.append({
            "id": r.id, "title": title, "start": when(r.starts_at), "end": when(r.ends_at),
            "type": r.session_type.value, "type_label": r.session_type.label, "status": r.status.value,
            "slot": r.slot, "locked": r.id in window.locked,
            "cohort": ref("cohort", r.cohort_id, r.cohort_name), "room": ref("room", r.room_id, r.room_name),
            "instructor": ref("instructor", r.instructor_id, r.instructor_name),
            "marked": window.marked.get(r.id, 0), "roster": window.roster.get(r.cohort_id, 0),
        })
    holidays = [{"date": h.date.isoformat(), "name": h.name, "source": h.source} for h in window.holidays]
    return {"items": events, "holidays": holidays, "total": len(events), "time_zone": window.time_zone,
            "start": window.start.isoformat(), "end": window.end.isoformat()}
