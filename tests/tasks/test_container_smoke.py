"""pytest-celery's container smoke test, for machines with a Docker engine (none runs on this kind of machine).

Everywhere else the real-worker tests use `live_worker` (in-process worker on the real broker) and
worker subprocesses; see tests/conftest.py.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest


def _docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not _docker_engine_answers(), reason="no Docker engine: pytest-celery containers cannot start"),
]


def test_pytest_celery_worker_container_answers_a_ping(celery_setup):
    from celery import shared_task

    @shared_task(name="smoke.noop")
    def noop() -> str:
        return "ok"

    assert celery_setup.ready()
