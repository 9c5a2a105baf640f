"""README command 1, for real: `bin/start` on a fresh instance folder brings up the web server and a live
worker on the embedded default (SQLite database, SQLite broker), with demo data loaded once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _embedded_env(instance: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "CELERY_", "STORAGE_DIR", "MAIL_", "TEST_"))}
    env.update({"INSTANCE_DIR": str(instance), "PORT": str(port), "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return env


def _wait_for(url: str, timeout: float) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_bin_start_serves_the_app_with_a_live_worker(tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    proc = subprocess.Popen(["bash", str(ROOT / "bin/start")], cwd=ROOT, env=_embedded_env(instance, port),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(f"{base}/login", 180).status_code == 200
        assert (instance / "attendance.sqlite").exists()
        web = requests.Session()
        token = _csrf(web.get(f"{base}/login").text)
        signed = web.post(f"{base}/login", data={"email": "admin@demo.example", "password": "demo-password",
                                                 "csrf_token": token}, allow_redirects=False)
        assert signed.status_code == 302 and signed.headers["Location"] == "/admin"
        # The worker consumes from the SQLite broker: a ping comes back SUCCESS.
        csrf = _csrf(web.get(f"{base}/admin").text)
        started = web.post(f"{base}/api/system/ping", headers={"X-CSRFToken": csrf})
        if started.status_code != 202:
            os.killpg(proc.pid, signal.SIGTERM)
            raise AssertionError(f"ping answered {started.status_code}; server log:\n{proc.communicate(timeout=30)[0]}")
        deadline = time.monotonic() + 60
        status = {}
        while time.monotonic() < deadline and status.get("status") != "SUCCESS":
            status = web.get(base + started.json()["status_url"]).json()
            time.sleep(0.2)
        assert status == {"id": started.json()["id"], "status": "SUCCESS", "result": {"pong": "api", "db": True}}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert "demo-password" in output and f"http://127.0.0.1:{port}" in output
