"""Sealed documents (issue 22): every PDF is sealed last by its institution's seal, validated here by pyHanko's
own validator; keys are stored encrypted; replaced seals keep verifying what they sealed."""

from __future__ import annotations

import io

import pikepdf
import pytest
from sqlalchemy import func, select

from core.errors import ValidationError
from core.models import Institution, InstitutionSeal, User
from core.seals import service as seals
from core.storage import PrivateStorage
from tests.registers_factories import build, enrolments_by_name, mark, past_session
from tests.seal_factories import material_fingerprint, p12, pyhanko_status


@pytest.fixture
def storage(tmp_path):
    return PrivateStorage(tmp_path / "private")


@pytest.fixture
def sealed_register(sql, demo, storage):
    session_id, day = past_session(sql, demo["public_cohort_id"])
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, day, {eid: ("PRESENT", None, None) for eid in ids.values()})
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    return doc, storage.path(doc.storage_key).read_bytes()


def test_a_built_register_is_sealed_and_pyhanko_judges_the_seal_valid_and_trusted(sql, demo, sealed_register):
    _, content = sealed_register
    seal = seals.in_force(sql, demo["institution_id"])
    status = pyhanko_status(content, seal.certificate_pem)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.sha256.hex() == seal.fingerprint


def test_the_sealed_register_is_still_tagged_and_its_seal_widget_hidden(sealed_register):
    _, content = sealed_register
    with pikepdf.open(io.BytesIO(content)) as pdf:
        assert "/StructTreeRoot" in pdf.Root and bool(pdf.Root.MarkInfo.Marked)
        assert str(pdf.Root.Lang)
        widgets = [a for page in pdf.pages for a in page.obj.get("/Annots", []) if a.get("/FT") == "/Sig"]
        assert len(widgets) == 1 and int(widgets[0].F) & 2  # Hidden: nothing to tag or show


def test_one_changed_byte_makes_pyhanko_fail_the_seal(sql, demo, sealed_register):
    _, content = sealed_register
    seal = seals.in_force(sql, demo["institution_id"])
    changed = bytearray(content)
    at = content.index(b"/Lang")  # inside the signed bytes
    changed[at + 1] = ord("l")
    status = pyhanko_status(bytes(changed), seal.certificate_pem)
    assert not status.intact and not status.bottom_line


def test_an_institution_gets_its_seal_when_it_is_created(sql, demo):
    from core.institutions import service as institutions
    from core.institutions.commands import CreateInstitution

    inst = institutions.create_institution(sql, None, CreateInstitution(
        name="Cape Skills", slug="cape-seal", time_zone="Africa/Johannesburg", accreditation_number="QCTO-123"))
    seal = seals.in_force(sql, inst.id)
    assert seal is not None and seal.source == "generated"
    assert "Cape Skills" in seal.subject and "QCTO-123" in seal.subject
    assert 5 * 365 - 2 <= (seal.not_after - seal.not_before).days <= 5 * 365 + 2


def test_an_older_institution_gets_its_seal_on_its_first_sealed_document(sql, demo, sealed_register):
    count = sql.scalar(select(func.count()).select_from(InstitutionSeal)
                       .where(InstitutionSeal.institution_id == demo["institution_id"]))
    assert count == 1  # made once, by the first build, and kept


def test_the_database_holds_no_private_key_in_plain_text(sql, demo, sealed_register):
    rows = sql.scalars(select(InstitutionSeal.encrypted_key)).all()
    assert rows
    for stored in rows:
        assert b"-----BEGIN" not in bytes(stored) and b"PRIVATE KEY" not in bytes(stored)
    pem_like = sql.scalar(select(func.count()).select_from(InstitutionSeal)
                          .where(InstitutionSeal.certificate_pem.like("%PRIVATE KEY%")))
    assert pem_like == 0


def test_a_pkcs12_with_a_wrong_password_is_refused(sql, demo):
    admin = sql.get(User, demo["users"]["admin"])
    with pytest.raises(ValidationError) as refused:
        seals.upload(sql, admin, demo["institution_id"], p12("right-password"), "wrong-password")
    assert refused.value.code == "wrong_password"


@pytest.mark.parametrize(("bundle", "code"), [
    (lambda: p12("pw", days=10, not_before_days=-30), "certificate_expired"),
    (lambda: p12("pw", other_key=True), "key_mismatch"),
    (lambda: b"%PDF-1.7 not a bundle at all", "not_pkcs12"),
])
def test_an_unusable_pkcs12_is_refused_with_its_reason(sql, demo, bundle, code):
    admin = sql.get(User, demo["users"]["admin"])
    with pytest.raises(ValidationError) as refused:
        seals.upload(sql, admin, demo["institution_id"], bundle(), "pw")
    assert refused.value.code == code


def test_a_document_sealed_before_a_replacement_still_verifies_against_the_old_certificate(
        sql, demo, storage, sealed_register):
    _, content = sealed_register
    old = seals.in_force(sql, demo["institution_id"])
    old_pem, old_fingerprint = old.certificate_pem, old.fingerprint
    admin = sql.get(User, demo["users"]["admin"])
    bundle = p12("s3cret", name="Demo Institute 2027")
    new = seals.upload(sql, admin, demo["institution_id"], bundle, "s3cret")
    assert new.fingerprint == material_fingerprint(bundle, "s3cret") != old_fingerprint
    kept = seals.by_fingerprint(sql, old_fingerprint)
    assert kept is not None and kept.replaced_at is not None
    assert pyhanko_status(content, old_pem).bottom_line
    assert len(seals.history(sql, demo["institution_id"])) == 2


def test_an_admin_of_another_institution_cannot_reach_this_seal(sql, demo):
    other = Institution(name="Elsewhere", slug="elsewhere-seal", time_zone="Africa/Algiers")
    sql.add(other)
    sql.commit()
    admin = sql.get(User, demo["users"]["admin"])
    from core.errors import NotFound

    with pytest.raises(NotFound):
        seals.upload(sql, admin, other.id, p12("pw"), "pw")
