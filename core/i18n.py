"""Words the domain says, marked for translation without importing Flask.

`N_("…")` only marks a msgid for extraction (pybabel's keyword list includes N_); the web layer, mails
and documents translate it with Flask-Babel/Babel in the reader's language. Interpolated values go in
`params` (`%(name)s` placeholders), never into the msgid, so the catalogue can match it.
"""

from __future__ import annotations


def N_(msgid: str) -> str:
    return msgid
