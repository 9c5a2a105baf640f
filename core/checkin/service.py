"""Self check-in use cases: a facilitator opens or closes check-in on a session and watches it, a learner checks
in by the six-digit code or the QR's URL (under the institution's rules: settings.py), and the unmarked-at-close
run.

A check-in writes its mark with the register's own upsert (core.attendance.store.upsert_marks: the lock rule in
the writing statement, an audit row per mark) with source `self_check_in`; it only ever inserts, so a
facilitator's mark always wins. Every refused attempt on a known session is recorded (in its own transaction,
after the refused one rolled back) and shown beside the live count.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, lazyload

from core import audit, clock
from core.access.scoping import require
from core.attendance import locking, marking, roster
from core.attendance import store as attendance_store
from core.attendance.reads import load_session
from core.errors import Conflict, DomainError, Forbidden, Gone, Locked, NotFound, ValidationError
from core.i18n import N_
from core.models import (
    CheckInAttempt,
    CheckInSettings,
    CheckInWindow,
    ClassSession,
    Cohort,
    CohortType,
    CorporateTrainee,
    Enrolment,
    EnrolmentStatus,
    Institution,
    Learner,
    Role,
    SessionStatus,
    User,
)
from core.uow import unit_of_work

from . import codes, rules, store
from .commands import CheckIn, CheckInContext, OpenCheckIn
from .settings import settings_for, settings_of

LEARNER_ROLE = Role.LEARNER
REFUSALS_SHOWN = 50


@dataclass(frozen=True)
class Refusal:
    at: dt.datetime
    reason: str
    name: str | None
    flagged: bool


@dataclass(frozen=True)
class CheckInStatus:
    session_id: int
    open: bool
    opened_at: dt.datetime | None
    closes_at: dt.datetime | None
    code: str | None
    token: str | None
    changes_in: float | None
    checked_in: int
    roster_size: int
    refusals: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class CheckInMark:
    """What a learner's check-in answered: the mark as it stands (theirs, or one made before it)."""

    session_id: int
    cohort_name: str
    status: str
    minutes_late: int | None
    source: str
    checked_in_at: dt.datetime | None
    already_marked: bool


# ---------------------------------------------------------------------------------------------------------------
# The facilitator's side
# ---------------------------------------------------------------------------------------------------------------

def _facilitated(session: Session, user: User, session_id: int) -> tuple[ClassSession, Cohort, str]:
    """The session if `user` may mark it (its facilitator, its instructor, an admin): 404 outside their scope."""
    class_session, cohort, zone = load_session(session, user, session_id)
    require(session, user, roster.permissions_for(cohort)[1])
    return class_session, cohort, zone


def set_check_in(session: Session, user: User, session_id: int, command: OpenCheckIn, *, app_secret: str,
                 grace_hours: int = 24) -> CheckInStatus:
    """Open check-in (from 15 minutes before the start until the end; it closes by itself at `closes_at`, the
    end by default), move its close, or close it. Audited."""
    with unit_of_work(session):
        class_session, cohort, zone = _facilitated(session, user, session_id)
        now = clock.now()
        window = session.get(CheckInWindow, session_id)
        if command.open:
            locking.refuse_if_locked(class_session, zone, grace_hours)
            if not rules.may_open(class_session.starts_at, class_session.ends_at, now):
                raise Conflict(N_("Check-in can be opened from 15 minutes before the session starts until it "
                                  "ends (%(starts_at)s – %(ends_at)s)."),
                               params={"starts_at": class_session.starts_at.isoformat(),
                                       "ends_at": class_session.ends_at.isoformat()}, code="check_in_not_now")
            closes_at = (command.closes_at or class_session.ends_at).astimezone(dt.UTC)
            if not now < closes_at <= class_session.ends_at:
                raise ValidationError(N_("Check-in must close after now and no later than the end of the "
                                         "session."), code="invalid_closes_at")
            if window is None:
                window = CheckInWindow(session_id=session_id, opened_at=now, opened_by_id=user.id)
                session.add(window)
            elif window.closed_at is not None or window.closes_at <= now:
                window.opened_at, window.opened_by_id = now, user.id
            window.closes_at, window.closed_at, window.closed_job_at = closes_at, None, None
        elif window is not None and rules.is_open(window.opened_at, window.closes_at, window.closed_at, now):
            window.closed_at = now

        audit.record(session, actor_id=user.id, action="check_in.open" if command.open else "check_in.close",
                     entity_type="class_session", entity_id=session_id,
                     after={"closes_at": window.closes_at.isoformat() if window else None})
        session.flush()
        return _status(session, class_session, cohort, window, app_secret, now)


