"""Settings come from the environment, with embedded defaults that run on a fresh machine."""

from __future__ import annotations

import pytest

from web.config import celery_settings, engine_options, load_settings

ENV_VARS = ["DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY", "APP_ENV", "STORAGE_DIR",
            "SEAL_KEY_SECRET"]


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_embedded_default_needs_no_services(clean_env):
    settings = load_settings()
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["CELERY_BROKER_URL"].startswith("sqla+sqlite:///")
    assert settings["CELERY_RESULT_BACKEND"].startswith("db+sqlite:///")
    assert settings["STORAGE_DIR"].startswith(settings["INSTANCE_DIR"])


def test_production_refuses_to_start_without_a_secret_key(clean_env):
    clean_env.setenv("APP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_settings()


def test_production_refuses_to_start_without_a_seal_key_secret(clean_env):
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", "x" * 32)
    with pytest.raises(RuntimeError, match="SEAL_KEY_SECRET"):
        load_settings()


def test_the_seal_key_secret_is_derived_from_the_secret_key_outside_production(clean_env):
    clean_env.setenv("SECRET_KEY", "x" * 32)
    assert load_settings()["SEAL_KEY_SECRET"] != load_settings({"SECRET_KEY": "other"})["SEAL_KEY_SECRET"]
    clean_env.setenv("SEAL_KEY_SECRET", "s" * 32)
    assert load_settings()["SEAL_KEY_SECRET"] == "s" * 32


def test_environment_overrides_defaults(clean_env):
    clean_env.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    clean_env.setenv("CELERY_BROKER_URL", "redis://h:6379/0")
    settings = load_settings()
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert celery_settings(settings)["broker_url"] == "redis://h:6379/0"


def test_postgres_connections_have_bounded_waits_and_a_statement_timeout():
    options = engine_options("postgresql+psycopg://u@h/db", 1234)
    # The ping on checkout is core.db_limits' (it has a time limit; SQLAlchemy's pre-ping has none).
    assert options["pool_pre_ping"] is False and options["pool_timeout"] <= 5
    assert options["connect_args"]["connect_timeout"] <= 3 and options["connect_args"]["keepalives"] == 1
    assert options["connect_args"]["tcp_user_timeout"] > 0
    assert "statement_timeout=1234" in options["connect_args"]["options"]
    assert "jit=off" in options["connect_args"]["options"]


def test_task_time_limit_stays_below_visibility_timeout_by_default(clean_env):
    clean_env.setenv("CELERY_BROKER_URL", "redis://h:6379/0")
    conf = celery_settings(load_settings())
    assert conf["task_time_limit"] < conf["broker_transport_options"]["visibility_timeout"]


def test_a_served_app_hides_its_start_up_heap_from_the_collector(clean_env, tmp_path):
    """A full collection over the start-up objects paused a request ~120 ms every second or two of marking."""
    import gc

    from web import create_app

    gc.unfreeze()
    try:
        create_app({"TESTING": True, "INSTANCE_DIR": str(tmp_path / "t")})
        assert gc.get_freeze_count() == 0  # the test suite's apps are collected as usual
        create_app({"INSTANCE_DIR": str(tmp_path / "s")})
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
