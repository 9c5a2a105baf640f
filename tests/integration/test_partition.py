"""A database that hangs (connections open, no answers) is a 503 in seconds, and the app recovers when it heals.

PostgreSQL is reached through a loopback TCP proxy the test freezes (tests/tcp_proxy.py): the shared server is
never touched. Bounds are generous; bench/bench_recovery.py measures the exact figures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import DATABASE_URL, test_settings, wait_for
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def partitioned(app, demo, api) -> Iterator[dict]:
    """An app whose database connections go through a proxy the test can freeze or cut."""
    from web import create_app

    url = make_url(DATABASE_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    web_app = create_app(test_settings(SQLALCHEMY_DATABASE_URI=through))
    client = web_app.test_client()
    headers = api("admin")
    assert client.get("/api/rooms", headers=headers).status_code == 200  # the pool holds a live connection
    yield {"client": client, "proxy": proxy, "headers": headers}
    proxy.close()
    with web_app.app_context():
        from web.extensions import db

        db.engine.dispose()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_an_api_request_answers_503_with_retry_after_within_seconds_when_the_database_hangs(partitioned):
    partitioned["proxy"].freeze()
    response, took = timed(lambda: partitioned["client"].get("/api/rooms", headers=partitioned["headers"]))
    assert response.status_code == 503 and response.headers["Retry-After"], response.json
    assert response.json["error"]["code"] == "database_unavailable"
    assert took < 8, took


def test_liveness_answers_at_once_while_the_database_hangs(partitioned):
    partitioned["proxy"].freeze()
    response, took = timed(lambda: partitioned["client"].get("/api/health"))
    assert response.status_code == 200 and took < 1, took


def test_readiness_answers_within_3_seconds_while_the_database_hangs(partitioned):
    partitioned["proxy"].freeze()
    response, took = timed(lambda: partitioned["client"].get("/api/health/ready"))
    assert response.status_code == 503 and "database" in response.json["unhealthy"]
    assert took < 4, took


def test_the_next_request_after_the_partition_heals_succeeds(partitioned):
    client, proxy, headers = partitioned["client"], partitioned["proxy"], partitioned["headers"]
    proxy.freeze()
    assert client.get("/api/rooms", headers=headers).status_code == 503
    proxy.heal()
    assert client.get("/api/rooms", headers=headers).status_code == 200


def test_a_cut_database_answers_503_at_once_and_recovers(partitioned):
    client, proxy, headers = partitioned["client"], partitioned["proxy"], partitioned["headers"]
    proxy.cut()
    response, took = timed(lambda: client.get("/api/rooms", headers=headers))
    assert response.status_code == 503 and took < 8, took
    proxy.heal()
    wait_for(lambda: client.get("/api/rooms", headers=headers).status_code == 200, timeout=10, every=0.2)
