"""The seal in force per institution, its history, and replacing it (generated, or uploaded as PKCS#12).

An institution gets its seal when it is created; one created before seals existed gets it on its first sealed
document (`ensure_seal`). Replacing a seal keeps the old row (certificate included): documents it sealed still
verify. Private keys are decrypted only to seal, and never leave this module but into pyHanko.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.errors import NotFound
from core.i18n import N_
from core.models import Cohort, Institution, InstitutionSeal, RegisterDocument, Role, User
from core.uow import unit_of_work

from . import certificates, keys, sealing
from .certificates import SealMaterial


def in_force(session: Session, institution_id: int) -> InstitutionSeal | None:
    return session.scalar(select(InstitutionSeal).where(InstitutionSeal.institution_id == institution_id,
                                                        InstitutionSeal.replaced_at.is_(None)))


def history(session: Session, institution_id: int) -> list[InstitutionSeal]:
    """Every seal the institution has had, the one in force first, then newest first."""
    return list(session.scalars(select(InstitutionSeal).where(InstitutionSeal.institution_id == institution_id)
                                .order_by(InstitutionSeal.replaced_at.is_not(None), InstitutionSeal.id.desc())))


def by_fingerprint(session: Session, fingerprint: str) -> InstitutionSeal | None:
    return session.scalar(select(InstitutionSeal).where(InstitutionSeal.fingerprint == fingerprint))


def _store(session: Session, institution_id: int, material: SealMaterial, source: str, actor_id: int | None
           ) -> InstitutionSeal:
    """Put `material` in force (the seal it replaces is kept, marked replaced) in the caller's transaction."""
    previous = in_force(session, institution_id)
    if previous is not None:
        session.execute(update(InstitutionSeal).where(InstitutionSeal.id == previous.id)
                        .values(replaced_at=clock.now()))
    seal = InstitutionSeal(institution_id=institution_id, fingerprint=material.fingerprint,
                           certificate_pem=material.certificate_pem,
                           encrypted_key=keys.encrypt(material.private_key_der, material.fingerprint),
                           source=source, subject=material.subject, not_before=material.not_before,
                           not_after=material.not_after, created_by_id=actor_id)
    session.add(seal)
    session.flush()
    audit.record(session, actor_id=actor_id, action="institution.seal", entity_type="institution",
                 entity_id=institution_id, before={"fingerprint": previous.fingerprint} if previous else None,
                 after={"fingerprint": seal.fingerprint, "source": source, "not_after": seal.not_after.isoformat()})
    return seal


def generate_for(session: Session, institution: Institution, actor_id: int | None = None) -> InstitutionSeal:
    """A new generated seal for `institution`, in the caller's transaction (institution creation, replacement)."""
    material = certificates.generate(institution.name, institution.accreditation_number, clock.now())
    return _store(session, institution.id, material, "generated", actor_id)


def ensure_seal(session: Session, institution_id: int) -> InstitutionSeal:
    """The seal in force, made now if the institution has none yet (institutions older than seals). Two
    workers making one at once: the partial unique index keeps one, and the other reads it."""
    found = in_force(session, institution_id)
    if found is not None:
        return found
    try:
        with unit_of_work(session):
            institution = session.get(Institution, institution_id)
            if institution is None:
                raise NotFound(N_("No such institution."))
            return generate_for(session, institution)
    except IntegrityError:
        found = in_force(session, institution_id)
        if found is None:
            raise
        return found


def seal_issued_pdf(session: Session, institution_id: int, content: bytes) -> tuple[bytes, str]:
    """`content` sealed by the institution's seal in force (the last step of every PDF build), and the seal's
    fingerprint."""
    seal = ensure_seal(session, institution_id)
    institution = session.scalar(select(Institution.name).where(Institution.id == institution_id)) or ""
    der_cert = _der(seal.certificate_pem)
    private_key = keys.decrypt(seal.encrypted_key, seal.fingerprint)
    return sealing.seal_pdf(content, der_cert, private_key, institution), seal.fingerprint


def document_institution(session: Session, document_id: int) -> int | None:
    """The issuing institution of a document (older client reports name none: their cohort's)."""
    row = session.execute(select(RegisterDocument.institution_id, Cohort.institution_id)
                          .outerjoin(Cohort, Cohort.id == RegisterDocument.cohort_id)  # a statement has none
                          .where(RegisterDocument.id == document_id)).first()
    return None if row is None else (row[0] or row[1])


def _der(pem: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)


# --- administration ------------------------------------------------------------------------------------------

def managed_institution(session: Session, user: User, institution_id: int | None) -> Institution:
    """The institution whose seal `user` manages: a super admin any (default: the first), an admin their own;
    another tenant's answers 404."""
    require(session, user, "seals.manage")
    wanted = institution_id or user.institution_id
    if wanted is None and user.role == Role.SUPER_ADMIN:
        wanted = session.scalar(select(Institution.id).order_by(Institution.id).limit(1))
    inst = session.get(Institution, wanted) if wanted else None
    if inst is None or (user.role != Role.SUPER_ADMIN and inst.id != user.institution_id):
        raise NotFound(N_("No such institution."))
    return inst


def upload(session: Session, user: User | None, institution_id: int, data: bytes, password: str
           ) -> InstitutionSeal:
    """Put an uploaded PKCS#12 in force (refused with the reason: wrong password, expired, key mismatch …).
    `user` None: the operators' command line."""
    with unit_of_work(session):
        if user is not None:
            managed_institution(session, user, institution_id)
        elif session.get(Institution, institution_id) is None:
            raise NotFound(N_("No such institution."))
        material = certificates.read_pkcs12(data, password, clock.now())
        return _store(session, institution_id, material, "uploaded", user.id if user else None)


def regenerate(session: Session, user: User | None, institution_id: int) -> InstitutionSeal:
    """Replace the seal in force by a newly generated one."""
    with unit_of_work(session):
        inst = managed_institution(session, user, institution_id) if user is not None else \
            session.get(Institution, institution_id)
        if inst is None:
            raise NotFound(N_("No such institution."))
        return generate_for(session, inst, user.id if user else None)


def expires_soon(seal: InstitutionSeal, days: int = 60) -> bool:
    return seal.not_after - clock.now() < dt.timedelta(days=days)
