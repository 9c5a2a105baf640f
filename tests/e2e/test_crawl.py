"""Every demo role walks every page its menu and pages link to (one level deep): no link answers 403, no page
scrolls sideways at 1280 or 375 px, and axe-core finds no serious or critical violation."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / ".npm-tools" / "node_modules" / "axe-core" / "axe.min.js"
ROLES = ["super", "admin", "support", "teacher", "org", "regulator", "learner"]
SKIP = ("/logout", "/api/", "/static/", "export.csv", "/calendar/feeds/", "errors.csv", "/password/")
MAX_PAGES = 40


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        parsed = urlparse(href)
        if f"{parsed.scheme}://{parsed.netloc}" != origin or any(s in parsed.path for s in SKIP):
            continue
        out.append(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
    return out


def _serious(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result
            if v["impact"] in ("serious", "critical")]


def page_problems(page, where: str, width: int) -> list[str]:
    """What is wrong with the page on screen: it scrolls sideways, or (at desktop width) axe-core finds a
    serious or critical violation."""
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 1:
        problems.append(f"{where} scrolls sideways by {overflow}px")
    if width == 1280:
        problems += [f"{where}: {v}" for v in _serious(page)]
    return problems


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (bin/install test installs it with npm)")
@pytest.mark.parametrize("role", ROLES)
def test_every_linked_page_is_allowed_fits_and_passes_axe(browser, live_server, sign_in_as, role):
    problems: list[str] = []
    for width in (1280, 375):
        # The CSP forbids injected scripts; axe-core is a test tool injected from outside, so this context skips it.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(10_000)
        start = sign_in_as(page, role)
        queue, seen = [urlparse(start).path], set()
        while queue and len(seen) < MAX_PAGES:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(live_server + path)
            status = response.status if response else 0
            if status == 403:
                problems.append(f"{role} {width}px: {path} answers 403")
                continue
            if width == 1280 and len(seen) <= 1:
                queue += [p for p in _links(page, live_server) if p not in seen]
            elif width == 1280:
                queue += [p for p in _links(page, live_server) if p not in seen and p not in queue][:5]
            else:
                queue += [p for p in _links(page, live_server) if p not in seen and p not in queue][:3]
            problems += page_problems(page, f"{role} {width}px: {path}", width)
        context.close()
    assert problems == [], "\n".join(problems)