def check_in_status(session: Session, user: User, session_id: int, *, app_secret: str) -> CheckInStatus:
    """What the facilitator's screen shows: open or not, the code and the QR's token of this moment, how many
    have checked in, and the refusals."""
    with unit_of_work(session):
        class_session, cohort, _ = _facilitated(session, user, session_id)
        return _status(session, class_session, cohort, session.get(CheckInWindow, session_id), app_secret,
                       clock.now())


def _status(session: Session, class_session: ClassSession, cohort: Cohort, window: CheckInWindow | None,
            app_secret: str, now: dt.datetime) -> CheckInStatus:
    is_open = window is not None and rules.is_open(window.opened_at, window.closes_at, window.closed_at, now)
    code = token = changes_in = None
    if is_open:
        secret = codes.session_secret(app_secret, class_session.id)
        step = codes.step_of(now)
        code, token, changes_in = codes.code_at(secret, step), codes.token_at(secret, class_session.id, step), \
            codes.changes_in(now)
    checked_in = session.scalar(select(func.count()).where(
        CheckInAttempt.session_id == class_session.id, CheckInAttempt.accepted.is_(True))) or 0
    refusals = [Refusal(at, reason or "", name, flagged) for at, reason, name, flagged in session.execute(
        select(CheckInAttempt.at, CheckInAttempt.reason, User.full_name, CheckInAttempt.flagged)
        .outerjoin(User, User.id == CheckInAttempt.user_id)
        .where(CheckInAttempt.session_id == class_session.id, CheckInAttempt.accepted.is_(False))
        .order_by(CheckInAttempt.at.desc(), CheckInAttempt.id.desc()).limit(REFUSALS_SHOWN))]
    size = roster.roster_sizes(session, [cohort.id]).get(cohort.id, 0)
    return CheckInStatus(class_session.id, is_open, window.opened_at if window else None,
                         window.closes_at if window else None, code, token, changes_in, checked_in, size, refusals)


# ---------------------------------------------------------------------------------------------------------------
# The learner's side
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class _Attempt:
    """What is known of an attempt so far, to record it if it is refused."""

    user_id: int
    device_id: str | None
    address: str | None
    session_ids: list[int] = field(default_factory=list)
    member: tuple[str, int] | None = None
    flagged: bool = False


def check_in(session: Session, user: User, command: CheckIn, context: CheckInContext, *, app_secret: str,
             late_after_minutes: int = 10, grace_hours: int = 24) -> CheckInMark:
    """A signed-in learner checks in with the six-digit code or the QR's token.

    403 for staff accounts (`check_in_staff_refused`); 422 `check_in_code_invalid` for a wrong or forged code;
    410 `check_in_code_expired` for one older than the previous step; 423 `check_in_closed` when check-in is
    not open (or the session was cancelled), `session_locked` when the register is locked; 404 for a learner
    not on the session's register; the anti-sharing refusals (403/409/422, each with its own code). Nothing is
    written by a refused attempt but the attempt itself."""
    attempt = _Attempt(user.id, context.device_id, context.address)
    if user.role != LEARNER_ROLE:
        raise Forbidden(N_("Only learners check in; staff mark the register."), code="check_in_staff_refused")
    try:
        with unit_of_work(session):
            return _check_in(session, user, command, attempt, app_secret, late_after_minutes, grace_hours)
    except DomainError as refusal:
        if attempt.session_ids:
            _record_refusal(session, attempt, refusal.code)
        raise


