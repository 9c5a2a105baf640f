"""A broker that hangs (Redis stopped with SIGSTOP: it accepts connections and says nothing) holds no request:
the job and its outbox row are committed, the answer is 202 within a second, and the work is done once the broker
answers again (the sweeper relays what the request could not hand over)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from core.models import ImportStatus, TraineeImport
from tests.conftest import wait_for
from tests.tasks.test_job_recovery import read, redis_server, stack, upload  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.real_broker]

SMALL = b"full_name,phone\nAmel Bouzid,0555123456\n"


class Frozen:
    def __init__(self, process) -> None:
        self.process = process

    def __enter__(self) -> Frozen:
        os.kill(self.process.pid, signal.SIGSTOP)
        return self

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def __exit__(self, *exc: object) -> None:
        self.thaw()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_uploads_answer_202_within_a_second_while_redis_hangs_and_complete_once_it_answers(stack, demo):  # noqa: F811 (the fixture)
    cohort = demo["corporate_cohort_id"]
    assert upload(stack, cohort, SMALL).status_code == 202  # the publisher holds a live connection now
    with Frozen(stack["redis"].process) as frozen:
        answers = [timed(lambda n=n: upload(stack, cohort, SMALL.replace(b"Amel", f"Amel {n}".encode())))
                   for n in range(3)]
        assert [r.status_code for r, _ in answers] == [202, 202, 202]
        assert max(took for _, took in answers) < 2, [took for _, took in answers]
        frozen.thaw()
        stack["start"]()
        ids = [r.json["id"] for r, _ in answers]
        try:
            wait_for(lambda: all(read(stack["app"], TraineeImport, i).status == ImportStatus.VALIDATED for i in ids),
                     timeout=60, every=0.3)
        except AssertionError:
            from tests.tasks.test_job_recovery import job_of
            raise AssertionError([(read(stack["app"], TraineeImport, i).status,
                                   vars(job_of(stack["app"], "imports.validate", i))) for i in ids]) from None


def test_readiness_answers_within_3_seconds_while_redis_hangs(stack):  # noqa: F811 (the fixture)
    with Frozen(stack["redis"].process):
        response, took = timed(lambda: stack["client"].get("/api/health/ready"))
    assert response.status_code == 503 and "broker" in response.json["unhealthy"]
    assert took < 4, took


def test_a_ping_while_redis_hangs_is_a_503_in_about_half_a_second(stack):  # noqa: F811 (the fixture)
    with Frozen(stack["redis"].process):
        response, took = timed(lambda: stack["client"].post("/api/system/ping", headers=stack["headers"]))
    assert response.status_code == 503 and response.json["error"]["code"] == "broker_unavailable"
    assert took < 2, took
