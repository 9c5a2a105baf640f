"""Response schemas for the basic API: health, who am I, worker round trip."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    """Readiness: which parts are unhealthy, and each check's details."""

    status: str
    unhealthy: list[str]
    checks: dict[str, dict[str, Any]]


class Me(BaseModel):
    id: int
    email: str
    full_name: str
    role: str
    institution_id: int | None
    organization_ids: list[int]


class TaskStatus(BaseModel):
    id: str
    status: str
    result: Any = None
