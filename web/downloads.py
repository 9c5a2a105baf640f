"""Download headers: a file name any browser reads, whatever characters the original had."""

from __future__ import annotations

from urllib.parse import quote


def attachment(filename: str) -> str:
    """`Content-Disposition` for `filename`: an ASCII fallback plus the exact name (RFC 6266 / 5987).

    Header values travel as latin-1, so a name in Arabic, or with quotes or control characters, can't
    go in as it is (it would be a 500, or a header injection)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"