def _record_refusal(session: Session, attempt: _Attempt, reason: str) -> None:
    with unit_of_work(session):
        member_type, member_id = attempt.member or (None, None)
        session.add_all([CheckInAttempt(session_id=sid, user_id=attempt.user_id, member_type=member_type,
                                        member_id=member_id, device_id=attempt.device_id, address=attempt.address,
                                        accepted=False, reason=reason[:60], flagged=attempt.flagged,
                                        at=clock.now()) for sid in attempt.session_ids])


def _closed() -> Locked:
    return Locked(N_("Check-in is not open for this session."), code="check_in_closed")


def _open_windows_for(session: Session, user: User, now: dt.datetime) -> list[int]:
    """Sessions of the learner's cohorts whose check-in is open now."""
    public = select(Enrolment.cohort_id).join(Learner, Learner.id == Enrolment.learner_id).where(
        Learner.user_id == user.id)
    corporate = select(CorporateTrainee.cohort_id).where(CorporateTrainee.user_id == user.id)
    return list(session.scalars(
        select(CheckInWindow.session_id).join(ClassSession, ClassSession.id == CheckInWindow.session_id)
        .where(CheckInWindow.closed_at.is_(None), CheckInWindow.opened_at <= now, CheckInWindow.closes_at > now,
               or_(ClassSession.cohort_id.in_(public), ClassSession.cohort_id.in_(corporate)))
        .order_by(ClassSession.starts_at)))


def _check_in(session: Session, user: User, command: CheckIn, attempt: _Attempt, app_secret: str,
              late_after_minutes: int, grace_hours: int) -> CheckInMark:
    now = clock.now()
    if command.token:
        parsed = codes.parse_token(command.token)
        if parsed is None:
            raise _invalid()
        session_id = parsed[0]
        verdict = codes.check_token(codes.session_secret(app_secret, session_id), command.token, now)
    elif command.code:
        candidates = _open_windows_for(session, user, now)
        if not candidates:
            raise _closed()
        attempt.session_ids = candidates
        session_id, verdict = _match_code(app_secret, candidates, command.code, now)
    else:
        raise ValidationError(N_("Type the six-digit code shown in class, or scan its QR code."),
                              code="check_in_code_required")

    target = _learner_session(session, session_id, user.id)
    class_session, cohort, zone, window = target.class_session, target.cohort, target.zone, target.window
    member = target.member
    if member is None:
        raise NotFound(N_("No such session, or it is not one you can see."))
    attempt.session_ids, attempt.member = [session_id], (roster.spec_for(cohort).member_type, member)
    if class_session.status == SessionStatus.CANCELLED:
        raise _closed()
    locking.refuse_if_locked(class_session, zone, grace_hours)
    if window is None or not rules.is_open(window.opened_at, window.closes_at, window.closed_at, now):
        raise _closed()
    if verdict.verdict is codes.Verdict.EXPIRED:
        raise Gone(N_("This code has expired: type the code on the screen now."), code="check_in_code_expired")
    if verdict.verdict is not codes.Verdict.ACCEPTED:
        raise _invalid()

    spec = roster.spec_for(cohort)
    _apply_anti_sharing(session, target.settings, command, attempt, spec, session_id, member)
    status, minutes = rules.arrival_mark(class_session.starts_at, now, late_after_minutes)
    written = attendance_store.upsert_marks(
        session, spec, class_session, [marking.Mark(member, status, minutes, None)], {}, user.id, now,
        locking.open_session_params(class_session, zone, grace_hours, now), {member: None},
        source=attendance_store.SELF_CHECK_IN, checked_in_at=now)
    if written:
        store.record_accepted(session, {"session_id": session_id, "user_id": user.id,
                                        "member_type": spec.member_type, "member_id": member,
                                        "device_id": attempt.device_id, "address": attempt.address, "at": now})
        return CheckInMark(session_id, cohort.name, status, minutes, attendance_store.SELF_CHECK_IN, now, False)
    current = roster.current_marks(session, cohort, session_id).get(member)
    if current is None:  # not written and nothing there: the statement found the session locked just now
        locking.refuse_if_locked(class_session, zone, grace_hours)
        raise _closed()
    rec = spec.model
    source, checked_at = session.execute(select(rec.source, rec.checked_in_at).where(
        rec.id == current.record_id)).one()
    return CheckInMark(session_id, cohort.name, current.status, current.minutes_late, source, checked_at, True)


