"""The Flask application factory: `flask --app web …` and `gunicorn "web:create_app()"`."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

import core.db  # noqa: F401  (registers the after-commit hooks)
from core import clock
from core.access.scoping import can
from core.at_risk import service as at_risk_service
from core.seals import keys as seal_keys
from core.storage import PrivateStorage

from .config import bound_database_waits, engine_options, load_settings
from .extensions import bootstrap, csrf, db, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=load_settings(test_config)["INSTANCE_DIR"])
    app.config.from_mapping(load_settings(test_config))
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DB_STATEMENT_TIMEOUT_MS"]),
    )
    _pin_clock_under_test(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    app.extensions["storage"] = PrivateStorage(app.config["STORAGE_DIR"])
    seal_keys.configure(app.config["SEAL_KEY_SECRET"])  # the seals' private keys are decrypted with it

    db.init_app(app)
    with app.app_context():
        bound_database_waits(db.engine, app.config["DB_STATEMENT_TIMEOUT_MS"])
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)

    from tasks.broker import init_celery

    from .auth import init_auth
    from .config import celery_settings
    from .errors import init_errors
    from .i18n import init_i18n
    from .logs import init_request_logging
    from .security import init_security

    init_i18n(app)
    init_auth(app)
    init_errors(app)
    init_celery(app, celery_settings(app.config))
    # The global at-risk settings: the default of every qualification, cohort and agreement without its own.
    at_risk_service.configure(float(app.config["AT_RISK_THRESHOLD"]) * 100,
                              int(app.config["AT_RISK_CONSECUTIVE_MISSES"]))
    _register_blueprints(app)
    _register_cli(app)

    _register_template_globals(app)
    init_security(app)
    init_request_logging(app)
    if not app.testing:
        _settle_heap()
    return app


def _pin_clock_under_test(app: Flask) -> None:
    """A live server or worker started by the test suite reads the suite's clock (`CLOCK_FROZEN_AT`), so that
    the test, its server and its worker agree on "now". Outside tests the setting is ignored, loudly."""
    instant = app.config.get("CLOCK_FROZEN_AT")
    if not instant:
        return
    if not (app.testing or app.config["APP_ENV"] == "testing"):
        logging.getLogger(__name__).warning("CLOCK_FROZEN_AT is ignored: it is honoured only under test")
        return
    clock.pin(clock.parse_instant(instant), app.config.get("CLOCK_FROZEN_SINCE"))


def _settle_heap() -> None:
    """Hide what start-up built (modules, the app, its schemas and catalogues: ~200,000 objects) from the
    garbage collector. Each full collection walked them all: a ~120 ms pause in one request every second or
    two of steady bulk marking. gunicorn builds the app in each worker, so each worker freezes its own."""
    gc.collect()
    gc.freeze()


def _register_template_globals(app: Flask) -> None:
    """Globals (not a context processor) so that imported macros see them too."""
    from flask import url_for
    from flask_login import current_user

    from .nav import nav_groups, nav_items

    def user_can(permission: str) -> bool:
        return bool(current_user.is_authenticated and can(db.session, current_user, permission))

    def maybe_url(endpoint: str, **values: Any) -> str | None:
        """A link to a screen the user may open: None when it has not shipped, or its permission is missing
        (so no page links to a 403)."""
        view = app.view_functions.get(endpoint)
        if view is None:
            return None
        rule = getattr(view, "access_rule", None)
        if rule is not None and rule.permission and not user_can(rule.permission):
            return None
        return url_for(endpoint, **values)

    app.jinja_env.globals.update(can=user_can, nav_items=nav_items, nav_groups=nav_groups, maybe_url=maybe_url)


def _register_blueprints(app: Flask) -> None:
    from .access import bp as access
    from .account import bp as account
    from .api import bp as api
    from .apologies import bp as apologies
    from .at_risk import bp as at_risk_views
    from .attendance import bp as attendance
    from .checkin import bp as checkin
    from .cohorts import bp as cohorts
    from .finance import bp as finance
    from .home import bp as home
    from .imports import bp as imports
    from .institutions import bp as institutions
    from .me import bp as me
    from .people import bp as people
    from .personal_data import bp as personal_data
    from .portals import bp as portals
    from .registers import bp as registers
    from .scheduling import bp as scheduling
    from .seals import bp as seals
    from .signatures import bp as signatures

    for blueprint in (account, home, api, cohorts, imports, scheduling, attendance, checkin, registers, portals,
                      access, institutions, people, me, apologies, finance, seals, signatures,
                      at_risk_views, personal_data):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from .cli import register_commands

    register_commands(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The embedded default: web and worker processes share one SQLite file.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
