"""Words the domain says, marked for translation without importing Flask.

`N_("…")` only marks a msgid for extraction (pybabel's keyword list includes N_); the web layer, mails
and documents translate it with Flask-Babel/Babel in the reader's language. Interpolated values go in
`params` (`%(name)s` placeholders), never into the msgid, so the catalogue can match it.
"""

from __future__ import annotations

import functools

from babel.support import NullTranslations, Translations


def N_(msgid: str) -> str:
    return msgid


RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur"})


def direction(language: str) -> str:
    """"rtl" for right-to-left languages, else "ltr" (for `dir=` on documents)."""
    return "rtl" if language.split("-")[0].split("_")[0] in RTL_LANGUAGES else "ltr"


@functools.lru_cache(maxsize=8)
def catalogue(directory: str | None, language: str) -> NullTranslations:
    """`language`'s catalogue from the app's translations directory (English, the msgids, when there is none).
    Documents and mails built by a worker use it without Flask: the worker passes the directory in."""
    if not directory or language == "en":
        return NullTranslations()
    return Translations.load(directory, [language])
