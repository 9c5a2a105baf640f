"""A PDF handed to /verify: first inspected (refused in words when it is not a PDF, is encrypted, carries
JavaScript or external references, or has a broken signature dictionary), then its seal validated with pyHanko
against the sealing institution's own stored certificates (self-signed seal certificates as the only trust roots,
nothing fetched from the network).

The answer, in words on the page: sealed by <institution> and unchanged; changed after sealing; sealed by
someone else; not sealed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from cryptography.utils import CryptographyDeprecationWarning
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.i18n import N_
from core.models import Institution

from . import service
from .loop import outside_event_loop

SEALED_UNCHANGED = "sealed_unchanged"
CHANGED_AFTER_SEALING = "changed_after_sealing"
SEALED_BY_OTHER = "sealed_by_other"
NOT_SEALED = "not_sealed"

# Actions that make a reader run code or reach outside the file.
SCRIPT_ACTIONS = {"/JavaScript", "/Rendition"}
EXTERNAL_ACTIONS = {"/Launch", "/GoToR", "/GoToE", "/ImportData", "/SubmitForm", "/URI"}


@dataclass(frozen=True)
class SealCheck:
    outcome: str                   # one of the four above
    institution: str | None        # whose seal (ours only; "someone else" stays unnamed)
    institution_id: int | None
    fingerprint: str | None        # SHA-256 of the certificate that sealed the file
    signer: str | None             # the sealing certificate's subject, as written in it
    sealed_at: dt.datetime | None  # the time the signer wrote (not a trusted timestamp)
    sealed_sha256: str | None      # sha256 of the file as it was sealed (the issued bytes)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code, details=[{"field": "file", "message": message}])


def is_pdf(content: bytes) -> bool:
    return b"%PDF-" in content[:1024]


def inspect(content: bytes) -> None:
    """Refuse, with the reason, a file that is not a PDF we could have issued."""
    import pikepdf

    if not is_pdf(content):
        raise _refuse(N_("This file is not a PDF. Registers are checked as the PDF we issued."), "not_pdf")
    try:
        pdf = pikepdf.open(io.BytesIO(content))
    except pikepdf.PasswordError:
        raise _refuse(N_("This PDF is encrypted (password-protected): we issue none like it, and its content "
                         "cannot be checked."), "pdf_encrypted") from None
    except pikepdf.PdfError:
        raise _refuse(N_("This PDF is damaged: it cannot be read."), "pdf_damaged") from None
    with pdf:
        if pdf.is_encrypted:
            raise _refuse(N_("This PDF is encrypted (password-protected): we issue none like it, and its content "
                             "cannot be checked."), "pdf_encrypted")
        problem = _active_content(pdf)
    if problem == "script":
        raise _refuse(N_("This PDF contains JavaScript or automatic actions: we issue none like it. It was not "
                         "opened further."), "pdf_javascript")
    if problem == "external":
        raise _refuse(N_("This PDF refers to external files or addresses: we issue none like it. It was not "
                         "opened further."), "pdf_external_reference")


def _active_content(pdf: Any) -> str | None:
    """'script' or 'external' when any object (indirect, or a dictionary inside one) holds JavaScript, automatic
    actions or references outside the file; None otherwise."""
    from pikepdf import Array, Dictionary, Name, Stream

    names = pdf.Root.get("/Names")
    if names is not None and "/JavaScript" in names:
        return "script"
    if "/OpenAction" in pdf.Root and isinstance(pdf.Root.OpenAction, Dictionary):
        pending: list[Any] = [pdf.Root.OpenAction]
    else:
        pending = []
    for obj in pdf.objects:
        if isinstance(obj, Dictionary | Stream):
            pending.append(obj)
        while pending:
            item = pending.pop()
            keys = item.keys()
            if "/JS" in keys or "/AA" in keys:
                return "script"
            action = item.get("/S") if "/S" in keys else None
            if isinstance(action, Name):
                if action in SCRIPT_ACTIONS:
                    return "script"
                if action in EXTERNAL_ACTIONS:
                    return "external"
            url_file = "/FS" in keys and item.get("/FS") == Name.URL
            if url_file or ("/Ref" in keys and item.get("/Subtype") == Name.Form):  # a file or form fetched
                return "external"
            for key in ("/A", "/Next"):  # actions written directly inside an annotation or an outline item
                if key in keys:
                    child = item.get(key)
                    if isinstance(child, Dictionary) and not child.is_indirect:
                        pending.append(child)
                    elif isinstance(child, Array):
                        pending.extend(c for c in child if isinstance(c, Dictionary) and not c.is_indirect)
    return None


def _pyhanko() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign import validation
    return PdfFileReader, validation


def check_seal(session: Session, content: bytes) -> SealCheck:
    """Validate the file's seal (its first signature) against the certificate stored for it, if any."""
    reader_class, validation = _pyhanko()
    try:
        reader = reader_class(io.BytesIO(content), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # pyHanko's reader refuses the file's structure (xref, trailer): no sealed file is so
        return _unreadable_after_sealing(session, content)
    if not signatures:
        return SealCheck(NOT_SEALED, None, None, None, None, None, None)
    sig = signatures[0]
    try:
        sig.compute_digest()  # reads /ByteRange and /Contents: a malformed one fails here
        cert = sig.signer_cert
        sealed_end = int(sig.byte_range[2]) + int(sig.byte_range[3])
        sealed_at = sig.self_reported_timestamp
    except Exception:
        raise _broken() from None
    fingerprint = cert.sha256.hex()
    sealed_sha256 = hashlib.sha256(content[:sealed_end]).hexdigest()
    seal = service.by_fingerprint(session, fingerprint)
    if seal is None:
        return SealCheck(SEALED_BY_OTHER, None, None, fingerprint, cert.subject.human_friendly, sealed_at, None)
    institution = session.scalar(select(Institution.name).where(Institution.id == seal.institution_id))
    unchanged = _validates(validation, sig, seal.certificate_pem, sealed_at)
    return SealCheck(SEALED_UNCHANGED if unchanged else CHANGED_AFTER_SEALING, institution, seal.institution_id,
                     fingerprint, cert.subject.human_friendly, sealed_at, sealed_sha256)


def _broken() -> ValidationError:
    return _refuse(N_("This PDF's signature dictionary is broken: it cannot be checked."), "broken_signature")


def _unreadable_after_sealing(session: Session, content: bytes) -> SealCheck:
    """A file whose structure pyHanko cannot read although it carries a signature (a byte changed in its cross-
    reference table, say): every file we seal reads, so it was changed after sealing, by whoever's seal it has."""
    import pikepdf
    from asn1crypto import cms

    with pikepdf.open(io.BytesIO(content)) as pdf:
        fields = pdf.Root.get("/AcroForm", {}).get("/Fields", [])
        values = [f.get("/V") for f in fields if f.get("/FT") == "/Sig" and f.get("/V") is not None]
        if not values or "/Contents" not in values[0]:
            raise _broken()
        signed = bytes(values[0].Contents).rstrip(b"\0")
    try:
        certs = cms.ContentInfo.load(signed)["content"]["certificates"]
        cert = certs[0].chosen
        fingerprint = cert.sha256.hex()
    except Exception:
        raise _broken() from None
    seal = service.by_fingerprint(session, fingerprint)
    if seal is None:
        return SealCheck(SEALED_BY_OTHER, None, None, fingerprint, cert.subject.human_friendly, None, None)
    institution = session.scalar(select(Institution.name).where(Institution.id == seal.institution_id))
    return SealCheck(CHANGED_AFTER_SEALING, institution, seal.institution_id, fingerprint,
                     cert.subject.human_friendly, None, None)


def _validates(validation: Any, sig: Any, certificate_pem: str, sealed_at: dt.datetime | None) -> bool:
    """pyHanko's validation, trusting only this certificate, at the time the document was sealed (a seal
    replaced or expired since still vouches for what it sealed while it was in force)."""
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import ValidationContext

    _, _, der = pem.unarmor(certificate_pem.encode())
    context = ValidationContext(trust_roots=[x509.Certificate.load(der)], allow_fetching=False,
                                moment=sealed_at, revocation_mode="soft-fail")
    try:
        status = outside_event_loop(validation.validate_pdf_signature, sig, context, skip_diff=True)
    except Exception:  # a signature that cannot be evaluated vouches for nothing
        return False
    return bool(status.intact and status.valid and status.trusted
                and status.coverage == validation.SignatureCoverageLevel.ENTIRE_FILE)
