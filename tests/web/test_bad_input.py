"""Classes of bad input, across every route of the URL map (as the permission matrix walks it).

Each class once made some route answer 500: ids beyond the database's integer range, page numbers far
beyond any list, NUL bytes and lone surrogates in text, query strings and upload file names, and JSON
nested thousands of levels deep. Every route must refuse them with a 4xx (the API with the JSON error
envelope, screens with an error page) and never a 5xx. Each test sends its class to every route and
lists every route that answered otherwise. The database restart class is in
tests/integration/test_resilience.py (it needs a private PostgreSQL cluster).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.routing import IntegerConverter, Rule

from tests.web.test_permission_matrix import EXTENSION_ENDPOINTS, _client_for, _sample_values, _url

HUGE_IDS = [2**31, 99_999_999_999_999_999_999]  # one past INT32, and 20 digits
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _rules() -> list[tuple[str, str, tuple[str, ...]]]:
    from tests.conftest import test_settings
    from web import create_app

    app = create_app(test_settings())
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXTENSION_ENDPOINTS:
            continue
        ints = tuple(sorted(name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, ints))
    return found


RULES = _rules()
WITH_IDS = [(e, m, ints) for e, m, ints in RULES if ints]
GETS = [(e, m) for e, m, _ in RULES if m == "GET"]
WRITES = [(e, m) for e, m, _ in RULES if m in UNSAFE]


def _rule(app, endpoint: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


@pytest.fixture
def send(app, demo, api, worker_on_every_queue) -> Any:
    """`send(endpoint, method, ids, query, **request)` as an admin: the API with a token, screens with a
    fresh session each time (a request that signs out spoils nothing for the next). → (method, url, response)"""
    token = api("admin")
    samples = _sample_values(demo)

    def _send(endpoint: str, method: str, ids: dict[str, int] | None = None, query: str = "",
              **kw: Any) -> tuple[str, str, Any]:
        url = _url(app, _rule(app, endpoint), {**samples, **(ids or {})})
        if url.startswith("/api/"):
            client, headers = app.test_client(), token
        else:
            client, headers = _client_for(app, demo["users"]["admin"]), {}
        return method, url, client.open(url + query, method=method, headers=headers, **kw)

    return _send


def _misfits(results: list[tuple[str, str, Any]], expect: Any) -> list[str]:
    """Every (method, url, response) that `expect` refuses, described; empty when all are as they should be."""
    return [f"{method} {url} → {response.status_code} {response.data[:160]!r}"
            for method, url, response in results if not expect(url, response)]


def refused(status: int, code: str) -> Any:
    """API: `status` with the JSON envelope's `code`; screens: `status` as an HTML error page."""

    def expect(url: str, response: Any) -> bool:
        if response.status_code != status:
            return False
        if url.startswith("/api/"):
            return (response.get_json(silent=True) or {}).get("error", {}).get("code") == code
        return response.mimetype == "text/html"

    return expect


def no_server_error(url: str, response: Any) -> bool:
    """Never a 5xx; an API refusal always carries the JSON error envelope."""
    if response.status_code >= 500:
        return False
    if url.startswith("/api/") and response.status_code >= 400:
        return "error" in (response.get_json(silent=True) or {})
    return True


def _upload(filename: bytes) -> dict[str, Any]:
    """A multipart body whose `file` part has exactly these name bytes (a test client would re-encode them)."""
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + filename
            + b'"\r\nContent-Type: text/csv\r\n\r\nfull_name\r\nAmina\r\n' + f"--{boundary}--\r\n".encode())
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


class TestHugeIds:
    @pytest.mark.parametrize("huge", HUGE_IDS, ids=["2^31", "20-digits"])
    def test_an_id_that_cannot_exist_is_404_on_every_route(self, send, huge):
        """API: 404 with the JSON envelope; screens: the 404 page (never a 500 page)."""
        results = [send(endpoint, method, dict.fromkeys(ints, huge), **({"json": {}} if method in UNSAFE else {}))
                   for endpoint, method, ints in WITH_IDS]
        assert len(results) > 40
        assert _misfits(results, refused(404, "not_found")) == []


