"""Readiness probes that answer in bounded time, whatever hangs.

A database or broker that accepts connections and never answers would hold a probe until its socket timeouts
give up (tens of seconds). `run_bounded` runs every check at once, each in a daemon thread, and waits for all of
them together at most `timeout` seconds: a check still running then counts as failed ("no answer within …"),
and its thread ends on its own when the client-side limits of the call it waits on run out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[], dict[str, Any]]


def run_bounded(checks: Mapping[str, Check], timeout: float) -> dict[str, dict[str, Any]]:
    """{name: the check's answer, or {"ok": False, "error": …}}, in at most `timeout` seconds."""
    results: dict[str, dict[str, Any]] = {}
    done = {name: threading.Event() for name in checks}

    def run(name: str, check: Check) -> None:
        try:
            results[name] = check()
        except Exception as exc:  # the check's own failure is its answer
            results[name] = {"ok": False, "error": first_line(exc)}
        finally:
            done[name].set()

    for name, check in checks.items():
        threading.Thread(target=run, args=(name, check), name=f"probe-{name}", daemon=True).start()
    deadline = time.monotonic() + timeout
    answers: dict[str, dict[str, Any]] = {}
    for name in checks:
        if done[name].wait(max(deadline - time.monotonic(), 0)):
            answers[name] = results[name]
        else:
            answers[name] = {"ok": False, "error": f"no answer within {timeout:g} s"}
    return answers


def first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text.strip() else type(exc).__name__
