"""Seals in tests: a sealed register built here, pyHanko's validator run on bytes, PKCS#12 bundles made on the fly."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from core import clock
from core.seals import certificates
from core.seals.loop import outside_event_loop


def pyhanko_status(content: bytes, certificate_pem: str) -> Any:
    """pyHanko's own validation of the first signature, with `certificate_pem` as the only trust root."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from asn1crypto import pem
        from asn1crypto import x509 as asn1_x509
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext

    _, _, der = pem.unarmor(certificate_pem.encode())
    reader = PdfFileReader(io.BytesIO(content), strict=False)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    return outside_event_loop(validate_pdf_signature, reader.embedded_signatures[0], context)


def p12(password: str | None, *, days: int = 365, not_before_days: int = -1, other_key: bool = False,
        name: str = "Uploaded Seal") -> bytes:
    """A PKCS#12 of a fresh self-signed P-256 certificate (optionally expired, or with someone else's key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = clock.now() + dt.timedelta(days=not_before_days)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    if other_key:  # cryptography refuses to bundle a mismatched pair: the certificate rides untied beside the key
        return pkcs12.serialize_key_and_certificates(b"seal", ec.generate_private_key(ec.SECP256R1()), None,
                                                     [cert], encryption)
    return pkcs12.serialize_key_and_certificates(b"seal", key, cert, None, encryption)


def material_fingerprint(data: bytes, password: str) -> str:
    bundle = pkcs12.load_pkcs12(data, password.encode())
    assert bundle.cert is not None
    return certificates.fingerprint(bundle.cert.certificate.public_bytes(serialization.Encoding.DER))
