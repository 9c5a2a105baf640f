"""A learner signs their own row of a session's register on the facilitator's tablet or phone: a drawn signature
(the signature pad's PNG), checked by its content, stored privately under a random name, once per learner and
session. It is recorded in the row's history (the audit of their mark). A self check-in by a signed-in learner
needs none: it counts as an electronic signature with its time (reads.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, clock
from core.access.scoping import require
from core.attendance import locking, roster
from core.attendance.reads import load_session
from core.errors import Conflict, NotFound, TooLarge, ValidationError
from core.i18n import N_
from core.models import LearnerSignature, User
from core.storage import PrivateStorage
from core.uow import unit_of_work

from .commands import LearnerSignatureCommand

MAX_BYTES = 512 * 1024
MAX_SIDE = 4000          # pixels: a phone's canvas at 3× is ~1200 wide
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL = "data:image/png;base64,"
SIGNED_STATUSES = ("PRESENT", "LATE")


def decode_png(image: str) -> bytes:
    """The PNG bytes of a `data:image/png;base64,…` URL; 422 for anything else (another type, bad base64, not a
    PNG by its content, an absurd size) and 413 over MAX_BYTES."""
    if not image.startswith(DATA_URL):
        raise ValidationError(N_("The signature must be a PNG image (data:image/png;base64,…)."),
                              code="invalid_signature", details={"field": "image"})
    encoded = image[len(DATA_URL):]
    if len(encoded) > (MAX_BYTES * 4) // 3 + 4:
        raise TooLarge(N_("The signature image is too large."), code="signature_too_large")
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(N_("The signature image could not be read."), code="invalid_signature",
                              details={"field": "image"}) from None
    if len(png) < 33 or not png.startswith(PNG_MAGIC) or png[12:16] != b"IHDR":
        raise ValidationError(N_("The signature image could not be read."), code="invalid_signature",
                              details={"field": "image"})
    width, height = struct.unpack(">II", png[16:24])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValidationError(N_("The signature image could not be read."), code="invalid_signature",
                              details={"field": "image"})
    return png


def sign_row(session: Session, user: User, storage: PrivateStorage, session_id: int, member_id: int,
             command: LearnerSignatureCommand, *, ip_address: str | None, grace_hours: int = 24) -> LearnerSignature:
    """Store the learner's drawn signature for their row (marked present or late, register not locked).
    A second signature for the same row is refused (409 `already_signed`): signatures are never replaced."""
    png = decode_png(command.image)
    stored = None
    try:
        with unit_of_work(session):
            class_session, cohort, zone = load_session(session, user, session_id)
            require(session, user, roster.permissions_for(cohort)[1])
            locking.refuse_if_locked(class_session, zone, grace_hours)
            spec = roster.spec_for(cohort)
            mark = roster.current_marks(session, cohort, class_session.id).get(member_id)
            if mark is None and member_id not in roster.member_ids(session, cohort, class_session.id):
                raise NotFound(N_("This trainee is not on this session's register."))
            if mark is None or mark.status not in SIGNED_STATUSES:
                raise Conflict(N_("Mark the trainee present or late before they sign."), code="not_present")
            if session.scalar(select(exists().where(
                    LearnerSignature.session_id == class_session.id, LearnerSignature.member_type == spec.member_type,
                    LearnerSignature.member_id == member_id))):
                raise Conflict(N_("This trainee has already signed this register."), code="already_signed")
            stored = storage.save_bytes(png, "signatures", ".png")
            row = LearnerSignature(institution_id=class_session.institution_id, session_id=class_session.id,
                                   member_type=spec.member_type, member_id=member_id, storage_key=stored.key,
                                   content_type="image/png", size_bytes=stored.size,
                                   sha256=hashlib.sha256(png).hexdigest(), captured_by_id=user.id,
                                   signed_at=clock.now(), ip_address=(ip_address or "")[:64] or None)
            session.add(row)
            session.flush()
            audit.record(session, actor_id=user.id, action="signature.learner", entity_type=spec.entity_type,
                         entity_id=mark.record_id, after={"signature_id": row.id, "sha256": row.sha256,
                                                          "ip_address": row.ip_address})
            return row
    except BaseException as exc:
        if stored is not None:
            storage.delete(stored.key)  # nothing refers to it
        if isinstance(exc, IntegrityError):  # a concurrent signature of the same row won
            raise Conflict(N_("This trainee has already signed this register."), code="already_signed") from None
        raise
