"""Self check-in rules, pure: when check-in may open, PRESENT or LATE, and the anti-sharing checks (networks,
geofence). No database, no clock reads: callers pass the instant."""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.models import AttendanceStatus

OPENS_BEFORE_START = dt.timedelta(minutes=15)
MAX_MINUTES_LATE = 600
EARTH_RADIUS_M = 6_371_000.0
MAX_NETWORKS = 50
MAX_RADIUS_M = 50_000


@dataclass(frozen=True)
class Settings:
    """An institution's anti-sharing rules; all off by default."""

    one_device: bool = False
    networks: tuple[str, ...] = ()
    geofence_lat: float | None = None
    geofence_lon: float | None = None
    geofence_radius_m: int | None = None
    absent_at_close: bool = False

    @property
    def geofence(self) -> bool:
        return None not in (self.geofence_lat, self.geofence_lon, self.geofence_radius_m)


def may_open(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> bool:
    """Check-in may be opened from 15 minutes before the start until the end."""
    return starts_at - OPENS_BEFORE_START <= now < ends_at


def is_open(opened_at: dt.datetime | None, closes_at: dt.datetime | None, closed_at: dt.datetime | None,
            now: dt.datetime) -> bool:
    return opened_at is not None and closes_at is not None and closed_at is None and opened_at <= now < closes_at


def arrival_mark(starts_at: dt.datetime, now: dt.datetime, late_after_minutes: int) -> tuple[str, int | None]:
    """PRESENT, or LATE with the minutes after the start once the grace (`late_after_minutes`) has passed."""
    minutes = int((now - starts_at).total_seconds() // 60)
    if minutes > late_after_minutes:
        return AttendanceStatus.LATE.value, min(minutes, MAX_MINUTES_LATE)
    return AttendanceStatus.PRESENT.value, None


def parse_networks(cidrs: Sequence[str]) -> tuple[str, ...]:
    """Each CIDR normalized (`10.0.0.7/8` → `10.0.0.0/8`); raises ValueError naming the first bad one."""
    if len(cidrs) > MAX_NETWORKS:
        raise ValueError(f"At most {MAX_NETWORKS} networks.")
    out = []
    for cidr in cidrs:
        try:
            out.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            raise ValueError(cidr) from None
    return tuple(out)


def address_allowed(address: str | None, networks: Sequence[str]) -> bool:
    """True when no list is set, or the address is in one of its networks (an unknown address is not)."""
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(n) for n in networks)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def outside_geofence(settings: Settings, lat: float | None, lon: float | None) -> float | None:
    """The distance from the site when it is beyond the radius; None when inside (or no geofence).
    A missing position is infinitely far (math.inf)."""
    if not settings.geofence:
        return None
    if lat is None or lon is None:
        return math.inf
    assert settings.geofence_lat is not None and settings.geofence_lon is not None
    d = distance_m(settings.geofence_lat, settings.geofence_lon, lat, lon)
    return d if d > (settings.geofence_radius_m or 0) else None
