"""Reading trainee CSV files, pure: refuse what is not a text CSV, recognise the encoding (first pass), then
read the header and rows (second pass). The row checks are in core.imports.rules.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, dropwhile, islice
from typing import IO

from core.i18n import N_

from .rules import COLUMNS

MAX_FIELD_CHARS = 10_000
_READ_CHARS = 1 << 16  # how much text TraineeReader reads at once (whole lines)


class FileRejected(Exception):
    """The whole file is unusable: one clear message, no row results."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---------------------------------------------------------------- decoding

# Not Windows-1252: runs of 3+ high bytes (Arabic or another code page), or UTF-8 sequences mixed in
# with bad bytes (a damaged UTF-8 file: decoding it as 1252 would turn "é" into "Ã©").
# Bytes Windows-1252 leaves undefined are a give-away too.
_NOT_1252 = re.compile(rb"[\x80-\xff]{3,}|[\xc2-\xf4][\x80-\xbf]|[\x81\x8d\x8f\x90\x9d]")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")

NOT_UTF8 = N_("The file is not in UTF-8 and its encoding could not be recognised safely. In Excel use "
            "“Save As → CSV UTF-8 (comma delimited)” and upload it again.")


@dataclass(frozen=True)
class FileProfile:
    encoding: str  # a Python codec name for the second pass
    line_count: int  # newlines seen: an upper bound for progress (quoted newlines count too)


def sniff_file(chunks: Iterable[bytes]) -> FileProfile:
    """First pass over the bytes: refuse what is not a text CSV, pick the encoding, count lines."""
    it = iter(chunks)
    first = next((chunk for chunk in it if chunk), b"")
    if not first:
        raise FileRejected("empty_file", N_("The file is empty."))
    _reject_known_binary(first)
    if first.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise FileRejected("encoding", NOT_UTF8)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _sniff_utf16(first, it)
    return _sniff_8bit(first, it)


def _sniff_8bit(first: bytes, it: Iterator[bytes]) -> FileProfile:
    """UTF-8 (with or without BOM), else Windows-1252 when nothing says otherwise; binary content refused."""
    encoding = "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, cp1252_ok = True, True
    lines, tail, last = 0, b"", b""
    for index, chunk in enumerate(_chain(first, it)):
        if b"\x00" in chunk or (index == 0 and len(_CONTROL.findall(chunk[:65536])) > 8):
            raise FileRejected("binary", N_("This is not a text CSV file (it contains binary data)."))
        lines += chunk.count(b"\n")
        if utf8_ok:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8_ok = False
        if cp1252_ok:  # checked on every chunk: the decision is made at the end
            window = tail + chunk
            cp1252_ok = not _NOT_1252.search(window)
        tail, last = chunk[-2:], chunk[-1:]
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if not utf8_ok:
        if not cp1252_ok:
            raise FileRejected("encoding", NOT_UTF8)
        encoding = "cp1252"
    return FileProfile(encoding=encoding, line_count=lines + (last != b"\n"))


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _reject_known_binary(first: bytes) -> None:
    if first.startswith(b"PK\x03\x04") or first.startswith(b"PK\x05\x06"):
        raise FileRejected("not_csv", N_("This is a ZIP or Excel (.xlsx) file, not a CSV. In Excel use "
                                      "“Save As → CSV UTF-8 (comma delimited)” and upload the .csv file."))
    if first.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected("not_csv", N_("This is an old Excel (.xls) file, not a CSV. In Excel use "
                                      "“Save As → CSV UTF-8 (comma delimited)” and upload the .csv file."))
    if first.startswith((b"%PDF", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise FileRejected("binary", N_("This is not a text CSV file (it contains binary data)."))


def _sniff_utf16(first: bytes, rest: Iterator[bytes]) -> FileProfile:
    decoder = codecs.getincrementaldecoder("utf-16")()
    lines, last = 0, ""
    try:
        for chunk in _chain(first, rest):
            text = decoder.decode(chunk)
            if "\x00" in text:
                raise FileRejected("binary", N_("This is not a text CSV file (it contains binary data)."))
            lines += text.count("\n")
            last = text[-1:] or last
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise FileRejected("encoding", NOT_UTF8) from None
    return FileProfile(encoding="utf-16", line_count=lines + (last != "\n"))


# ---------------------------------------------------------------- reading rows


def normalize_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip().casefold())


def sniff_delimiter(header_line: str) -> str:
    """Comma or semicolon, whichever the header row uses more (outside quotes)."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    return ";" if unquoted.count(";") > unquoted.count(",") else ","


class TraineeReader:
    """Rows of a decoded text stream: `columns` (normalised header) and `rows()` → (row number, fields).

    Row numbers count data records from 1 (header excluded); blank records are skipped but counted,
    so a number still points at the same record in the user's spreadsheet.
    """

    def __init__(self, text: IO[str], expected: Sequence[str] = COLUMNS) -> None:
        csv.field_size_limit(MAX_FIELD_CHARS * 10)
        header_line = text.readline()
        if header_line.strip() == "":
            raise FileRejected("empty_file", N_("The file is empty: the first line should name the columns."))
        self.delimiter = sniff_delimiter(header_line)
        self._text = text
        try:
            header = next(csv.reader([header_line], delimiter=self.delimiter))
        except (csv.Error, StopIteration):
            raise FileRejected("not_csv", N_("The first line is not a CSV header row.")) from None
        self.raw_columns = header
        self.columns = [normalize_header(h) for h in header]
        if "full_name" not in self.columns:
            found = ", ".join(c for c in self.columns if c) or "nothing"
            raise FileRejected("missing_full_name",
                               f"The header row has no full_name column (found: {found[:300]}). The first line "
                               f"must name the columns: {', '.join(expected)}.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Lines are read in chunks. A chunk with no quote character is split on the delimiter, which is what
        the csv module makes of such lines, for a third of the work; from the first chunk with a quote (or
        a line longer than the csv module's field limit) on, the csv module reads the rest of the file."""
        number = 0
        text, delimiter = self._text, self.delimiter
        try:
            for lines in iter(partial(text.readlines, _READ_CHARS), []):
                if '"' in "".join(lines) or max(map(len, lines)) > csv.field_size_limit():
                    records: Iterable[list[str]] = csv.reader(chain(lines, text), delimiter=delimiter, strict=False)
                else:  # one line is one record: a line break inside a field needs quotes
                    records = [line.rstrip("\r\n").split(delimiter) for line in lines]
                for fields in records:
                    number += 1
                    if not fields or (len(fields) == 1 and not fields[0].strip()):
                        continue
                    yield number, fields
        except csv.Error as exc:
            raise FileRejected("not_csv", f"The file could not be read as CSV near data row {number + 1}: {exc}.") \
                from None

    def batches(self, size: int, after: int = 0) -> Iterator[list[tuple[int, list[str]]]]:
        """`rows()` in lists of at most `size` (what a validator checks, and a sink writes, at once), from the
        row after `after` (a resumed validation: the rows before it are read, not checked again)."""
        rows = self.rows()
        if after:
            rows = dropwhile(lambda numbered: numbered[0] <= after, rows)
        while batch := list(islice(rows, size)):
            yield batch
