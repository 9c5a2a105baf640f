"""Institutions (super_admin) and qualifications (each institution's admins). Each use case is one unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.access.scoping import require
from core.collation import collated, like_pattern, name_matches
from core.db import flush_or_conflict
from core.errors import NotFound, ValidationError
from core.finance import billing
from core.i18n import N_
from core.models import Institution, Qualification, Role, User
from core.seals import service as seals
from core.uow import unit_of_work

from .commands import CreateInstitution, CreateQualification, UpdateInstitution, UpdateQualification
from .countries import country_for_zone

INSTITUTION_FIELDS = ("name", "slug", "time_zone", "country", "default_language", "accreditation_number", "address",
                      "contact_name", "contact_email", "contact_phone", "excused_counts_as", "at_risk_rules",
                      "information_officer_name", "information_officer_email")
QUALIFICATION_FIELDS = ("code", "title", "level", "active", "required_rate", "absence_limit")


def own_institution(user: User) -> int:
    if user.institution_id is None:
        raise ValidationError(N_("Your account belongs to no institution."), code="no_institution")
    return user.institution_id


def default_language(session: Session, institution_id: int) -> str | None:
    return session.scalar(select(Institution.default_language).where(Institution.id == institution_id))


def only_institution(session: Session) -> Institution | None:
    """The institution of a single-provider site (None where there are none or several): whose words and time
    zone a page shows before anyone signs in."""
    found = session.scalars(select(Institution).limit(2)).all()
    return found[0] if len(found) == 1 else None


def find_by(session: Session, model: type, column: str, value: str) -> Any:
    """A row by id (digits) or by a unique column's value (an email, a slug): the operators' command line."""
    if value.isdecimal():
        return session.get(model, int(value))
    return session.scalar(select(model).where(getattr(model, column) == value))


def acting_institution(session: Session, user: User, requested: int | None) -> int:
    """The institution a write lands in: a super_admin may name any; everyone else works in their own."""
    if user.role == Role.SUPER_ADMIN and requested is not None:
        if session.get(Institution, requested) is None:
            raise ValidationError(N_("No such institution."), code="unknown_institution",
                                  details=[{"field": "institution_id", "message": "No such institution."}])
        return requested
    return own_institution(user)


def _snapshot(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


# kind → (audited fields, the message and code of a taken unique key)
_KINDS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "institution": (INSTITUTION_FIELDS, N_("An institution with this slug already exists."), "duplicate_slug"),
    "qualification": (QUALIFICATION_FIELDS, N_("A qualification with this code already exists."), "duplicate_code"),
}


def _save(session: Session, actor: User | None, kind: str, row: Any, changes: dict[str, Any] | None = None) -> None:
    """Add `row` (no `changes`) or apply `changes` to it, flush (a taken unique key is a 409) and audit it."""
    fields, taken, code = _KINDS[kind]
    before = None if changes is None else _snapshot(row, fields)
    if changes is None:
        session.add(row)
    for name, value in (changes or {}).items():
        setattr(row, name, value)
    flush_or_conflict(session, taken, code)
    action = f"{kind}.create" if before is None else f"{kind}.update"
    audit.record(session, actor_id=actor.id if actor else None, action=action, entity_type=kind, entity_id=row.id,
                 before=before, after=_snapshot(row, fields))


# ---------------------------------------------------------------- institutions


def institutions_query(q: str = "", language: str = "en") -> Select[Any]:
    stmt = select(Institution)
    if q:
        stmt = stmt.where(or_(name_matches(Institution.name, q), Institution.slug.ilike(like_pattern(q), escape="\\")))
    return stmt.order_by(collated(Institution.name, language), Institution.id)


def get_institution(session: Session, institution_id: int) -> Institution:
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise NotFound(N_("No such institution."))
    return inst


def create_institution(session: Session, actor: User | None, command: CreateInstitution) -> Institution:
    with unit_of_work(session):
        values = command.model_dump()
        values["country"] = command.country or country_for_zone(command.time_zone)
        if values["country"] is None:
            raise ValidationError(N_("Give the institution's country (two letters, e.g. ZA or DZ): its time zone "
                                     "names none."), code="country_required",
                                  details=[{"field": "country", "message": "Required for this time zone."}])
        inst = Institution(**values)
        _save(session, actor, "institution", inst)
        seals.generate_for(session, inst, actor.id if actor else None)  # its documents are sealed from the first
    return inst


def update_institution(session: Session, actor: User, institution_id: int, command: UpdateInstitution
                       ) -> Institution:
    """Change the fields sent, in one transaction: the billing ones need corporate_finance.manage (the
    institution's own admin, or a super admin), the others institutions.manage (super admins). Another
    institution's id answers 404 to an admin, as if it did not exist."""
    with unit_of_work(session):
        settings = command.model_dump(exclude_unset=True)
        billing_sent = {key: settings.pop(key) for key in billing.BILLING_FIELDS if key in settings}
        inst = billing.managed_institution(session, actor, institution_id)
        if settings:
            require(session, actor, "institutions.manage")
            _save(session, actor, "institution", inst, settings)
        if billing_sent:
            billing.apply_billing(session, actor, inst, billing_sent)
    return inst


# ---------------------------------------------------------------- qualifications


def qualification_scope(user: User) -> Any:
    return True if user.role == Role.SUPER_ADMIN else Qualification.institution_id == user.institution_id


def qualifications_query(user: User, q: str = "", active: bool | None = None, language: str = "en") -> Select[Any]:
    stmt = select(Qualification).where(qualification_scope(user))
    if q:
        stmt = stmt.where(or_(Qualification.code.ilike(like_pattern(q), escape="\\"),
                              name_matches(Qualification.title, q)))
    if active is not None:
        stmt = stmt.where(Qualification.active.is_(active))
    return stmt.order_by(collated(Qualification.title, language), Qualification.code, Qualification.id)


def visible_qualification(session: Session, user: User, qualification_id: int) -> Qualification:
    found = session.scalar(select(Qualification).where(Qualification.id == qualification_id,
                                                       qualification_scope(user)))
    if found is None:
        raise NotFound(N_("No such qualification."))
    return found


def create_qualification(session: Session, user: User, command: CreateQualification) -> Qualification:
    with unit_of_work(session):
        institution_id = acting_institution(session, user, command.institution_id)
        row = Qualification(institution_id=institution_id, **command.model_dump(exclude={"institution_id"}))
        _save(session, user, "qualification", row)
    return row


def update_qualification(session: Session, user: User, qualification_id: int, command: UpdateQualification
                         ) -> Qualification:
    with unit_of_work(session):
        row = visible_qualification(session, user, qualification_id)
        _save(session, user, "qualification", row, command.model_dump(exclude_unset=True))
    return row
