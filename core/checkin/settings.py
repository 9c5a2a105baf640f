"""An institution's self check-in rules (anti-sharing, absent at close): reading them, and an admin setting them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import require
from core.errors import ValidationError
from core.i18n import N_
from core.models import CheckInSettings, User
from core.uow import unit_of_work

from . import rules
from .commands import CheckInSettingsIn


def settings_for(session: Session, institution_id: int) -> rules.Settings:
    return settings_of(session.get(CheckInSettings, institution_id))


def settings_of(row: CheckInSettings | None) -> rules.Settings:
    if row is None:
        return rules.Settings()
    return rules.Settings(one_device=row.one_device, networks=tuple((row.networks or {}).get("cidrs", ())),
                          geofence_lat=row.geofence_lat, geofence_lon=row.geofence_lon,
                          geofence_radius_m=row.geofence_radius_m, absent_at_close=row.absent_at_close)


def location_needed(session: Session, user: User) -> bool:
    """Whether the learner's institution checks a geofence (their check-in page then asks the browser). A read
    only, inside whatever transaction the caller has (it runs while a page renders)."""
    return settings_for(session, user.institution_id).geofence


def get_settings(session: Session, user: User) -> rules.Settings:
    require(session, user, "check_in.settings")
    with unit_of_work(session):
        return settings_for(session, user.institution_id)


def save_settings(session: Session, user: User, command: CheckInSettingsIn) -> rules.Settings:
    """An admin sets the institution's anti-sharing rules (audited). A geofence needs all three of its values."""
    require(session, user, "check_in.settings")
    fence = (command.geofence_lat, command.geofence_lon, command.geofence_radius_m)
    if any(v is not None for v in fence) and any(v is None for v in fence):
        raise ValidationError(N_("A geofence needs a latitude, a longitude and a radius (or none of them)."),
                              code="geofence_incomplete")
    with unit_of_work(session):
        before = settings_for(session, user.institution_id)
        row = session.get(CheckInSettings, user.institution_id) or CheckInSettings(institution_id=user.institution_id)
        row.one_device, row.absent_at_close = command.one_device, command.absent_at_close
        row.networks = {"cidrs": list(command.networks)}
        row.geofence_lat, row.geofence_lon, row.geofence_radius_m = fence
        session.add(row)

        audit.record(session, actor_id=user.id, action="check_in.settings", entity_type="institution",
                     entity_id=user.institution_id, before=_settings_dict(before),
                     after=command.model_dump(mode="json"))
        return settings_for(session, user.institution_id)


def _settings_dict(s: rules.Settings) -> dict[str, object]:
    return {"one_device": s.one_device, "networks": list(s.networks), "geofence_lat": s.geofence_lat,
            "geofence_lon": s.geofence_lon, "geofence_radius_m": s.geofence_radius_m,
            "absent_at_close": s.absent_at_close}
