"""Every setting, read from the environment once, with an embedded default that runs on a fresh machine.

Nothing set: SQLite under instance/, a SQLite-backed Celery broker and result store, mail written
to instance/mail. Production: DATABASE_URL=postgresql+psycopg://…, CELERY_BROKER_URL=redis://…
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    instance = Path(_env("INSTANCE_DIR", str(PROJECT_ROOT / "instance"))).resolve()
    env = _env("APP_ENV", "development")
    production = env == "production"
    secret = os.environ.get("SECRET_KEY")
    if production and not secret:
        raise RuntimeError("SECRET_KEY must be set when APP_ENV=production.")
    # Seal private keys are encrypted with a key derived from this (core/seals/keys.py). Production: required,
    # and kept apart from SECRET_KEY (rotating the session secret must not lose the seals); elsewhere derived
    # from SECRET_KEY so a fresh machine seals its documents at once.
    seal_secret = os.environ.get("SEAL_KEY_SECRET")
    if production and not seal_secret:
        raise RuntimeError("SEAL_KEY_SECRET must be set when APP_ENV=production.")
    database_url = _env("DATABASE_URL", f"sqlite:///{instance / 'attendance.sqlite'}")
    settings: dict[str, Any] = {
        "APP_ENV": env,
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": secret or "dev-only-secret-change-me",
        "SEAL_KEY_SECRET": seal_secret or None,  # None: derived from SECRET_KEY (below, after the overrides)
        "SQLALCHEMY_DATABASE_URI": database_url,
        "DB_STATEMENT_TIMEOUT_MS": int(_env("DB_STATEMENT_TIMEOUT_MS", "30000")),
        "CELERY_BROKER_URL": _env("CELERY_BROKER_URL", f"sqla+sqlite:///{instance / 'celery-broker.sqlite'}"),
        "CELERY_RESULT_BACKEND": _env("CELERY_RESULT_BACKEND", f"db+sqlite:///{instance / 'celery-results.sqlite'}"),
        "CELERY_TASK_ALWAYS_EAGER": False,
        # Redis re-delivers a task not acked within this many seconds: every time limit stays below it.
        "BROKER_VISIBILITY_TIMEOUT": int(_env("BROKER_VISIBILITY_TIMEOUT", "3600")),
        "TASK_TIME_LIMIT": int(_env("TASK_TIME_LIMIT", "1800")),
        "STORAGE_DIR": str(Path(_env("STORAGE_DIR", str(instance / "private"))).resolve()),
        "MAX_UPLOAD_MB": int(_env("MAX_UPLOAD_MB", "50")),
        "EVIDENCE_MAX_MB": int(_env("EVIDENCE_MAX_MB", "5")),
        "BASE_URL": _env("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_BACKEND": _env("MAIL_BACKEND", "file"),
        "MAIL_HOST": _env("MAIL_HOST", "127.0.0.1"),
        "MAIL_PORT": int(_env("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_FROM": _env("MAIL_FROM", "Attendance <no-reply@localhost>"),
        "MAIL_FILE_DIR": str(Path(_env("MAIL_FILE_DIR", str(instance / "mail"))).resolve()),
        # Nightly jobs, as HH:MM in UTC (the beat schedule runs in UTC).
        "LOCK_RUN_AT": _env("LOCK_RUN_AT", "01:00"),
        "LOCK_GRACE_HOURS": int(_env("LOCK_GRACE_HOURS", "24")),
        # Self check-in: LATE (with its minutes) once this many minutes after the start have passed.
        "LATE_AFTER_MINUTES": int(_env("LATE_AFTER_MINUTES", "10")),
        "REMINDER_RUN_AT": _env("REMINDER_RUN_AT", "17:00"),
        "OVERDUE_RUN_AT": _env("OVERDUE_RUN_AT", "06:00"),
        "AUDIT_VERIFY_RUN_AT": _env("AUDIT_VERIFY_RUN_AT", "03:00"),
        # The nightly retention run (issue 25): each institution's policy applied in short batches.
        "RETENTION_RUN_AT": _env("RETENTION_RUN_AT", "02:30"),
        "AT_RISK_RUN_AT": _env("AT_RISK_RUN_AT", "18:00"),
        "AT_RISK_THRESHOLD": float(_env("AT_RISK_THRESHOLD", "0.8")),
        "AT_RISK_CONSECUTIVE_MISSES": int(_env("AT_RISK_CONSECUTIVE_MISSES", "3")),
        "AT_RISK_WARN_MINUTES": int(_env("AT_RISK_WARN_MINUTES", "5")),
        # First retry delay for reminder mails after an SMTP failure (doubles each retry).
        "REMINDER_RETRY_SECONDS": int(_env("REMINDER_RETRY_SECONDS", "60")),
        # A schedule plan of more sessions than this is applied by a worker (202 + status URL).
        "SCHEDULE_INLINE_LIMIT": int(_env("SCHEDULE_INLINE_LIMIT", "1000")),
        # How long a password link (reset, or a new account's first password) stays valid, in seconds.
        "PASSWORD_RESET_MAX_AGE": int(_env("PASSWORD_RESET_MAX_AGE", str(24 * 3600))),
        # Register PDFs: child processes rendering page runs in parallel, and pages per run (memory unit).
        "REGISTER_RENDER_PROCESSES": int(_env("REGISTER_RENDER_PROCESSES", "2")),
        "REGISTER_PAGES_PER_RUN": int(_env("REGISTER_PAGES_PER_RUN", "20")),
        # Automatic retries of a failed register build (then it stays FAILED until retried by hand).
        "REGISTER_RETRY_SECONDS": int(_env("REGISTER_RETRY_SECONDS", "30")),
        # Jobs (core/jobs): heartbeat, when a job counts as lost, how often the sweeper runs (seconds).
        "JOB_HEARTBEAT_SECONDS": float(_env("JOB_HEARTBEAT_SECONDS", "10")),
        "JOB_STALE_SECONDS": float(_env("JOB_STALE_SECONDS", "45")),
        "JOB_LOST_SECONDS": float(_env("JOB_LOST_SECONDS", "60")),
        "JOB_SWEEP_SECONDS": float(_env("JOB_SWEEP_SECONDS", "60")),
        "WORKER_HEARTBEAT_SECONDS": float(_env("WORKER_HEARTBEAT_SECONDS", "15")),
        # A request never waits longer than this for the broker; the outbox sends the task later.
        "BROKER_CONNECT_TIMEOUT": float(_env("BROKER_CONNECT_TIMEOUT", "2")),
        # /api/health/ready: a queued job older than this makes the queue unhealthy (seconds).
        # An API token's user is remembered this long per process (0: looked up on every call); a token revoked
        # elsewhere stops working within it.
        "API_TOKEN_CACHE_SECONDS": float(_env("API_TOKEN_CACHE_SECONDS", "5")),
        "READY_MAX_QUEUE_AGE": float(_env("READY_MAX_QUEUE_AGE", "600")),
        # Reverse proxies in front of the app: their addresses or networks ("10.0.0.2,10.0.1.0/24"); a bare
        # count ("1") only when the server listens on loopback (LISTEN_ADDRESS), else start-up stops.
        "TRUSTED_PROXIES": _env("TRUSTED_PROXIES", "0"),
        # The address the web server binds to (gunicorn --bind): assumed reachable from anywhere unless told
        # (bin/start says its own; loopback only makes a TRUSTED_PROXIES count acceptable).
        "LISTEN_ADDRESS": _env("LISTEN_ADDRESS", "0.0.0.0"),
        # Operators' token for the details of /api/health/ready (header X-Health-Token); unset: super admins only.
        "HEALTH_TOKEN": os.environ.get("HEALTH_TOKEN") or None,
        # Redirect plain HTTP to HTTPS in the app (usually the proxy's job; health probes speak plain HTTP).
        "FORCE_HTTPS": _bool("FORCE_HTTPS", False),
        # Sign-in throttling: free failures per account and address, then delays that double up to the cap.
        "LOGIN_FREE_FAILURES": int(_env("LOGIN_FREE_FAILURES", "3")),
        "LOGIN_MAX_DELAY_SECONDS": int(_env("LOGIN_MAX_DELAY_SECONDS", "900")),
        # Failures from one address (all accounts) in 15 minutes before it must wait: high, for shared proxies.
        "LOGIN_ADDRESS_CEILING": int(_env("LOGIN_ADDRESS_CEILING", "300")),
        # Tests only (TESTING, or APP_ENV=testing for the workers a test starts): the clock reads this ISO instant
        # at Unix time CLOCK_FROZEN_SINCE (default: when the process starts) and runs on from there.
        "CLOCK_FROZEN_AT": os.environ.get("CLOCK_FROZEN_AT") or None,
        "CLOCK_FROZEN_SINCE": float(_env("CLOCK_FROZEN_SINCE", "0")) or None,
        "LOG_FORMAT": _env("LOG_FORMAT", "text"),
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in web.auth for every unsafe request without a token
        "WTF_CSRF_TIME_LIMIT": None,      # the token lives as long as the login session
        "BOOTSTRAP_SERVE_LOCAL": True,    # sites may run offline: no CDN
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    }
    if production:
        # `__Host-` cookies: sent only over HTTPS, for this host and path / only (no Domain can widen them).
        # The CSRF token lives in the session cookie, so it is covered too.
        settings.update(SESSION_COOKIE_NAME="__Host-session", REMEMBER_COOKIE_NAME="__Host-remember_token",
                        SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True, SESSION_COOKIE_PATH="/",
                        REMEMBER_COOKIE_PATH="/")
    settings["MAX_CONTENT_LENGTH"] = settings["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    settings.update(overrides or {})
    if not settings["SEAL_KEY_SECRET"]:
        settings["SEAL_KEY_SECRET"] = "seal-key-from-secret-key:" + settings["SECRET_KEY"]
    return settings


# Bounded waits for PostgreSQL (core/db_limits.py): connecting, the ping on checkout, waiting for a pooled
# connection. A database that hangs answers 503 in seconds instead of holding every request.
DB_CONNECT_TIMEOUT_SECONDS = 2  # libpq's least
DB_PING_SECONDS = 1.5
DB_POOL_TIMEOUT_SECONDS = 3
DB_STATEMENT_MARGIN_SECONDS = 5  # the client's limit on a statement: the server's statement_timeout plus this


def engine_options(database_url: str, statement_timeout_ms: int) -> dict[str, Any]:
    if database_url.startswith("postgresql"):
        return {
            "pool_pre_ping": False,  # core.db_limits pings on checkout, with a time limit (pre-ping has none)
            "pool_size": 10,
            "max_overflow": 10,
            "pool_timeout": DB_POOL_TIMEOUT_SECONDS,
            "connect_args": {
                # JIT off: compiling a list's aggregate (its estimated cost passes jit_above_cost) takes ~300 ms,
                # ten times what the query itself runs for; this workload is short queries, never long scans.
                "options": f"-c statement_timeout={statement_timeout_ms} -c jit=off",
                "connect_timeout": DB_CONNECT_TIMEOUT_SECONDS,
                # A peer that vanished (host down, cable cut) is noticed by the kernel within ~20 s even on an
                # idle connection, and unacknowledged data gives up after 10 s.
                "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3,
                "tcp_user_timeout": 10_000,
            },
        }
    return {"pool_pre_ping": True, "connect_args": {"timeout": 30}}


def bound_database_waits(engine: Any, statement_timeout_ms: int) -> None:
    from core.db_limits import bound_waits

    bound_waits(engine, ping_seconds=DB_PING_SECONDS,
                statement_seconds=statement_timeout_ms / 1000 + DB_STATEMENT_MARGIN_SECONDS)


def celery_settings(settings: dict[str, Any]) -> dict[str, Any]:
    broker = settings["CELERY_BROKER_URL"]
    conf: dict[str, Any] = {
        "broker_url": broker,
        "result_backend": settings["CELERY_RESULT_BACKEND"],
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        "task_acks_late": True,
        # A queue per kind of work (core.jobs.QUEUES); tasks are routed by tasks.broker.route_task.
        "task_default_queue": "default",
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": settings["TASK_TIME_LIMIT"],
        "task_soft_time_limit": max(settings["TASK_TIME_LIMIT"] - 30, 1),
        "broker_connection_retry_on_startup": True,
        "result_expires": 24 * 3600,
        "task_always_eager": settings.get("CELERY_TASK_ALWAYS_EAGER", False),
        "worker_hijack_root_logger": False,
    }
    timeout = settings["BROKER_CONNECT_TIMEOUT"]
    conf["broker_connection_timeout"] = timeout
    if broker.startswith(("redis://", "rediss://")):
        # Short socket timeouts: a dead Redis fails a publish in seconds instead of hanging the request.
        conf["broker_transport_options"] = {"visibility_timeout": settings["BROKER_VISIBILITY_TIMEOUT"],
                                            "socket_connect_timeout": timeout, "socket_timeout": 5 * timeout}
        conf["redis_socket_connect_timeout"] = timeout
        conf["redis_socket_timeout"] = 5 * timeout
        # Task events for Flower (sent, started, succeeded…); the SQLite transport has no fan-out for them.
        conf["worker_send_task_events"] = True
        conf["task_send_sent_event"] = True
    # (The SQLite transport hands its transport options to create_engine: it gets none.)
    return conf
