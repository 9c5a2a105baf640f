"""Every screen loads in real Chromium under the Content-Security-Policy without one violation.

The screens are found by walking the URL map (GET routes, outside /api/), with URL parameters from the
demo data as the permission matrix fills them; each role visits the screens that answer it with HTML.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_permission_matrix import EXTENSION_ENDPOINTS, _sample_values

pytestmark = pytest.mark.e2e

# Record violations from the first script on: the browser fires this event for each blocked inline script,
# inline style, handler attribute or foreign source.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' +
                    e.lineNumber);
});
"""


def _html_screens(app: Any, client: Any, values: dict[str, Any]) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXTENSION_ENDPOINTS or "GET" not in (rule.methods or set()) \
                or rule.rule.startswith("/api/") or rule.endpoint.endswith("feed"):
            continue
        try:
            path = rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
        except KeyError:
            continue
        response = client.get(path)
        if response.status_code == 200 and response.mimetype == "text/html":
            paths.append(path)
        response.close()
    return sorted(set(paths))


@pytest.mark.parametrize("role", ["admin", "teacher", "org", "regulator", "learner"])
def test_every_screen_loads_with_no_csp_violation(app, browser, live_server, login, demo, role):
    screens = _html_screens(app, login(role), _sample_values(demo))
    assert len(screens) >= 2, screens
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(f"{role}@demo.example")
        page.get_by_label("Password").fill("demo-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        violations: dict[str, list[str]] = {}
        for path in screens:
            response = page.goto(f"{live_server}{path}", wait_until="networkidle")
            assert response is not None and response.headers.get("content-security-policy"), path
            if found := page.evaluate("window.__csp"):
                violations[path] = found
        assert violations == {} and console == [], (violations, console)
    finally:
        context.close()