def _invalid() -> ValidationError:
    return ValidationError(N_("This is not the code of a session open for check-in: check the six digits and "
                              "try again."), code="check_in_code_invalid")


def _match_code(app_secret: str, candidates: Sequence[int], code: str, now: dt.datetime
                ) -> tuple[int, codes.Check]:
    expired: tuple[int, codes.Check] | None = None
    for sid in candidates:
        verdict = codes.check_code(codes.session_secret(app_secret, sid), code, now)
        if verdict.verdict is codes.Verdict.ACCEPTED:
            return sid, verdict
        if verdict.verdict is codes.Verdict.EXPIRED and expired is None:
            expired = (sid, verdict)
    if expired is not None:
        return expired
    raise _invalid()


@dataclass(frozen=True)
class _Target:
    class_session: ClassSession
    cohort: Cohort
    zone: str
    window: CheckInWindow | None
    settings: rules.Settings
    member: int | None  # the learner's enrolment (public) or trainee row (corporate) on this register


def _members_of(user_id: int) -> tuple[Any, Any]:
    """The learner's row on the register of the session being read (correlated to class_sessions): their
    enrolment there that day (public; a withdrawn one stays for sessions before they left) and their trainee row
    (corporate)."""
    public = (select(Enrolment.id).join(Learner, Learner.id == Enrolment.learner_id)
              .where(Learner.user_id == user_id, Enrolment.cohort_id == ClassSession.cohort_id,
                     or_(Enrolment.status == EnrolmentStatus.ACTIVE,
                         and_(Enrolment.status == EnrolmentStatus.WITHDRAWN,
                              Enrolment.withdrawn_on > ClassSession.session_date)))
              .order_by(Enrolment.id).limit(1).correlate(ClassSession).scalar_subquery())
    corporate = (select(CorporateTrainee.id)
                 .where(CorporateTrainee.user_id == user_id, CorporateTrainee.cohort_id == ClassSession.cohort_id,
                        CorporateTrainee.active.is_(True))
                 .limit(1).correlate(ClassSession).scalar_subquery())
    return public, corporate


def _learner_session(session: Session, session_id: int, user_id: int) -> _Target:
    """The session with its cohort, zone, check-in window, its institution's rules and the learner's row on its
    register, in one query; the session row read FOR SHARE (a lock by hand waits for this check-in, or this
    check-in sees it)."""
    public, corporate = _members_of(user_id)
    stmt = attendance_store.locked(
        session, select(ClassSession, Cohort, Institution.time_zone, CheckInWindow, CheckInSettings, public,
                        corporate)
        .join(Cohort, Cohort.id == ClassSession.cohort_id)
        .join(Institution, Institution.id == ClassSession.institution_id)
        .outerjoin(CheckInWindow, CheckInWindow.session_id == ClassSession.id)
        .outerjoin(CheckInSettings, CheckInSettings.institution_id == ClassSession.institution_id)
        .where(ClassSession.id == session_id).options(lazyload("*")), read=True, of=ClassSession.__table__)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(N_("No such session, or it is not one you can see."))
    cohort = row[1]
    member = row[6] if cohort.cohort_type == CohortType.CORPORATE else row[5]
    return _Target(row[0], cohort, row[2] or "UTC", row[3], settings_of(row[4]), member)


