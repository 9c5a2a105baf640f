"""The seal's administration (issue 22): the admin screen and API per role, another tenant 404, uploads refused
with the reason, and the operators' command `flask institutions seal`."""

from __future__ import annotations

import io

import pytest

from core.models import Institution
from tests.seal_factories import material_fingerprint, p12


@pytest.fixture
def elsewhere(sql) -> int:
    other = Institution(name="Elsewhere Academy", slug="elsewhere-seals", time_zone="Africa/Algiers")
    sql.add(other)
    sql.commit()
    return other.id


def _upload(client, url, headers, content: bytes, password: str):
    return client.post(url, headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), "seal.p12"), "password": password})


def test_an_admin_reads_the_seal_and_never_a_private_key(client, api, demo):
    answer = client.get(f"/api/institutions/{demo['institution_id']}/seal", headers=api("admin"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert len(body["in_force"]["fingerprint"]) == 64 and body["in_force"]["source"] == "generated"
    text = answer.get_data(as_text=True)
    assert "PRIVATE" not in text and "encrypted_key" not in text and "BEGIN" not in text


@pytest.mark.parametrize(("role", "status"), [("teacher", 403), ("support", 403), ("org", 403),
                                              ("regulator", 403), ("learner", 404), ("super", 200)])
def test_who_may_read_the_seal(client, api, demo, role, status):
    assert client.get(f"/api/institutions/{demo['institution_id']}/seal", headers=api(role)).status_code == status


def test_another_tenants_seal_is_404_for_an_admin_and_reachable_for_a_super_admin(client, api, demo, elsewhere):
    url = f"/api/institutions/{elsewhere}/seal"
    assert client.get(url, headers=api("admin")).status_code == 404
    assert _upload(client, url, api("admin"), p12("pw"), "pw").status_code == 404
    assert client.post(f"{url}/regenerate", headers=api("admin")).status_code == 404
    assert client.get(url, headers=api("super")).status_code == 200
    assert client.get("/api/institutions/999999/seal", headers=api("super")).status_code == 404


def test_an_upload_with_a_wrong_password_is_refused_and_the_right_one_replaces_the_seal(client, api, demo):
    url = f"/api/institutions/{demo['institution_id']}/seal"
    before = client.get(url, headers=api("admin")).get_json()["in_force"]["fingerprint"]
    bundle = p12("correct horse")
    refused = _upload(client, url, api("admin"), bundle, "wrong")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "wrong_password"
    assert client.get(url, headers=api("admin")).get_json()["in_force"]["fingerprint"] == before
    accepted = _upload(client, url, api("admin"), bundle, "correct horse")
    assert accepted.status_code == 201
    body = accepted.get_json()
    assert body["in_force"]["fingerprint"] == material_fingerprint(bundle, "correct horse")
    assert [s["fingerprint"] for s in body["history"]][1] == before and body["history"][1]["replaced_at"]


def test_a_file_that_is_not_pkcs12_is_refused_with_its_reason(client, api, demo):
    url = f"/api/institutions/{demo['institution_id']}/seal"
    refused = _upload(client, url, api("admin"), b"-----BEGIN CERTIFICATE-----\nnope\n", "pw")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "not_pkcs12"
    missing = client.post(url, headers=api("admin"), content_type="multipart/form-data", data={"password": "x"})
    assert missing.status_code == 422 and missing.get_json()["error"]["code"] == "file_missing"


def test_regenerate_puts_a_new_seal_in_force(client, api, demo):
    url = f"/api/institutions/{demo['institution_id']}/seal"
    before = client.get(url, headers=api("admin")).get_json()["in_force"]["fingerprint"]
    after = client.post(f"{url}/regenerate", headers=api("admin"))
    assert after.status_code == 201 and after.get_json()["in_force"]["fingerprint"] != before
    assert client.post(f"{url}/regenerate", headers=api("teacher")).status_code == 403


def test_the_seal_screen_for_admins_only(login, demo, elsewhere):
    page = login("admin").get("/admin/seal")
    assert page.status_code == 200 and 'id="seal-fingerprint"' in page.get_data(as_text=True)
    assert login("teacher").get("/admin/seal").status_code == 403
    assert login("admin").get(f"/admin/seal?institution_id={elsewhere}").status_code == 404
    menu = login("admin").get("/admin").get_data(as_text=True)
    assert "/admin/seal" in menu and "/admin/seal" not in login("teacher").get("/teacher").get_data(as_text=True)


def test_the_seal_screen_uploads_and_refuses_a_wrong_password_in_words(login, demo):
    admin = login("admin")
    refused = admin.post("/admin/seal", data={"file": (io.BytesIO(p12("pw")), "seal.p12"), "password": "nope"},
                         content_type="multipart/form-data", headers={"Referer": "/admin/seal"},
                         follow_redirects=True)
    assert "The password does not open this PKCS#12 file." in refused.get_data(as_text=True)
    done = admin.post("/admin/seal", data={"file": (io.BytesIO(p12("pw")), "seal.p12"), "password": "pw"},
                      content_type="multipart/form-data", follow_redirects=True)
    assert done.status_code == 200 and "The uploaded seal is in force." in done.get_data(as_text=True)


def test_the_command_line_uploads_with_the_password_from_the_environment(app, demo, tmp_path):
    bundle = tmp_path / "seal.p12"
    bundle.write_bytes(p12("from-env"))
    runner = app.test_cli_runner()
    wrong = runner.invoke(args=["institutions", "seal", "--institution", "demo", "--upload", str(bundle)],
                          env={"SEAL_P12_PASSWORD": "wrong"})
    assert wrong.exit_code != 0 and "The password does not open this PKCS#12 file." in wrong.output
    done = runner.invoke(args=["institutions", "seal", "--institution", "demo", "--upload", str(bundle)],
                         env={"SEAL_P12_PASSWORD": "from-env"})
    assert done.exit_code == 0, done.output
    assert material_fingerprint(bundle.read_bytes(), "from-env") in done.output.replace(":", "").lower()
    assert "from-env" not in done.output


def test_the_command_line_without_a_terminal_asks_for_the_password_option(app, demo, tmp_path):
    bundle = tmp_path / "seal.p12"
    bundle.write_bytes(p12("pw"))
    result = app.test_cli_runner().invoke(
        args=["institutions", "seal", "--institution", "demo", "--upload", str(bundle)], env={"SEAL_P12_PASSWORD": ""})
    assert result.exit_code != 0 and "SEAL_P12_PASSWORD" in result.output
