"""CSV downloads streamed as they are written (cells already neutralized by the caller)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context


def stream_csv(lines: Iterable[list[str]], filename: str, flush_every: int = 500) -> Response:
    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for n, line in enumerate(lines, 1):
            writer.writerow(line)
            if n % flush_every == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    safe = "".join(c for c in filename if c.isalnum() or c in "._- ")[:120] or "download.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})
