"""Downloads: CSV streamed as it is written, under a file name any browser reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from urllib.parse import quote

from flask import Response, stream_with_context


def attachment(filename: str) -> str:
    """`Content-Disposition` for `filename`: an ASCII fallback plus the exact name (RFC 6266 / 5987).

    Header values travel as latin-1, so a name in Arabic, or with quotes or control characters, can't
    go in as it is (it would be a 500, or a header injection)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stream_csv(lines: Iterable[list[str]], filename: str, flush_every: int = 500) -> Response:
    """`lines` as a CSV download, sent in chunks (cells already neutralized by the caller)."""

    def generate() -> Iterator[str]:
        yield "\ufeff"  # UTF-8 BOM: spreadsheet programs then show accents right
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for n, line in enumerate(lines, 1):
            writer.writerow(line)
            if n % flush_every == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": attachment(filename)})
