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


def test_no_two_response_or_request_models_share_a_name(app):
    """The description names each schema by its class: two classes with one name would overwrite each other in
    /api/openapi.json (and responses would be checked against the wrong one)."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    import core
    import web

    owners: dict[str, set[str]] = {}
    for package in (web, core):
        for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module_info.name.endswith(("schemas", "commands", "contract", "fields")):
                continue
            module = importlib.import_module(module_info.name)
            for name, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, BaseModel) and obj.__module__ == module.__name__ and not name.startswith("_"):
                    owners.setdefault(name, set()).add(module.__name__)
    assert {name: sorted(mods) for name, mods in owners.items() if len(mods) > 1} == {}


def _operations(client):
    document = client.get("/api/openapi.json").get_json()
    return document, [(f"{method.upper()} {path}", operation) for path, operations in document["paths"].items()
                      for method, operation in operations.items()]


def test_every_operation_has_a_summary_in_words(client):
    """Not spectree's stand-in (`api_get <GET>`, the function's name when the view has no docstring)."""
    _, operations = _operations(client)
    unsaid = [label for label, operation in operations if not re.search(r"\w+ \w+", operation.get("summary", ""))
              or re.search(r"<[A-Z]+>", operation["summary"])]
    assert unsaid == []


def test_every_operation_is_tagged_with_its_capability(client):
    document, operations = _operations(client)
    tags = {tag["name"] for tag in document["tags"]}
    untagged = [label for label, operation in operations if len(operation.get("tags", [])) != 1
                or operation["tags"][0] not in tags]
    assert untagged == [] and "scheduling" in tags and "attendance" in tags


def test_every_operation_documents_a_too_long_request_line(client):
    _, operations = _operations(client)
    assert [label for label, operation in operations if "414" not in operation["responses"]] == []


def test_a_request_line_over_the_limit_is_refused_in_json(client, api):
    from web.contract import MAX_REQUEST_LINE

    fits = "/api/rooms?q=" + "a" * (MAX_REQUEST_LINE - len("GET /api/rooms?q= HTTP/1.1"))
    assert client.get(fits, headers=api("admin")).status_code == 422  # q is at most 200 characters: read, then refused
    response = client.get(fits + "a", headers=api("admin"))
    assert response.status_code == 414
    assert response.get_json()["error"]["code"] == "request_line_too_long"


def test_multipart_bodies_describe_their_fields(client):
    _, operations = _operations(client)
    for label, operation in operations:
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "multipart/form-data":
                schema = content["schema"]
                if "$ref" in schema:
                    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"][
                        schema["$ref"].rsplit("/", 1)[1]]
                assert schema.get("properties"), label
                assert any(p.get("format") == "binary" for p in schema["properties"].values()), label
