"""Sign-in, login sessions, API tokens and user creation.

The browser cookie carries a random login-session id (we store its sha256); signing out deletes
the row, so a copied cookie stops working at once. API tokens are stored the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, lazyload

from core import clock
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import N_
from core.models import ApiToken, Institution, LoginAttempt, LoginSession, Organization, OrgMembership, Role, User
from core.uow import unit_of_work

from . import throttle, token_cache
from .commands import ChooseLanguage, CreateApiToken
from .passwords import LENGTH_PARAMS, hash_password, password_problem, verify_password
from .throttle import ThrottlePolicy

TOKEN_PREFIX = "tap_"
# Roles that only make sense inside one institution: creating one without it is refused.
INSTITUTION_ROLES = frozenset({Role.ADMIN, Role.SUPPORT, Role.TEACHER})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def login_session_key(secret: str | None) -> str | None:
    """The stored id of a login session, from the cookie's secret."""
    return _digest(secret) if secret else None


def normalize_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(N_("Not a valid email address: %(problem)s"), params={"problem": str(exc)},
                              code="invalid_email") from exc


def sign_in(session: Session, email: str, password: str, ip: str | None = None,
            user_agent: str | None = None, policy: ThrottlePolicy | None = None) -> tuple[User, str]:
    """Check the credentials and open a login session; returns the user and the cookie secret."""
    email = email.strip().lower()
    secret = secrets.token_urlsafe(32)
    with unit_of_work(session):  # a failed attempt is recorded too: the throttle counts it
        throttle.check(session, email, ip, policy or ThrottlePolicy())
        user = session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, password) and user is not None and user.active
        session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, at=clock.now()))
        if ok and user is not None:
            now = clock.now()
            session.add(LoginSession(id=_digest(secret), user_id=user.id, created_at=now, last_seen_at=now,
                                     ip=ip, user_agent=(user_agent or "")[:300]))
            user.last_login_at = now
    if not ok or user is None:
        raise ValidationError(N_("Wrong email or password."), code="bad_credentials")
    user.login_session_id = secret
    return user, secret


def user_for_login_session(session: Session, secret: str) -> User | None:
    row = session.get(LoginSession, _digest(secret))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    user.login_session_id = secret
    return user


def sign_out(session: Session, secret: str) -> None:
    with unit_of_work(session):
        session.execute(delete(LoginSession).where(LoginSession.id == _digest(secret)))


def create_api_token(session: Session, user: User, command: CreateApiToken) -> str:
    """Returns the token; only its hash is kept, so this is the one time it can be shown."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(session):
        session.add(ApiToken(user_id=user.id, name=command.name, token_hash=_digest(token), prefix=token[:12]))
    return token


def user_for_api_token(session: Session, token: str) -> User | None:
    """The active user holding this unrevoked token: remembered for a few seconds (token_cache), else found in
    one query (the user's memberships load only if asked for, i.e. for organization members)."""
    digest = _digest(token)
    remembered = token_cache.tokens.get(session, digest)
    if remembered is not None:
        user, token_id, last_used_at = remembered
    else:
        found = session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at, Institution.default_language)
            .join(ApiToken, ApiToken.user_id == User.id).outerjoin(Institution, Institution.id == User.institution_id)
            .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active.is_(True))
            .options(lazyload(User.memberships))
        ).first()
        if found is None:
            return None
        user, token_id, last_used_at, user.institution_language = found
        token_cache.tokens.put(digest, user, token_id, last_used_at)
    # Record use at most once a minute: a busy script should not write on every call.
    now = clock.now()
    if last_used_at is None or now - last_used_at > dt.timedelta(minutes=1):
        with unit_of_work(session):
            session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        token_cache.tokens.used(digest, now)
    return user


def api_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (their hashes only: a token is shown once, when made)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc())))


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    with unit_of_work(session):
        row = session.get(ApiToken, token_id)
        if row is None or row.user_id != user.id:
            raise NotFound(N_("No such token."))
        row.revoked_at = clock.now()


def choose_language(session: Session, user: User, command: ChooseLanguage) -> None:
    with unit_of_work(session):
        session.merge(user).language = command.language


def create_user(session: Session, *, email: str, role: Role | str, full_name: str | None = None,
                password: str | None = None, institution_id: int | None = None,
                organization_id: int | None = None) -> User:
    email = normalize_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(N_("Unknown role %(role)s; one of: %(roles)s."), code="invalid_role",
                              params={"role": repr(role), "roles": ", ".join(r.value for r in Role)}) from None
    if password is not None and (problem := password_problem(password)):
        raise ValidationError(problem, code="weak_password", params=LENGTH_PARAMS)
    if role == Role.ORG_MEMBER and organization_id is None:
        raise ValidationError(N_("An organization member needs an organization."), code="organization_required")
    if role in INSTITUTION_ROLES and institution_id is None:
        raise ValidationError(N_("The role %(role)s belongs to an institution: name one (on the command line: "
                                 "--institution SLUG)."), code="institution_required", params={"role": role.value})
    with unit_of_work(session):
        if session.scalar(select(User.id).where(User.email == email)):
            raise Conflict(N_("A user with email %(email)s already exists."), code="duplicate_email",
                           params={"email": email})
        if organization_id is not None and session.get(Organization, organization_id) is None:
            raise ValidationError(N_("No such organization."), code="unknown_organization",
                                  details=[{"field": "organization_id", "message": "No such organization."}])
        user = User(email=email, role=role, full_name=full_name or email.split("@")[0],
                    password_hash=hash_password(password) if password else None, institution_id=institution_id)
        session.add(user)
        session.flush()
        if organization_id is not None:
            session.add(OrgMembership(organization_id=organization_id, user_id=user.id))
    return user
