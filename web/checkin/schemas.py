"""Response schemas of the self check-in API, built from the domain's objects (core.checkin.service)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..attendance.schemas import IsoText, IsoTextOrNone


class RefusalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: IsoText
    reason: str = Field(description="The refusal's code, e.g. check_in_code_expired, check_in_device_shared.")
    name: str | None = Field(description="Who tried, when known.")
    flagged: bool = Field(description="One device checking in a second learner: worth a look.")


class CheckInStatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: int
    open: bool
    opened_at: IsoTextOrNone
    closes_at: IsoTextOrNone
    code: str | None = Field(description="The six digits of this moment (null while closed).")
    url: str | None = Field(description="The QR code's URL of this moment (null while closed).")
    changes_in: float | None = Field(description="Seconds until the code changes.")
    checked_in: int = Field(description="Learners checked in so far.")
    roster_size: int
    refusals: list[RefusalOut] = Field(description="The latest refused attempts, newest first.")


class CheckInMarkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: int
    cohort_name: str
    status: Literal["PRESENT", "LATE", "ABSENT", "EXCUSED"]
    minutes_late: int | None
    source: Literal["staff", "self_check_in", "auto"]
    checked_in_at: IsoTextOrNone
    already_marked: bool = Field(description="true: the session already had your mark; nothing changed.")


class CheckInSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    one_device: bool
    networks: list[str]
    geofence_lat: float | None
    geofence_lon: float | None
    geofence_radius_m: int | None
    absent_at_close: bool
