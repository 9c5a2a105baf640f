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
# The derived key-encryption keys this process was configured with, the current one first: a key stored under
# an earlier secret still decrypts (SEAL_KEY_SECRET rotated, or two apps with their own secrets in one process,
# as the tests have), and new keys are encrypted under the current one.
_keys: list[bytes] = []


class SealKeyError(Exception):
    """No seal secret configured, or a stored key that does not decrypt with it (a changed SEAL_KEY_SECRET)."""


def derive(secret: str, purpose: bytes = b"institution-seal-keys/v1") -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret.encode())


def configure(secret: str) -> None:
    """Set this process's key-encryption key from SEAL_KEY_SECRET (web/config.py)."""
    if not secret:
        raise SealKeyError("SEAL_KEY_SECRET is empty")
    key = derive(secret)
    _keys[:] = [key, *(k for k in _keys if k != key)]


def _kek() -> bytes:
    if not _keys:
        raise SealKeyError("no seal secret configured (SEAL_KEY_SECRET)")
    return _keys[0]


def encrypt(private_key_der: bytes, fingerprint: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_kek()).encrypt(nonce, private_key_der, fingerprint.encode())


def decrypt(sealed: bytes, fingerprint: str) -> bytes:
    _kek()  # configured at all
    for key in _keys:
        try:
            return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], fingerprint.encode())
        except InvalidTag:
            continue
    raise SealKeyError("the seal's private key does not decrypt with this SEAL_KEY_SECRET")
