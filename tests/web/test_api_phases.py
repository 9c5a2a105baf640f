"""Schemathesis's other phases against the live app (WSGI) with an admin token: the examples, the coverage phase
(every boundary and every kind of wrong value the description implies, positive and negative) and the stateful
phase (sequences that feed one answer's ids into the next request, along the links schemathesis infers).
test_api_fuzz.py runs the fuzzing phase per operation; together they are every phase.

The checks are the three the description must pass: no 5xx, only documented statuses, every answer conforming
to its declared schema. The seed is fixed and the run bounded (STATEFUL_* below); the examples tried per phase
are printed at the end of the run.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from tests.web.test_api_fuzz import ANSWERS_503_BY_DESIGN

SEED = 19
STATEFUL_EXAMPLES = 100
STATEFUL_MAX_STEPS = 8
THREE_CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance")
TRIED: Counter[str] = Counter()
CHECKED: Counter[str] = Counter()
SECONDS: dict[str, float] = {}


def _config(headers: dict[str, str]) -> SchemathesisConfig:
    checks: dict[str, Any] = {"enabled": False, **{name: {"enabled": True} for name in THREE_CHECKS}}
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": headers,
        "checks": checks,
        "generation": {"mode": "all", "max-examples": STATEFUL_EXAMPLES, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": False},  # test_api_fuzz.py
            "stateful": {"enabled": True, "max-steps": STATEFUL_MAX_STEPS,
                         "generation": {"max-examples": STATEFUL_EXAMPLES}},
        },
        "operations": [{"include-name": label, "checks": {"not_a_server_error": {"enabled": False}}}
                       for label in sorted(ANSWERS_503_BY_DESIGN)],
    })


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Any:
    started = time.monotonic()
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TRIED:
        return
    with capture.global_and_fixture_disabled():
        per_phase = ", ".join(f"{phase} {TRIED[phase]} examples ({CHECKED[phase]} checks, {SECONDS.get(phase, 0):.0f}s)"
                              for phase in sorted(TRIED))
        reporter.write_line(f"\nschemathesis phases: {per_phase}; {time.monotonic() - started:.0f}s in all")


def test_every_phase_finds_nothing(app, api, worker_on_every_queue):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=_config(api("admin")))
    failures: dict[tuple[str, str], set[str]] = defaultdict(set)
    errors = []
    started: dict[str, float] = {}
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            started[event.phase.name.value] = time.monotonic()
        elif isinstance(event, events.PhaseFinished) and event.phase.name.value in started:
            SECONDS[event.phase.name.value] = time.monotonic() - started[event.phase.name.value]
        elif isinstance(event, events.ScenarioFinished):
            phase = event.phase.value
            TRIED[phase] += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                CHECKED[phase] += len(checks)
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures[(event.recorder.label, check.name)].add(
                            f"{failure.title}: {failure.message}"[:300] + f"\n{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(f"{getattr(event, 'label', '')}: {event.info.message if hasattr(event, 'info') else event}")
    found = {f"{label} [{check}]": sorted(problems)[:3] for (label, check), problems in sorted(failures.items())}
    assert found == {} and errors == []
