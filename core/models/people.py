"""Users and how they sign in; client organizations and their people; public learners."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, name_fold_index
from .enums import Role, enum_column


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # A regulator's organization or agency (e.g. "QCTO"), shown to the admins who decide their requests.
    agency_name: Mapped[str | None] = mapped_column(String(200))
    # The language chosen on Profile (core.i18n.LANGUAGES); None: the browser's, else the institution's.
    language: Mapped[str | None] = mapped_column(String(8))
    # A mobile, E.164, read by the institution's country (core.institutions.phones).
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    last_login_at: Mapped[dt.datetime | None]

    memberships: Mapped[list[OrgMembership]] = relationship(back_populates="user", lazy="selectin")

    # The four attributes Flask-Login reads; defined here so core need not import it.
    # `login_session_id` is set by the sign-in code: the session cookie carries it, not the user id,
    # so that signing out (deleting the login session) makes a replayed cookie worthless.
    login_session_id = None  # type: str | None
    # The institution's default language, when the sign-in query read it along (one query fewer per API call).
    institution_language = None  # type: str | None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.login_session_id

    @property
    def organization_ids(self) -> list[int]:
        return [m.organization_id for m in self.memberships]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginSession(Base):
    """One signed-in browser. The cookie holds a random id; we store only its sha256."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[dt.datetime]


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class Organization(Timestamped, Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("institution_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    registration_number: Mapped[str | None] = mapped_column(String(80))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(20))


class OrgMembership(Timestamped, Base):
    __tablename__ = "org_memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str | None] = mapped_column(String(120))

    user: Mapped[User] = relationship(back_populates="memberships")


class OrgEmployee(Timestamped, Base):
    __tablename__ = "org_employees"
    __table_args__ = (UniqueConstraint("organization_id", "employee_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(200))
    employee_code: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(120))
    job_title: Mapped[str | None] = mapped_column(String(120))


class Learner(Timestamped, Base):
    __tablename__ = "learners"
    __table_args__ = (
        UniqueConstraint("institution_id", "id_number"),
        # One account per person: a learner row has at most one account, an account at most one learner row
        # (the person's enrolments in several cohorts all hang off that row).
        Index("uq_learners_user_id", "user_id", unique=True),
        Index("ix_learners_institution_name", "institution_id", "full_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    date_of_birth: Mapped[dt.date | None]
    # The learner's own account (role learner), once invited (core.people.accounts).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


name_fold_index("ix_learners_name_fold", Learner.full_name)
