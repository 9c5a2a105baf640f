"""Seal private keys at rest: AES-256-GCM under a key derived (HKDF-SHA256) from SEAL_KEY_SECRET.

The web app and the workers configure the secret once at start-up (web.create_app); the ciphertext is bound to
its seal's fingerprint (associated data), so a key copied onto another seal's row does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
_key: list[bytes] = []  # the derived key-encryption key of this process (set by configure)


class SealKeyError(Exception):
    """No seal secret configured, or a stored key that does not decrypt with it (a changed SEAL_KEY_SECRET)."""


def derive(secret: str, purpose: bytes = b"institution-seal-keys/v1") -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


def configure(secret: str) -> None:
    """Set this process's key-encryption key from SEAL_KEY_SECRET (web/config.py)."""
    if not secret:
        raise SealKeyError("SEAL_KEY_SECRET is empty")
    _key[:] = [derive(secret)]


def _kek() -> bytes:
    if not _key:
        raise SealKeyError("no seal secret configured (SEAL_KEY_SECRET)")
    return _key[0]


def encrypt(private_key_der: bytes, fingerprint: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_kek()).encrypt(nonce, private_key_der, fingerprint.encode())


def decrypt(sealed: bytes, fingerprint: str) -> bytes:
    try:
        return AESGCM(_kek()).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], fingerprint.encode())
    except InvalidTag as exc:
        raise SealKeyError("the seal's private key does not decrypt with this SEAL_KEY_SECRET") from exc
