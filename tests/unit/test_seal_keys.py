"""Seal keys at rest (core.seals.keys): a key stored under an earlier SEAL_KEY_SECRET still decrypts after
another is configured (a rotation, or two apps in one process); one never configured does not."""

from __future__ import annotations

import pytest

from core.seals import keys


def test_a_key_stored_under_an_earlier_secret_still_decrypts_and_new_ones_use_the_current_secret():
    keys.configure("first secret " * 3)
    stored = keys.encrypt(b"private key one", "fp-1")
    keys.configure("second secret " * 3)
    assert keys.decrypt(stored, "fp-1") == b"private key one"
    newer = keys.encrypt(b"private key two", "fp-2")
    keys._keys[:] = [keys.derive("first secret " * 3)]  # only the first secret known: the newer key is not its
    with pytest.raises(keys.SealKeyError):
        keys.decrypt(newer, "fp-2")


def test_a_key_copied_onto_another_seal_does_not_decrypt():
    keys.configure("a secret " * 4)
    stored = keys.encrypt(b"private key", "fp-1")
    with pytest.raises(keys.SealKeyError):
        keys.decrypt(stored, "fp-2")
