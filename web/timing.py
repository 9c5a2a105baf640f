"""Server-Timing on a blueprint's answers: how long the app took (auth, validation, SQL, JSON). The benches read
it to tell the app's own time from the client's and gunicorn's."""

from __future__ import annotations

import time

from flask import Blueprint, Response, g

_STARTED = "server_timing_started"


def time_answers(bp: Blueprint) -> None:
    @bp.before_request
    def _start_timer() -> None:
        setattr(g, _STARTED, time.perf_counter())

    @bp.after_request
    def _server_timing(response: Response) -> Response:
        started = g.get(_STARTED)
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
