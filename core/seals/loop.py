"""pyHanko's synchronous calls (signing, validating) run `asyncio.run` inside, which refuses to start when the
calling thread already runs an event loop (an async caller, a greenlet-based worker, or Playwright's sync API in
the same process, as the browser tests have). Such a call then runs on a thread of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def outside_event_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)` here, or on a fresh thread when this thread is running an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running here: the usual case
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(call, *args, **kwargs).result()
