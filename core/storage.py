"""Private file storage: uploads, evidence and generated documents. Never under a served path.

Files get random names; callers keep the original name, size and sha256 in the database.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.i18n import N_

from .errors import TooLarge

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class PrivateStorage:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    def new_key(self, area: str, suffix: str = "") -> str:
        token = secrets.token_hex(16)
        return f"{area}/{token[:2]}/{token}{suffix}"

    def save_stream(self, stream: BinaryIO, area: str, suffix: str = "", max_bytes: int | None = None) -> StoredFile:
        """Copy `stream` to a new random name chunk by chunk, hashing as it goes.

        The bytes go to a temporary name first and are renamed into place once complete and flushed to
        disk, so a half-written file is never visible under its key (a full disk or a crash leaves none)."""
        key = self.new_key(area, suffix)
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_name(path.name + ".part")
        digest, size = hashlib.sha256(), 0
        try:
            with open(partial, "xb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(N_("The file is larger than the %(mb)s MB limit."),
                                       params={"mb": max_bytes // (1024 * 1024)})
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def save_bytes(self, data: bytes, area: str, suffix: str = "") -> StoredFile:
        import io

        return self.save_stream(io.BytesIO(data), area, suffix)

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def iter_chunks(self, key: str) -> Iterator[bytes]:
        with self.open(key) as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
