"""Role × endpoint: walks the app's URL map, so a new endpoint without an access rule fails here.

For every route and method:
- anonymous: HTML → redirect to /login, API → 401 JSON (public routes excepted);
- each role: 403 if the role lacks the route's permission, otherwise neither 401/403 nor a 5xx.
URL parameters are filled from the demo data (SAMPLE_VALUES): a feature that adds a new parameter
name adds one line there.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from werkzeug.routing import Rule

from core.access.permissions import role_has
from core.models import Role

ROLES = {"super": Role.SUPER_ADMIN, "admin": Role.ADMIN, "support": Role.SUPPORT, "teacher": Role.TEACHER,
         "org": Role.ORG_MEMBER, "regulator": Role.REGULATOR, "learner": Role.LEARNER}
# Readiness answers 503 while no worker runs (none does here): that is its answer, not a failure.
MAY_ANSWER_503 = {"api.health_ready"}
# Endpoints served by extensions, not by our views.
EXTENSION_ENDPOINTS = {"static", "bootstrap.static"}


def _sample_values(demo: dict[str, Any]) -> dict[str, Any]:
    """A value for each URL parameter name, taken from the demo data."""
    return {
        "cohort_id": demo["public_cohort_id"],
        "organization_id": demo["organization_id"],
        "agreement_id": demo["agreement_id"],
        "request_id": 1,
        "token_id": 1,
        "task_id": "00000000-0000-0000-0000-000000000000",
        "session_id": 1,
        "import_id": 1,
        "room_id": 1,
        "holiday_id": 1,
        "document_id": 1,
        "record_id": 1,
        "trainee_id": 1,
        "evidence_id": 1,
        "apology_id": 1,
        "feed_token": "not-a-real-token",
        "run_id": 1,
        "filename": "app.css",
        "institution_id": demo["institution_id"],
        "qualification_id": 1,
        "user_id": demo["users"].get("teacher", demo["users"]["admin"]),  # some callers know only the admin
        "learner_id": 1,
        "enrolment_id": 1,
        "token": "not-a-real-token",
        "reference": "RNOT0-REAL-REF0",
        "permission": "corporate_reports.view",
        "action": "deny",
        "invoice_id": 1,
        "kind": "learners",
        "person_id": 1,
        "export_id": 1,
        "note_id": 1,
        "signature_id": 1,
        "submission_id": 1,
    }


def _routes() -> list[tuple[str, str]]:
    from tests.conftest import test_settings
    from web import create_app

    app = create_app(test_settings())
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXTENSION_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method))
    return found


ROUTES = _routes()


def test_every_endpoint_has_an_access_rule(app):
    missing = [
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in EXTENSION_ENDPOINTS and not hasattr(view, "access_rule")
    ]
    assert missing == [], f"endpoints without public/signed_in/requires: {missing}"


def _client_for(app, user_id: int):
    """A client signed in as the user, by opening a login session directly (no password hashing)."""
    from core import clock
    from core.access.auth import _digest
    from core.models import LoginSession
    from web.extensions import db

    secret = secrets.token_urlsafe(24)
    with app.app_context():
        db.session.add(LoginSession(id=_digest(secret), user_id=user_id, created_at=clock.now(),
                                    last_seen_at=clock.now()))
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = secret
        session["_fresh"] = True
    return client


def _url(app, rule: Rule, values: dict[str, Any]) -> str:
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})


@pytest.mark.parametrize(("endpoint", "method"), ROUTES, ids=[f"{m} {e}" for e, m in ROUTES])
def test_role_matrix(app, demo, endpoint, method):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    access = app.view_functions[endpoint].access_rule
    url = _url(app, rule, _sample_values(demo))
    is_api = url.startswith("/api/")
    send = {"json": {}} if is_api and method != "GET" else {}

    anonymous = app.test_client().open(url, method=method, **send)
    if access.kind == "public":
        assert anonymous.status_code < 500 or (endpoint in MAY_ANSWER_503 and anonymous.status_code == 503)
    elif is_api:
        assert anonymous.status_code == 401, (url, anonymous.status_code)
    else:
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"], (url, anonymous.status_code)

    for name, role in ROLES.items():
        response = _client_for(app, demo["users"][name]).open(url, method=method, **send)
        allowed = access.kind != "permission" or role_has(role, access.permission)
        if allowed:
            assert response.status_code not in (401, 403), (name, method, url, response.status_code)
            assert response.status_code < 500 or (endpoint in MAY_ANSWER_503 and response.status_code == 503), (
                name, method, url, response.status_code, response.data[:300])
        else:  # a learner is not told that staff routes exist (issue 21: 404 to them)
            refused = 404 if role == Role.LEARNER else 403
            assert response.status_code == refused, (name, method, url, response.status_code)


def test_support_reaches_only_cohort_and_trainee_views(app):
    """Support views cohorts, trainees and (issue 23) corporate finance, nothing else: every route it may use is
    one of those views."""
    from core.access.permissions import SUPPORT_VIEWS

    reachable = {
        endpoint: view.access_rule.permission for endpoint, view in app.view_functions.items()
        if endpoint not in EXTENSION_ENDPOINTS and view.access_rule.kind == "permission"
        and role_has(Role.SUPPORT, view.access_rule.permission)
    }
    assert reachable and set(reachable.values()) <= SUPPORT_VIEWS
    methods = {m for rule in app.url_map.iter_rules() if rule.endpoint in reachable for m in rule.methods}
    assert methods <= {"GET", "HEAD", "OPTIONS"}, "support changes nothing"


def test_learner_reaches_only_their_own_record_and_their_account(app):
    """A learner holds no staff permission: every route they may use is their own record (/me) or one every
    signed-in user has (profile, sign-out); staff routes and other people's rows answer them 404."""
    from core.access.permissions import LEARNER_OWN

    reachable = {
        endpoint: view.access_rule.permission for endpoint, view in app.view_functions.items()
        if endpoint not in EXTENSION_ENDPOINTS and view.access_rule.kind == "permission"
        and role_has(Role.LEARNER, view.access_rule.permission)
    }
    assert reachable and set(reachable.values()) <= set(LEARNER_OWN)
    # Their own record (/me) and their own check-in (/api/me/check-in, /check-in: web.checkin).
    assert all(endpoint.startswith(("me.", "checkin.")) for endpoint in reachable)
