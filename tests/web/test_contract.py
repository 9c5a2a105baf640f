"""The API contract: a valid OpenAPI description covering every /api/ route, and the 422 envelope."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.web.unconverted import NOT_YET_DECLARED

MARK = "/api/institution/attendance/mark"


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_description_is_valid_openapi(client):
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


# The description and its reference page describe the API; they are not operations of it.
SELF_DESCRIPTION = {"api.openapi", "api.docs", "api.docs_asset"}


def test_every_api_route_is_described(app, client):
    described = client.get("/api/openapi.json").get_json()["paths"]
    missing = sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
        and rule.endpoint not in SELF_DESCRIPTION | NOT_YET_DECLARED
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if method.lower() not in described.get(_openapi_path(rule.rule), {})
    )
    assert missing == []


def test_the_not_yet_declared_list_names_only_undeclared_routes(app, client):
    """An entry left behind after its capability lands would silently excuse it: the list must shrink."""
    described = client.get("/api/openapi.json").get_json()["paths"]
    declared = {rule.endpoint for rule in app.url_map.iter_rules()
                if _openapi_path(rule.rule) in described and any(
                    m.lower() in described[_openapi_path(rule.rule)] for m in rule.methods - {"HEAD", "OPTIONS"})}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= NOT_YET_DECLARED and not NOT_YET_DECLARED & declared


def test_the_reference_page_is_served_locally(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/docs/assets/swagger-ui-bundle.js" in page.data
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_a_refused_body_names_each_field(client, api):
    response = client.post(MARK, headers=api("teacher"),
                           json={"session_id": 2**31, "records": [{"enrolment_id": 1}, {"status": 5}]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    fields = {d["field"] for d in error["details"]}
    assert {"session_id", "records[0].status", "records[1].status"} <= fields


def test_an_id_beyond_the_database_range_is_404(client, api):
    response = client.get(f"/api/institution/class-sessions/{2**31}", headers=api("admin"))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_deep_json_is_400(client, api):
    response = client.post(MARK, headers=api("teacher"), data="[" * 5000 + "]" * 5000,
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "json_too_deep"


def test_nul_bytes_are_refused(client, api):
    response = client.post(MARK, headers=api("teacher"), json={"session_id": 1, "records": [
        {"enrolment_id": 1, "status": "PRESENT", "notes": "a\x00b"}]})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_text"
