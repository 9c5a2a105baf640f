"""Signatures on the register (issue 22): the facilitator's sign-off with a fresh password confirmation, voided by
a later mark and restored by signing again; learners' drawn signatures; the provider's sign-offs; who may do what
(other tenants: 404); and that nothing signed can be changed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from core import clock
from tests.registers_factories import enrolments_by_name, mark, past_session
from tests.signature_factories import data_url

PASSWORD = "demo-password"


@pytest.fixture
def ended(sql, demo):
    """Yesterday's session of the public cohort (ended, not locked yet), every learner present."""
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    return session_id, ids


def _sign_off_url(session_id: int) -> str:
    return f"/api/institution/class-sessions/{session_id}/sign-off"


def _signatures(client, headers, session_id: int) -> dict:
    response = client.get(f"/api/institution/class-sessions/{session_id}/signatures", headers=headers)
    assert response.status_code == 200, response.data
    return response.get_json()


def test_a_token_without_a_fresh_password_is_refused_with_403(client, api, ended):
    response = client.post(_sign_off_url(ended[0]), headers=api("teacher"), json={"full_name": "Amel Facilitator"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_confirmation_required"
    assert _signatures(client, api("admin"), ended[0])["sign_offs"] == []


def test_a_wrong_password_is_refused_with_403_and_nothing_signed(client, api, ended):
    response = client.post(_sign_off_url(ended[0]), headers=api("teacher"),
                           json={"full_name": "Amel Facilitator", "password": "not-my-password"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_confirmation_required"
    assert _signatures(client, api("admin"), ended[0])["sign_offs"] == []


def test_a_token_with_its_password_signs_and_records_who_when_where_and_the_version(client, api, demo, ended):
    response = client.post(_sign_off_url(ended[0]), headers=api("teacher"),
                           json={"full_name": "Amel Facilitator", "signature": "AF", "password": PASSWORD})
    assert response.status_code == 201, response.data
    body = response.get_json()
    assert body["full_name"] == "Amel Facilitator" and body["signature"] == "AF" and body["role"] == "facilitator"
    assert body["ip_address"] == "127.0.0.1" and len(body["data_version"]) == 64 and body["void"] is False
    assert abs(dt.datetime.fromisoformat(body["signed_at"]) - clock.now()) < dt.timedelta(seconds=5)
    shown = _signatures(client, api("admin"), ended[0])
    assert shown["sign_off"]["id"] == body["id"] and shown["sign_off"]["signed_by"]


def test_the_screen_confirmation_lasts_five_minutes(client, login, ended):
    teacher = login("teacher")
    screen = teacher.post(f"/institution/attendance/sessions/{ended[0]}/sign-off",
                          data={"full_name": "Amel Facilitator", "password": PASSWORD})
    assert screen.status_code == 302
    # Within 5 minutes the browser session signs without the password again (e.g. after a change)...
    with clock.frozen_at(clock.now() + dt.timedelta(minutes=4)):
        assert teacher.post(_sign_off_url(ended[0]), json={"full_name": "Amel F."}).status_code == 201
    # ...and not after.
    with clock.frozen_at(clock.now() + dt.timedelta(minutes=6)):
        stale = teacher.post(_sign_off_url(ended[0]), json={"full_name": "Amel F."})
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "password_confirmation_required"


def test_the_screen_refuses_a_wrong_password_and_signs_nothing(client, login, api, ended):
    teacher = login("teacher")
    screen = teacher.post(f"/institution/attendance/sessions/{ended[0]}/sign-off",
                          data={"full_name": "Amel Facilitator", "password": "wrong-password"},
                          follow_redirects=True)
    assert "That password is not right" in screen.get_data(as_text=True)
    assert _signatures(client, api("admin"), ended[0])["sign_offs"] == []


def test_a_later_mark_voids_the_sign_off_until_it_is_signed_again(client, api, login, ended):
    session_id, ids = ended
    teacher = api("teacher")
    first = client.post(_sign_off_url(session_id), headers=teacher,
                        json={"full_name": "Amel Facilitator", "password": PASSWORD}).get_json()
    changed = client.post("/api/institution/attendance/mark", headers=teacher, json={
        "session_id": session_id, "records": [{"id": ids["Yacine Belkacem"], "status": "LATE", "minutes_late": 5}]})
    assert changed.status_code == 200, changed.data
    shown = _signatures(client, teacher, session_id)
    assert shown["sign_off"]["id"] == first["id"] and shown["sign_off"]["void"] is True
    page = login("teacher").get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    assert "Sign-off void: changed after signing." in page
    again = client.post(_sign_off_url(session_id), headers=teacher,
                        json={"full_name": "Amel Facilitator", "password": PASSWORD}).get_json()
    shown = _signatures(client, teacher, session_id)
    assert shown["sign_off"]["id"] == again["id"] and shown["sign_off"]["void"] is False
    assert [s["void"] for s in shown["sign_offs"]] == [False, True]  # the void one stays, as it was signed
    page = login("teacher").get(f"/institution/attendance/sessions/{session_id}").get_data(as_text=True)
    assert "Sign-off void" not in page and "Signed by Amel Facilitator" in page


def test_a_session_that_has_not_ended_cannot_be_signed(client, api, sql, demo):
    from tests.attendance_factories import make_session

    today = clock.today_in("Africa/Algiers")
    session_id = make_session(sql, demo["public_cohort_id"], today, dt.time(20), dt.time(21))
    response = client.post(_sign_off_url(session_id), headers=api("teacher"),
                           json={"full_name": "Amel Facilitator", "password": PASSWORD})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "session_not_ended"


@pytest.mark.parametrize(("who", "status"), [("support", 403), ("regulator", 403), ("org", 403), ("learner", 404),
                                              ("teacher2", 404)])
def test_who_may_not_sign_off(client, api, ended, who, status):
    response = client.post(_sign_off_url(ended[0]), headers=api(who),
                           json={"full_name": "Someone", "password": PASSWORD})
    assert response.status_code == status, (who, response.data)


def test_another_tenant_finds_no_session_to_sign_or_read(client, johannesburg, ended):
    headers = johannesburg["headers"]
    assert client.post(_sign_off_url(ended[0]), headers=headers,
                       json={"full_name": "Jo Admin", "password": PASSWORD}).status_code == 404
    assert client.get(f"/api/institution/class-sessions/{ended[0]}/signatures", headers=headers).status_code == 404
    signed = client.post(f"/api/institution/class-sessions/{ended[0]}/trainees/{next(iter(ended[1].values()))}"
                         "/signature", headers=headers, json={"image": data_url()})
    assert signed.status_code == 404


def test_an_admin_signs_off_any_session_of_the_institution(client, api, ended):
    response = client.post(_sign_off_url(ended[0]), headers=api("admin"),
                           json={"full_name": "Demo Admin", "password": PASSWORD})
    assert response.status_code == 201, response.data


# --- learners' signatures ----------------------------------------------------------------------------------------

def _row_url(session_id: int, member_id: int) -> str:
    return f"/api/institution/class-sessions/{session_id}/trainees/{member_id}/signature"


def test_a_learner_signs_their_row_once_and_the_image_is_served_privately(client, api, ended):
    session_id, ids = ended
    member = ids["Yacine Belkacem"]
    signed = client.post(_row_url(session_id, member), headers=api("teacher"), json={"image": data_url()})
    assert signed.status_code == 201, signed.data
    body = signed.get_json()
    assert body["kind"] == "drawn" and body["member_id"] == member
    image = client.get(body["image_url"], headers=api("teacher"))
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG") and image.mimetype == "image/png"
    assert client.get(body["image_url"]).status_code == 401
    again = client.post(_row_url(session_id, member), headers=api("teacher"), json={"image": data_url()})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_signed"
    learners = _signatures(client, api("admin"), session_id)["learners"]
    assert [(x["member_id"], x["kind"]) for x in learners] == [(member, "drawn")]


def test_the_signature_shows_in_the_rows_history(client, api, ended):
    session_id, ids = ended
    member = ids["Yacine Belkacem"]
    client.post(_row_url(session_id, member), headers=api("teacher"), json={"image": data_url()})
    history = client.get(f"/api/institution/class-sessions/{session_id}/trainees/{member}/history",
                         headers=api("teacher")).get_json()["items"]
    assert history[-1]["action"] == "signature.learner" and history[-1]["to"]["signature_id"]


@pytest.mark.parametrize("image", ["data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,not base64!!",
                                   "data:image/png;base64,R0lGODlhAQABAAAAACw=", "data:image/png;base64,\x00"])
def test_what_is_not_a_png_signature_is_refused_with_422(client, api, ended, image):
    session_id, ids = ended
    response = client.post(_row_url(session_id, ids["Yacine Belkacem"]), headers=api("teacher"), json={"image": image})
    assert response.status_code == 422, response.data
    assert _signatures(client, api("admin"), session_id)["learners"] == []


def test_an_unmarked_or_absent_learner_cannot_sign(client, api, sql, ended):
    session_id, ids = ended
    day = clock.today_in("Africa/Algiers") - dt.timedelta(days=1)
    mark(sql, session_id, day, {ids["Yacine Belkacem"]: ("ABSENT", None, None)})
    response = client.post(_row_url(session_id, ids["Yacine Belkacem"]), headers=api("teacher"),
                           json={"image": data_url()})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_present"
    assert client.post(_row_url(session_id, 999_999), headers=api("teacher"),
                       json={"image": data_url()}).status_code == 404


@pytest.mark.parametrize(("who", "status"), [("support", 403), ("regulator", 403), ("learner", 404),
                                              ("teacher2", 404)])
def test_who_may_not_capture_a_learners_signature(client, api, ended, who, status):
    session_id, ids = ended
    response = client.post(_row_url(session_id, ids["Yacine Belkacem"]), headers=api(who), json={"image": data_url()})
    assert response.status_code == status, (who, response.data)


# --- never editable ---------------------------------------------------------------------------------------------

def test_no_route_changes_or_removes_a_signature(app):
    for rule in app.url_map.iter_rules():
        if "sign-off" in rule.rule or "signature" in rule.rule:
            assert not (rule.methods or set()) & {"PUT", "PATCH", "DELETE"}, rule.rule


def test_the_database_refuses_to_change_a_sign_off(client, api, sql, ended):
    client.post(_sign_off_url(ended[0]), headers=api("teacher"), json={"full_name": "Amel", "password": PASSWORD})
    with pytest.raises(Exception, match="signatures are never changed"):
        sql.execute(text("UPDATE sign_offs SET full_name = 'Someone else'"))
    sql.rollback()
    assert sql.scalar(text("SELECT full_name FROM sign_offs")) == "Amel"
