"""Screens and JSON API for self check-in: the facilitator's check-in screen (QR, code, live count, refusals),
the learner's check-in (by code, or by opening the QR's URL), and the institution's anti-sharing settings."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import segno
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel

from core.checkin import service as checkin
from core.checkin import settings as checkin_settings
from core.checkin.commands import CheckIn, CheckInContext, CheckInSettingsIn, OpenCheckIn
from core.errors import DomainError

from ..auth import requires, user
from ..contract import ErrorEnvelope, contract, responds
from ..extensions import db
from ..i18n import institution_zone, translated_message
from ..timing import time_answers
from .schemas import CheckInMarkOut, CheckInSettingsOut, CheckInStatusOut

bp = Blueprint("checkin", __name__)


@bp.app_context_processor
def _check_in_globals() -> dict[str, Any]:
    """`check_in_locate()`: whether the signed-in learner's institution checks a geofence (the /me form asks
    the browser for its position only then)."""
    return {"check_in_locate": lambda: checkin_settings.location_needed(db.session, user())}


time_answers(bp)
DEVICE_COOKIE = "check_in_device"
DEVICE_COOKIE_DAYS = 400


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _grace() -> int:
    return int(current_app.config["LOCK_GRACE_HOURS"])


def _late_after() -> int:
    return int(current_app.config["LATE_AFTER_MINUTES"])


def _answer(model: BaseModel, status: int = 200) -> Response:
    return current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")


def _status_out(status: checkin.CheckInStatus) -> CheckInStatusOut:
    url = url_for("checkin.by_url", token=status.token, _external=True) if status.token else None
    return CheckInStatusOut.model_validate(SimpleNamespace(**status.__dict__, url=url), from_attributes=True)


def _settings_out(settings: Any) -> CheckInSettingsOut:
    return CheckInSettingsOut.model_validate(settings, from_attributes=True)


def _context() -> tuple[CheckInContext, str | None]:
    """The device cookie (a new one when absent: returned to be set) and the client's address (after
    TRUSTED_PROXIES: web.security)."""
    device = request.cookies.get(DEVICE_COOKIE)
    new = None
    if not device or len(device) != 32 or not device.isalnum():
        device = new = secrets.token_hex(16)
    return CheckInContext(device_id=device, address=request.remote_addr), new


def _with_device(response: Response, new_device: str | None) -> Response:
    if new_device:
        response.set_cookie(DEVICE_COOKIE, new_device, max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


# --- the facilitator's side ------------------------------------------------------------------------------------

@bp.get("/api/institution/class-sessions/<int:session_id>/check-in")
@requires("attendance.mark")
@contract(resp=responds(HTTP_200=CheckInStatusOut))
def api_status(session_id: int) -> Any:
    """What the facilitator's check-in screen shows: open or not, the code and QR URL of this moment, the count
    checked in, and the refusals."""
    return _answer(_status_out(checkin.check_in_status(db.session, user(), session_id, app_secret=_secret())))


@bp.post("/api/institution/class-sessions/<int:session_id>/check-in")
@requires("attendance.mark")
@contract(json=OpenCheckIn, resp=responds(HTTP_200=CheckInStatusOut, HTTP_409=ErrorEnvelope,
                                          HTTP_423=ErrorEnvelope))
def api_open(session_id: int, json: OpenCheckIn) -> Any:
    """Open self check-in on a session (from 15 minutes before its start until its end), or close it."""
    return _answer(_status_out(checkin.set_check_in(db.session, user(), session_id, json, app_secret=_secret(),
                                                    grace_hours=_grace())))


@bp.get("/institution/attendance/sessions/<int:session_id>/check-in")
@requires("attendance.mark")
def screen(session_id: int) -> Any:
    status = checkin.check_in_status(db.session, user(), session_id, app_secret=_secret())
    return render_template("checkin/facilitator.html", status=status, session_id=session_id,
                           zone=institution_zone(user().institution_id))


@bp.post("/institution/attendance/sessions/<int:session_id>/check-in")
@requires("attendance.mark")
def screen_open(session_id: int) -> Any:
    opening = request.form.get("open") == "true"
    checkin.set_check_in(db.session, user(), session_id, OpenCheckIn(open=opening), app_secret=_secret(),
                         grace_hours=_grace())
    flash(_("Check-in is open.") if opening else _("Check-in is closed."), "success")
    return redirect(url_for("checkin.screen", session_id=session_id))


@bp.get("/institution/attendance/sessions/<int:session_id>/check-in/qr.svg")
@requires("attendance.mark")
def qr_svg(session_id: int) -> Any:
    """The QR code of this moment, drawn on the server (segno) as SVG, large and crisp on a projector."""
    status = checkin.check_in_status(db.session, user(), session_id, app_secret=_secret())
    if not status.token:
        return Response(status=204)
    svg = segno.make(url_for("checkin.by_url", token=status.token, _external=True), error="m").svg_inline(
        scale=10, border=2, dark="#000", light="#fff")
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- the learner's side ----------------------------------------------------------------------------------------

def _mark_out(mark: checkin.CheckInMark) -> CheckInMarkOut:
    return CheckInMarkOut.model_validate(mark, from_attributes=True)


@bp.post("/api/me/check-in")
@requires("own_record.view")
@contract(json=CheckIn, resp=responds(HTTP_200=CheckInMarkOut, HTTP_409=ErrorEnvelope, HTTP_410=ErrorEnvelope,
                                      HTTP_423=ErrorEnvelope))
def api_check_in(json: CheckIn) -> Any:
    """Check in to a session open for check-in, with the six-digit code (or the QR URL's token): answers the mark."""
    context, new_device = _context()
    mark = checkin.check_in(db.session, user(), json, context, app_secret=_secret(),
                            late_after_minutes=_late_after(), grace_hours=_grace())
    return _with_device(_answer(_mark_out(mark)), new_device)


@bp.get("/check-in")
@requires("own_record.view")
def code_form() -> Any:
    _, new_device = _context()
    return _with_device(Response(_learner_page(None)), new_device)


@bp.get("/check-in/<token>")
@requires("own_record.view")
def by_url(token: str) -> Any:
    """The QR's URL: a page that checks in at once (with the browser's position when the institution asks)."""
    _, new_device = _context()
    return _with_device(Response(_learner_page(token[:64])), new_device)


@bp.post("/check-in")
@requires("own_record.view")
def check_in_form() -> Any:
    context, new_device = _context()
    try:
        command = CheckIn(code=(request.form.get("code") or "").strip()[:64] or None,
                          token=(request.form.get("token") or "").strip()[:64] or None,
                          latitude=_number(request.form.get("latitude"), 90),
                          longitude=_number(request.form.get("longitude"), 180))
        mark = checkin.check_in(db.session, user(), command, context, app_secret=_secret(),
                                late_after_minutes=_late_after(), grace_hours=_grace())
    except DomainError as refusal:

        response = Response(_learner_page(None, translated_message(refusal)), status=refusal.http_status)
        return _with_device(response, new_device)
    return _with_device(Response(render_template("checkin/done.html", mark=mark, zone=_learner_zone())), new_device)


def _learner_page(token: str | None, error: str | None = None) -> str:
    return render_template("checkin/learner.html", token=token, error=error,
                           locate=checkin_settings.location_needed(db.session, user()))


def _learner_zone() -> str:
    return institution_zone(user().institution_id)


def _number(text: str | None, bound: float) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and -bound <= value <= bound else None


# --- settings --------------------------------------------------------------------------------------------------

@bp.get("/api/institution/check-in-settings")
@requires("check_in.settings")
@contract(resp=responds(HTTP_200=CheckInSettingsOut))
def api_settings() -> Any:
    """The institution's self check-in rules against sharing (each off by default)."""
    return _answer(_settings_out(checkin_settings.get_settings(db.session, user())))


@bp.put("/api/institution/check-in-settings")
@requires("check_in.settings")
@contract(json=CheckInSettingsIn, resp=responds(HTTP_200=CheckInSettingsOut))
def api_save_settings(json: CheckInSettingsIn) -> Any:
    """Set the institution's self check-in rules: one device per learner, allowed networks, a geofence, and
    unmarked learners absent at close."""
    return _answer(_settings_out(checkin_settings.save_settings(db.session, user(), json)))


@bp.get("/institution/check-in-settings")
@requires("check_in.settings")
def settings_screen() -> Any:
    return render_template("checkin/settings.html", settings=checkin_settings.get_settings(db.session, user()))


@bp.post("/institution/check-in-settings")
@requires("check_in.settings")
def settings_save() -> Any:
    form = request.form
    command = CheckInSettingsIn(
        one_device=form.get("one_device") == "on", absent_at_close=form.get("absent_at_close") == "on",
        networks=[line.strip() for line in (form.get("networks") or "").splitlines() if line.strip()],
        geofence_lat=form.get("geofence_lat") or None, geofence_lon=form.get("geofence_lon") or None,
        geofence_radius_m=form.get("geofence_radius_m") or None)
    checkin_settings.save_settings(db.session, user(), command)
    flash(_("Check-in settings saved."), "success")
    return redirect(url_for("checkin.settings_screen"))
