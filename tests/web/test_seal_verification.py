"""/verify and /api/verify validate the seal (issue 22) and say in words: sealed by <institution> and unchanged;
changed after sealing; sealed by someone else; not sealed. Bad files get a 4xx and words, never a 500."""

from __future__ import annotations

import io

import pikepdf
import pytest

from core.models import User
from core.registers import service
from core.registers.commands import RequestRegister
from core.registers.pdf import html_to_pdf
from core.seals import certificates, sealing
from core.seals import service as seals
from tests.registers_factories import enrolments_by_name, mark, past_session
from tests.seal_factories import p12

SETTINGS = service.BuildSettings(base_url="http://testserver", processes=1)
PLAIN_HTML = "<html lang='en'><head><title>Plain</title></head><body><p>Not from here</p></body></html>"


@pytest.fixture
def issued(app, sql, demo):
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    admin = sql.get(User, demo["users"]["admin"])
    doc, _ = service.request_document(sql, admin, RequestRegister(kind="session", session_id=session_id))
    doc = service.build_document(sql, app.extensions["storage"], doc.id, SETTINGS)
    return doc, app.extensions["storage"].path(doc.storage_key).read_bytes()


def _post(client, content: bytes, url: str = "/verify", name: str = "register.pdf"):
    return client.post(url, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def _appended_update(content: bytes) -> bytes:
    """The sealed file re-saved by an editor that appends an incremental update (a changed page layout)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    writer.root["/PageLayout"] = generic.NameObject("/OneColumn")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_reference_shows_the_seal_unchanged_and_the_institutions_fingerprint(app, sql, demo, issued):
    doc, _ = issued
    page = app.test_client().get(f"/verify/{doc.reference}")
    html = page.get_data(as_text=True)
    fingerprint = seals.in_force(sql, demo["institution_id"]).fingerprint
    assert page.status_code == 200 and 'data-seal="sealed_unchanged"' in html
    assert "Sealed by Demo Training Institute and unchanged since." in html
    assert f'id="institution-seal-fingerprint">{fingerprint}<' in html


def test_the_genuine_file_uploaded_is_sealed_by_its_institution_and_unchanged(app, issued):
    doc, content = issued
    client = app.test_client()
    html = _post(client, content).get_data(as_text=True)
    assert 'data-match="true"' in html and 'data-seal="sealed_unchanged"' in html
    body = _post(client, content, "/api/verify").get_json()
    assert body["exact_match"] is True and body["document"]["reference"] == doc.reference
    assert body["seal"]["status"] == "sealed_unchanged" and body["seal"]["institution"] == "Demo Training Institute"
    assert body["seal"]["fingerprint"] == body["document"]["institution_seal_fingerprint"]


def test_an_appended_incremental_update_is_changed_after_sealing_and_still_names_the_register(app, issued):
    doc, content = issued
    edited = _appended_update(content)
    assert edited.startswith(content) and len(edited) > len(content)
    body = _post(app.test_client(), edited, "/api/verify").get_json()
    assert body["seal"]["status"] == "changed_after_sealing"
    assert body["exact_match"] is False and body["document"]["reference"] == doc.reference
    html = _post(app.test_client(), edited).get_data(as_text=True)
    assert 'data-seal="changed_after_sealing"' in html and 'data-match="false"' in html


def test_one_changed_byte_is_changed_after_sealing(app, issued):
    _, content = issued
    changed = bytearray(content)
    at = content.index(b"/Lang")
    changed[at + 1] = ord("l")
    body = _post(app.test_client(), bytes(changed), "/api/verify").get_json()
    assert body["seal"]["status"] == "changed_after_sealing" and body["exact_match"] is False


def test_a_pdf_without_a_seal_is_not_sealed(app):
    body = _post(app.test_client(), html_to_pdf(PLAIN_HTML), "/api/verify").get_json()
    assert body["seal"]["status"] == "not_sealed" and body["document"] is None


def test_a_pdf_sealed_by_a_certificate_of_no_institution_here_is_sealed_by_someone_else(app, sql):
    from core import clock

    material = certificates.read_pkcs12(p12("pw", name="Forger Ltd"), "pw", clock.now())
    forged = sealing.seal_pdf(html_to_pdf(PLAIN_HTML), material.certificate_der, material.private_key_der, "Forger")
    body = _post(app.test_client(), forged, "/api/verify").get_json()
    assert body["seal"]["status"] == "sealed_by_other" and "Forger Ltd" in body["seal"]["signer"]
    assert body["seal"]["institution"] is None


def _encrypted() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(html_to_pdf(PLAIN_HTML))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="owner", user="user"))
    return out.getvalue()


def _with(change) -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(html_to_pdf(PLAIN_HTML))) as pdf:
        change(pdf)
        pdf.save(out)
    return out.getvalue()


def _javascript(pdf) -> None:
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))


def _external(pdf) -> None:
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
                              A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe")))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))


def _broken_signature(content: bytes) -> bytes:
    """The seal's /Contents overwritten with zeros (same length: the file's offsets stay right)."""
    start = content.index(b"/Contents <", content.index(b"/ByteRange")- 4000) + len(b"/Contents <")
    end = content.index(b">", start)
    return content[:start] + b"0" * (end - start) + content[end:]


@pytest.mark.parametrize(("make", "code", "words"), [
    (lambda issued: b"full_name,phone\nAmina,0550123456\n", "not_pdf", "not a PDF"),
    (lambda issued: _encrypted(), "pdf_encrypted", "encrypted"),
    (lambda issued: _with(_javascript), "pdf_javascript", "JavaScript"),
    (lambda issued: _with(_external), "pdf_external_reference", "external"),
    (lambda issued: _broken_signature(issued[1]), "broken_signature", "signature dictionary is broken"),
])
def test_bad_files_get_a_4xx_in_words_on_the_page_and_in_json(app, issued, make, code, words):
    content = make(issued)
    client = app.test_client()
    page = _post(client, content)
    assert page.status_code == 422 and words in page.get_data(as_text=True)
    answer = _post(client, content, "/api/verify")
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == code


def test_a_file_over_the_upload_limit_gets_413_in_words(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024 + 64 * 1024)
    big = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)
    page = _post(app.test_client(), big)
    assert page.status_code == 413 and "too large" in page.get_data(as_text=True)
    answer = _post(app.test_client(), big, "/api/verify")
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "too_large"


def test_no_file_is_a_422_with_words(app):
    answer = app.test_client().post("/api/verify", data={}, content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "file_missing"
    assert app.test_client().get("/api/verify/RXXXX-XXXX-XXXX").status_code == 404


def test_the_register_document_api_says_it_is_sealed(app, client, api, issued, sql, demo):
    doc, _ = issued
    body = client.get(f"/api/registers/{doc.id}", headers=api("admin")).get_json()
    assert body["sealed"] is True
    assert body["seal_fingerprint"] == seals.in_force(sql, demo["institution_id"]).fingerprint
