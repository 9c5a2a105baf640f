"""Password resets and changes.

A reset link carries a token signed with the app's secret (itsdangerous), holding the user id and a
fingerprint of the current password hash: it expires after `max_age` seconds, and it works once, because
using it changes the hash. The same link, mailed to a new account, lets them choose a first password.
Asking for a link never reveals whether the address has an account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, jobs
from core.access.passwords import LENGTH_PARAMS, hash_password, password_problem, verify_password
from core.errors import ValidationError
from core.i18n import N_, fill, reader_language
from core.mail import MailSettings, build_message, send
from core.models import Institution, LoginSession, User
from core.uow import unit_of_work

from .jobs import RESET_LINK

SALT = "password-reset"
DEFAULT_MAX_AGE = 24 * 3600
RESET_PATH = "/password/reset/{token}"


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash or ''}:{user.active}".encode()).hexdigest()[:24]


def reset_token(secret_key: str, user: User) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_token(session: Session, secret_key: str, token: str, max_age: int = DEFAULT_MAX_AGE) -> User:
    """The user the link is for, if it is genuine, unexpired and unused; 422 otherwise."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(N_("This link has expired. Ask for a new one."), code="reset_link_expired") from None
    except BadSignature:
        raise ValidationError(N_("This link is not valid. Ask for a new one."), code="reset_link_invalid") from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        raise ValidationError(N_("This link was already used or is no longer valid. Ask for a new one."),
                              code="reset_link_used")
    return user


def _check_strength(password: str) -> None:
    if problem := password_problem(password):
        raise ValidationError(problem, code="weak_password", params=LENGTH_PARAMS,
                              details=[{"field": "password", "message": fill(problem, LENGTH_PARAMS)}])


def reset_password(session: Session, secret_key: str, token: str, new_password: str,
                   max_age: int = DEFAULT_MAX_AGE) -> User:
    """Set the password from a reset link; every signed-in browser of that user is signed out."""
    with unit_of_work(session):
        user = user_for_token(session, secret_key, token, max_age)
        _check_strength(new_password)
        user.password_hash = hash_password(new_password)
        session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        audit.record(session, actor_id=user.id, action="user.password_reset", entity_type="user", entity_id=user.id)
    return user


def change_password(session: Session, user: User, current: str, new: str, keep_session: str | None) -> None:
    """Change one's own password; other browsers are signed out, the current one (`keep_session`) stays."""
    with unit_of_work(session):
        if not verify_password(user.password_hash, current):
            raise ValidationError(N_("The current password is not right."), code="bad_credentials",
                                  details=[{"field": "current_password", "message": "Not right."}])
        _check_strength(new)
        user.password_hash = hash_password(new)
        others = delete(LoginSession).where(LoginSession.user_id == user.id)
        if keep_session is not None:
            others = others.where(LoginSession.id != keep_session)
        session.execute(others)
        audit.record(session, actor_id=user.id, action="user.password_change", entity_type="user", entity_id=user.id)


def request_reset(session: Session, email: str) -> None:
    """Queue a reset mail (a job, sent after commit) if the address belongs to an active user; say nothing
    either way."""
    with unit_of_work(session):
        user = session.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
        if user is not None:
            jobs.enqueue(session, RESET_LINK, user.id)


@dataclass(frozen=True)
class PasswordMail:
    """What a password mail needs: who, the link, and the language to write it in."""

    name: str
    institution: str | None
    url: str
    language: str


def language_of(session: Session, user: User) -> str:
    """The reader's language: their own preference where users carry one, else their institution's default."""
    default = session.scalar(select(Institution.default_language).where(Institution.id == user.institution_id))
    return reader_language(user.language, default)


def send_password_mail(session: Session, settings: MailSettings, secret_key: str, base_url: str, user_id: int,
                       compose: Callable[[PasswordMail], tuple[str, str]]) -> bool:
    """Mail one fresh link (a task calls this); `compose` writes (subject, text). False: nobody to mail."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return False
    institution = session.scalar(select(Institution.name).where(Institution.id == user.institution_id))
    url = base_url.rstrip("/") + RESET_PATH.format(token=reset_token(secret_key, user))
    subject, text = compose(PasswordMail(user.full_name, institution, url, language_of(session, user)))
    send(settings, build_message(settings, user.email, subject, text))
    return True
