"""Schemathesis, a fuzzer nobody here wrote, against the live app (WSGI) with an admin token (a learner's for
their own /api/me/* operations), over the
whole published description: no 5xx, every response conforms to its declared schema, and only
documented status codes. Valid (positive) and invalid (negative) requests alike. This is the fuzzing phase;
test_api_phases.py runs the examples, coverage and stateful phases with the same checks.

The seed is fixed (Hypothesis `derandomize`) so a failure reproduces, and the run is bounded by
MAX_EXAMPLES per operation and mode. Operations not yet declared by their capability are not in the
description (tests/web/unconverted.py names them); nothing else is excused and no check is relaxed.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Readiness answers a documented 503 when a part is unhealthy (here: no worker heartbeat): that is its job.
# Its answer is still checked against the description; only the "no 5xx" check does not apply.
ANSWERS_503_BY_DESIGN = {"GET /api/health/ready"}
# A learner's own record (issue 21): fuzzed as the learner, whose operations they are (an admin gets 403).
LEARNER_PATHS = "/api/me/"
TOTALS: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


def _operations() -> list[str]:
    """Every operation of the description, read from an app built without a database."""
    from tests.conftest import test_settings
    from web import create_app

    document = create_app(test_settings()).test_client().get("/api/openapi.json").get_json()
    return [f"{method.upper()} {path}" for path, ops in sorted(document["paths"].items()) for method in sorted(ops)]


OPERATIONS = _operations()
_LOADED: dict[int, Any] = {}


def _schema(app: Any) -> Any:
    """The description, loaded and parsed once per app (not once per operation and mode)."""
    if id(app) not in _LOADED:
        _LOADED[id(app)] = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return _LOADED[id(app)]


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Any:
    started = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TOTALS["examples"]:
        return
    with capture.global_and_fixture_disabled():  # the figures the closing note asks for, outside any capture
        reporter.write_line(f"\nschemathesis: {TOTALS['examples']} examples, {TOTALS['operations']} operation×mode "
                            f"runs, {time.monotonic() - started:.0f}s; statuses {dict(sorted(STATUSES.items()))}")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_keeps_its_contract(app, api, worker_on_every_queue, label, mode):
    operation = _schema(app).find_operation_by_label(label)
    assert operation is not None, label
    headers = api("learner" if label.split(" ")[1].startswith(LEARNER_PATHS) else "admin")
    checks = [c for c in CHECKS if not (label in ANSWERS_503_BY_DESIGN and c is not_a_server_error)]
    TOTALS["operations"] += 1

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def holds(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, checks=checks)
        TOTALS["examples"] += 1
        STATUSES[response.status_code] += 1

    try:
        holds()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:  # e.g. GET /api/health: no parameter, no body to spoil
            pytest.skip("the operation takes no input that could be made invalid")
        raise