def _apply_anti_sharing(session: Session, settings: rules.Settings, command: CheckIn, attempt: _Attempt,
                        spec: roster.RecordSpec, session_id: int, member: int) -> None:
    if not rules.address_allowed(attempt.address, settings.networks):
        raise Forbidden(N_("Check-in works only from the training site's network: connect to its Wi-Fi and try "
                           "again."), code="check_in_network_refused")
    distance = rules.outside_geofence(settings, command.latitude, command.longitude)
    if distance == math.inf:
        raise ValidationError(N_("Check-in needs your location to confirm you are at the training site: allow "
                                 "location in your browser and try again."), code="check_in_location_required")
    if distance is not None:
        raise Forbidden(N_("You seem to be about %(distance)s m from the training site; check-in works within "
                           "%(radius)s m of it."),
                        params={"distance": f"{distance:,.0f}", "radius": settings.geofence_radius_m},
                        code="check_in_outside_geofence")
    if not settings.one_device:
        return
    if not attempt.device_id:
        raise ValidationError(N_("Check in from your browser (this device could not be recognised)."),
                              code="check_in_device_required")
    accepted = session.execute(select(CheckInAttempt.member_type, CheckInAttempt.member_id, CheckInAttempt.device_id)
                               .where(CheckInAttempt.session_id == session_id, CheckInAttempt.accepted.is_(True),
                                      or_(CheckInAttempt.device_id == attempt.device_id,
                                          and_(CheckInAttempt.member_type == spec.member_type,
                                               CheckInAttempt.member_id == member)))).all()
    for member_type, member_id, device_id in accepted:
        if (member_type, member_id) == (spec.member_type, member):
            if device_id != attempt.device_id:
                raise Conflict(N_("You already checked in to this session from another device."),
                               code="check_in_second_device")
        else:
            attempt.flagged = True
            raise Conflict(N_("This device already checked someone else in to this session: each learner checks "
                              "in from their own phone. Your facilitator has been told."),
                           code="check_in_device_shared")


# ---------------------------------------------------------------------------------------------------------------
# Unmarked at close
# ---------------------------------------------------------------------------------------------------------------

def mark_unmarked_at_close(session: Session, *, grace_hours: int = 24) -> dict[str, int]:
    """For every check-in closed (by hand or by its time) and not handled yet: when its institution asks for it,
    learners still unmarked become ABSENT with source `auto` (through the register's upsert: audited, only where
    no mark exists, nothing once the session is locked). Each window is handled once (`closed_job_at`);
    running it twice changes nothing the second time."""
    now = clock.now()
    done = marked = 0
    with unit_of_work(session):
        due = session.execute(
            select(CheckInWindow, ClassSession, Cohort, Institution.time_zone)
            .join(ClassSession, ClassSession.id == CheckInWindow.session_id)
            .join(Cohort, Cohort.id == ClassSession.cohort_id)
            .join(Institution, Institution.id == ClassSession.institution_id)
            .where(CheckInWindow.closed_job_at.is_(None),
                   or_(CheckInWindow.closed_at.is_not(None), CheckInWindow.closes_at <= now))
            .with_for_update(of=CheckInWindow.__table__, skip_locked=True)).all()
        for window, class_session, cohort, zone in due:
            if settings_for(session, class_session.institution_id).absent_at_close and \
                    class_session.status != SessionStatus.CANCELLED:
                spec = roster.spec_for(cohort)
                members = roster.member_ids(session, cohort, class_session.id)
                marked_now = set(roster.current_marks(session, cohort, class_session.id))
                absent = [marking.Mark(m, "ABSENT", None, None) for m, active in members.items()
                          if active and m not in marked_now]
                written = attendance_store.upsert_marks(
                    session, spec, class_session, absent, {}, None, now,
                    locking.open_session_params(class_session, zone or "UTC", grace_hours, now),
                    dict.fromkeys((m.member_id for m in absent), None), source=attendance_store.AUTO)
                marked += len(written)
            session.execute(update(CheckInWindow).where(CheckInWindow.session_id == window.session_id)
                            .values(closed_job_at=now))
            done += 1
    return {"windows": done, "marked_absent": marked}
