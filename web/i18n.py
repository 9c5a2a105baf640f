"""Languages: Flask-Babel with English, French and Arabic, chosen per request.

Order of choice: `?lang=` (the sign-in page's switcher, remembered in the session), the user's own
preference, the browser's Accept-Language, the institution's default, then English.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, session
from flask_babel import Babel, gettext
from flask_login import current_user

from core.errors import DomainError

LANGUAGES = ("en", "fr", "ar")
RTL = frozenset({"ar"})
babel = Babel()


def select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in LANGUAGES:
        return str(session["lang"])
    if not g.get("database_unavailable") and current_user and getattr(current_user, "is_authenticated", False):
        preference = getattr(current_user, "language", None)
        if preference in LANGUAGES:
            return str(preference)
    return request.accept_languages.best_match(LANGUAGES) or "en"


def translated_message(exc: DomainError) -> str:
    """A domain error's message in the request's language (its msgid translated, then filled in)."""
    return gettext(exc.template, **exc.params) if exc.params else gettext(exc.template)


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def language() -> dict[str, Any]:
        from flask_babel import get_locale

        code = str(get_locale() or "en")
        return {"lang": code, "text_direction": "rtl" if code in RTL else "ltr"}


def current_language() -> str:
    """The request's language code ("en", "fr", "ar"): lists sort names by its collation (core.collation)."""
    from flask_babel import get_locale

    return str(get_locale() or "en")
