"""pyHanko's synchronous calls run asyncio.run inside: a seal applied, and checked, from a thread that already
runs an event loop (an async caller; Playwright's sync API in the same process) must still work."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor

import pikepdf

from core.seals import sealing
from core.seals.certificates import generate
from tests.seal_factories import pyhanko_status


def _blank_pdf() -> bytes:
    out = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(out)
    return out.getvalue()


def _in_a_loop(coroutine_function):
    """Run it under asyncio.run on a thread of its own (this thread may run a loop already: the browser tests')."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine_function()).result()


def test_a_seal_is_applied_and_validated_from_inside_a_running_event_loop():
    material = generate("Institut Inside", "ACC-1", dt.datetime.now(dt.UTC))

    async def inside() -> bytes:
        asyncio.get_running_loop()  # a loop runs here, as under Playwright's sync API
        return sealing.seal_pdf(_blank_pdf(), material.certificate_der, material.private_key_der, "Institut Inside")

    sealed = _in_a_loop(inside)
    pem = material.certificate_pem

    async def check() -> object:
        return pyhanko_status(sealed, pem)

    status = _in_a_loop(check)
    assert status.intact and status.valid and status.trusted
