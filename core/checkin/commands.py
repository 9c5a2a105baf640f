"""Typed commands the self check-in use cases take; web/ builds them from requests."""

from __future__ import annotations

from pydantic import Field, field_validator

from core.fields import AwareDateTime, Command, ShortText

from .rules import MAX_NETWORKS, MAX_RADIUS_M, parse_networks


class OpenCheckIn(Command):
    open: bool = Field(description="true opens check-in on the session (or moves its close); false closes it.")
    closes_at: AwareDateTime | None = Field(
        None, description="When check-in closes by itself (ISO 8601 with offset); default and latest: the end.")


class CheckIn(Command):
    """A learner checking in: the six-digit `code`, or the QR URL's `token`; the browser's position when the
    institution uses a geofence."""

    code: str | None = Field(None, max_length=64, description="The six digits on the facilitator's screen.")
    token: str | None = Field(None, max_length=64, description="The token of the QR code's URL.")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class CheckInContext(Command):
    """What the request says besides the body: the device cookie and the address (after TRUSTED_PROXIES)."""

    device_id: str | None = Field(None, max_length=64)
    address: str | None = Field(None, max_length=64)


class CheckInSettingsIn(Command):
    one_device: bool = Field(False, description="One device per learner per session; one device, one learner.")
    networks: list[ShortText] = Field(default_factory=list, max_length=MAX_NETWORKS,
                                      description="Allowed networks (CIDR, e.g. 10.20.0.0/16); empty: any.")
    geofence_lat: float | None = Field(None, ge=-90, le=90)
    geofence_lon: float | None = Field(None, ge=-180, le=180)
    geofence_radius_m: int | None = Field(None, ge=10, le=MAX_RADIUS_M, description="Metres; 10 … 50,000.")
    absent_at_close: bool = Field(False, description="Mark still-unmarked learners ABSENT when check-in closes.")

    @field_validator("networks")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        try:
            return list(parse_networks([v for v in value if v]))
        except ValueError as exc:
            raise ValueError(f"not a network in CIDR form: {exc}") from None
