"""Seal certificates: made for an institution (ECDSA P-256, five years, subject = its name and accreditation
number, self-signed) or read from an uploaded password-protected PKCS#12, refused with the reason when it cannot
seal (wrong password, not PKCS#12, no key or a key that is not the certificate's, expired, not for signing)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from core.errors import ValidationError
from core.i18n import N_

VALIDITY = dt.timedelta(days=5 * 365)
MAX_PKCS12_BYTES = 256 * 1024  # a seal bundle is a few kilobytes; anything this large is not one
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SealMaterial:
    """A certificate (DER) and its private key (PKCS#8 DER, in memory only: stored encrypted)."""

    certificate_der: bytes
    private_key_der: bytes
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate_der)

    @property
    def certificate_pem(self) -> str:
        cert = x509.load_der_x509_certificate(self.certificate_der)
        return cert.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(certificate_der: bytes) -> str:
    """SHA-256 of the certificate's DER bytes, lower-case hex (what a reader compares)."""
    return hashlib.sha256(certificate_der).hexdigest()


def spaced(fingerprint_hex: str) -> str:
    """AB:CD:… as certificate viewers print it."""
    return ":".join(fingerprint_hex[i:i + 2] for i in range(0, len(fingerprint_hex), 2)).upper()


def _material(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> SealMaterial:
    return SealMaterial(cert.public_bytes(serialization.Encoding.DER),
                        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
                        cert.subject.rfc4514_string()[:400], cert.not_valid_before_utc, cert.not_valid_after_utc)


def generate(name: str, accreditation_number: str | None, now: dt.datetime) -> SealMaterial:
    """A self-signed ECDSA P-256 seal certificate valid five years from `now` (a day earlier too: clocks drift)."""
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, (name or "Institution")[:64]),
                  x509.NameAttribute(NameOID.ORGANIZATION_NAME, (name or "Institution")[:64])]
    if accreditation_number:
        # The accreditation number as the organization identifier (X.520 serialNumber of the organization).
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, accreditation_number[:64]))
    subject = x509.Name(attributes)
    start = now - dt.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _material(cert, key)


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code, details=[{"field": "file", "message": message}])


def _is_pkcs12(data: bytes) -> bool:
    """The bytes are a PKCS#12 (PFX) structure, whatever the password."""
    from asn1crypto import pkcs12 as asn1_pkcs12

    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        return pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native is not None
    except (ValueError, TypeError, KeyError):
        return False


def read_pkcs12(data: bytes, password: str, now: dt.datetime) -> SealMaterial:
    """The certificate and key of an uploaded PKCS#12, or a ValidationError saying why it cannot seal."""
    if not data or len(data) > MAX_PKCS12_BYTES or not _is_pkcs12(data):
        raise _refuse(N_("This file is not a PKCS#12 seal (.p12 or .pfx) with a certificate and its private key."),
                      "not_pkcs12")
    try:
        bundle = pkcs12.load_pkcs12(data, password.encode() if password else None)
    except ValueError:
        raise _refuse(N_("The password does not open this PKCS#12 file."), "wrong_password") from None
    key, cert = bundle.key, bundle.cert.certificate if bundle.cert else None
    if cert is None and len(bundle.additional_certs) == 1:  # a bundle that does not tie its one cert to the key
        cert = bundle.additional_certs[0].certificate
    if key is None or cert is None:
        raise _refuse(N_("This PKCS#12 file must hold both the seal's certificate and its private key."),
                      "incomplete_pkcs12")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) or (
            isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS):
        raise _refuse(N_("The seal's key must be ECDSA or RSA of at least 2048 bits."), "unsupported_key")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, public)
            != cert.public_key().public_bytes(serialization.Encoding.DER, public)):
        raise _refuse(N_("The private key in this file does not match its certificate."), "key_mismatch")
    if cert.not_valid_after_utc <= now:
        raise ValidationError(N_("This certificate expired on %(date)s."), code="certificate_expired",
                              params={"date": cert.not_valid_after_utc.date().isoformat()},
                              details=[{"field": "file", "message": "expired"}])
    if cert.not_valid_before_utc > now:
        raise ValidationError(N_("This certificate is not valid before %(date)s."), code="certificate_not_yet_valid",
                              params={"date": cert.not_valid_before_utc.date().isoformat()},
                              details=[{"field": "file", "message": "not yet valid"}])
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            raise _refuse(N_("This certificate is not allowed to sign (its key usage excludes signatures)."),
                          "not_for_signing")
    except x509.ExtensionNotFound:
        pass
    return _material(cert, key)