class TestHugePages:
    @pytest.mark.parametrize("page", ["99999999999999999999", str(2**31), "-1", "x"])
    def test_page_numbers_beyond_any_list_never_fail_a_route(self, send, page):
        results = [send(endpoint, method, query=f"?page={page}&per_page={page}") for endpoint, method in GETS]
        assert _misfits(results, no_server_error) == []

    def test_a_paged_api_list_says_which_parameter(self, client, api):
        response = client.get("/api/rooms?page=99999999999999999999", headers=api("admin"))
        assert response.status_code == 422
        assert [d["field"] for d in response.get_json()["error"]["details"]] == ["page"]

    def test_the_last_allowed_page_is_an_empty_page(self, client, api):
        body = client.get("/api/rooms?page=1000000&per_page=1000", headers=api("admin")).get_json()
        assert body["items"] == [] and body["page"] == 1_000_000


class TestUnstorableText:
    def test_nul_in_a_query_string_is_422_on_every_route(self, send):
        results = [send(endpoint, method, query="?q=a%00b&start=2031-01-01%00") for endpoint, method in GETS]
        assert _misfits(results, refused(422, "invalid_text")) == []

    def test_a_surrogate_encoded_in_a_query_string_never_fails_a_route(self, send):
        """UTF-8 of a lone surrogate is not UTF-8: decoding replaces it, so it never reaches a column."""
        results = [send(endpoint, method, query="?q=%ED%A0%80&name=%ED%A0%80") for endpoint, method in GETS]
        assert _misfits(results, no_server_error) == []

    @pytest.mark.parametrize("text", ["a\x00b", "\ud800x"], ids=["NUL", "lone-surrogate"])
    def test_unstorable_text_in_a_json_body_is_422_on_every_route(self, send, text):
        body = json.dumps({"name": text, "reason": text, "notes": text, "records": [{"notes": text}]})
        results = [send(endpoint, method, data=body, content_type="application/json") for endpoint, method in WRITES]
        assert _misfits(results, refused(422, "invalid_text")) == []

    def test_nul_in_a_form_is_422_on_every_route(self, send):
        body = "&".join(f"{k}=a%00b" for k in ("name", "reason", "notes", "date"))
        results = [send(endpoint, method, data=body, content_type="application/x-www-form-urlencoded")
                   for endpoint, method in WRITES]
        assert _misfits(results, refused(422, "invalid_text")) == []

    def test_nul_in_an_upload_file_name_is_422_on_every_route(self, send):
        results = [send(endpoint, method, **_upload(b"trainees\x00.csv")) for endpoint, method in WRITES]
        assert _misfits(results, refused(422, "invalid_text")) == []

    def test_a_surrogate_in_an_upload_file_name_never_fails_a_route(self, send):
        """Its bytes are not UTF-8, so the name is read with a replacement character: storable, never a 500."""
        name = "tr\u00e9\ud800.csv".encode("utf-8", "surrogatepass")
        results = [send(endpoint, method, **_upload(name)) for endpoint, method in WRITES]
        assert _misfits(results, no_server_error) == []


class TestDeepJson:
    def test_json_nested_thousands_deep_is_400_on_every_route(self, send):
        deep = "[" * 5000 + "]" * 5000
        results = [send(endpoint, method, data=deep, content_type="application/json") for endpoint, method in WRITES]
        assert _misfits(results, refused(400, "json_too_deep")) == []

    def test_json_as_deep_as_allowed_is_read(self, client, api):
        """30 levels are read (and then judged by the schema: a 422, not a 400)."""
        nested: Any = "x"
        for _ in range(30):
            nested = [nested]
        response = client.post("/api/rooms", headers=api("admin"), json={"name": nested})
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_error"
