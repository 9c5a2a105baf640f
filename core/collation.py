"""Names in the order people expect, and found whatever their accents or case.

Sorting: by the language's collation, not by code point. In Python, ICU (PyICU) when it is installed, so
"Élodie" sorts beside "Elodie" and Arabic names follow the Arabic alphabet; otherwise an approximation
(accents and case folded away, ties broken by the text itself) that keeps the embedded default working
without a C++ toolchain. In SQL, `collated(column, language)`: PostgreSQL's predefined ICU collations
("fr-x-icu"…), and on SQLite a collation of the same name registered on every connection (below), so paged
lists stay paged in SQL on both.

Searching: `name_matches(column, q)` compares `names_fold(column)` with `names_fold(pattern)`: accents,
case, Arabic harakat and hamza seats folded away on both sides, so "elodie" finds "Élodie" and "احمد" finds
"أحمد". On PostgreSQL `names_fold` is an IMMUTABLE SQL function (unaccent + lower, migration 0013) that
trigram indexes are built on; on SQLite it is `fold` below, registered on every connection.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import String, event, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

T = TypeVar("T")

try:  # PyICU needs the system ICU library; `bin/install` adds it where it can be built.
    import icu
except ImportError:  # pragma: no cover - exercised on machines without ICU
    icu = None

# The languages the product speaks → PostgreSQL's predefined ICU collations; anything else: the root one.
SQL_COLLATIONS = {"en": "en-x-icu", "fr": "fr-x-icu", "ar": "ar-x-icu"}
ROOT_COLLATION = "und-x-icu"
FOLD_FUNCTION = "names_fold"
# Arabic letters written with or without a hamza seat or madda, and tatweel (the stretching stroke): what a
# searcher types rarely carries them. Harakat (short vowels) are combining marks and go with the accents.
ARABIC_SEATS = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627", "\u0640": None}


def _folded(text: str) -> tuple[str, str]:
    return fold(text), text


def fold(text: str | None) -> str | None:
    """`text` without accents, harakat or hamza seats, case-folded: what a search compares."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.translate(_SEATS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_SEATS = str.maketrans(ARABIC_SEATS)


@functools.lru_cache(maxsize=16)
def sort_key(language: str) -> Callable[[str], Any]:
    """A key function ordering strings by `language`'s collation (e.g. "fr", "ar", "en")."""
    if icu is not None:
        collator = icu.Collator.createInstance(icu.Locale(language or "en"))
        return lambda text: collator.getSortKey(text or "")
    return lambda text: _folded(text or "")


def sorted_by_name(items: Iterable[T], name: Callable[[T], str], language: str) -> list[T]:
    key = sort_key(language)
    return sorted(items, key=lambda item: key(name(item)))


def engine() -> str:
    """Which collation engine is in use ("icu N" or "fallback"), for diagnostics and benches."""
    return f"icu {icu.ICU_VERSION}" if icu is not None else "fallback"


def sql_language(language: str | None) -> str:
    """The language whose collation a query uses: one the product speaks, else the root collation ("und")."""
    base = (language or "").split("-")[0].split("_")[0].lower()
    return base if base in SQL_COLLATIONS else "und"


# --- SQL: ordering ---------------------------------------------------------------------------------------------

class Collated(ColumnElement[str]):
    """`column` compared by `language`'s collation (for ORDER BY); compiled per dialect below."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("language", InternalTraversal.dp_string)]
    type = String()

    def __init__(self, column: ColumnElement[Any], language: str) -> None:
        self.column = column
        self.language = language


def collated(column: Any, language: str | None) -> Collated:
    """`ORDER BY collated(Learner.full_name, "fr")`: names in French order on PostgreSQL and SQLite."""
    return Collated(column, sql_language(language))


@compiles(Collated)
def _compile_plain(element: Collated, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(Collated, "postgresql")
def _compile_postgresql(element: Collated, compiler: Any, **kw: Any) -> str:
    name = SQL_COLLATIONS.get(element.language, ROOT_COLLATION)
    return f'{compiler.process(element.column, **kw)} COLLATE "{name}"'


@compiles(Collated, "sqlite")
def _compile_sqlite(element: Collated, compiler: Any, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} COLLATE {_sqlite_collation(element.language)}"


def _sqlite_collation(language: str) -> str:
    return f"names_{language}"


# --- SQL: searching --------------------------------------------------------------------------------------------

def like_pattern(q: str) -> str:
    """`%q%` for (I)LIKE, with the user's own % and _ taken literally (escape character backslash)."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def folded(expression: Any) -> ColumnElement[str]:
    return getattr(func, FOLD_FUNCTION)(expression, type_=String())


def name_matches(column: Any, q: str) -> ColumnElement[bool]:
    """`column` contains `q`, accents and case aside. The pattern is folded by the database too, so both
    sides fold the same way (and a trigram index on `names_fold(column)` serves it on PostgreSQL)."""
    return folded(column).like(folded(literal(like_pattern(q), String())), escape="\\")


# --- SQLite: the same function and collations on every connection ----------------------------------------------

def _comparator(language: str) -> Callable[[str, str], int]:
    key = sort_key(language)

    def compare(a: str, b: str) -> int:
        left, right = (key(a), a), (key(b), b)  # ties broken by the text itself: a total order
        return (left > right) - (left < right)

    return compare


@event.listens_for(Engine, "connect")
def _sqlite_names(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
        for language in (*SQL_COLLATIONS, "und"):
            dbapi_connection.create_collation(_sqlite_collation(language), _comparator(language))
