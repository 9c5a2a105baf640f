"""Names in the order people expect: by the language's collation, not by code point.

ICU (PyICU) when it is installed, so "Élodie" sorts beside "Elodie" and Arabic names follow the Arabic
alphabet; otherwise an approximation (accents and case folded away, ties broken by the text itself) that
keeps the embedded default working without a C++ toolchain.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

try:  # PyICU needs the system ICU library; `bin/install` adds it where it can be built.
    import icu
except ImportError:  # pragma: no cover - exercised on machines without ICU
    icu = None


def _folded(text: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold(), text


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
