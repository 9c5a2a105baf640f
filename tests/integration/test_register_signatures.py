"""Signatures in the register PDF, read back (issue 22): the facilitator's sign-off (name, time) or its void
notice, a learner's drawn signature as an image on that learner's row, and "signed electronically" for a self
check-in."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

import pdfplumber
import pytest
from sqlalchemy import text

from core import clock
from core.models import ClassSession, User
from core.signatures import learners, sign_offs
from core.signatures.commands import LearnerSignatureCommand, SignOffCommand
from core.storage import PrivateStorage
from tests.registers_factories import build, enrolments_by_name, mark
from tests.signature_factories import data_url

AT = dt.datetime(2026, 11, 17, 8, 3, tzinfo=dt.UTC)  # 09:03 in Algiers, in the demo's 09:00–12:00 session
SIGNER = "Lina Haddad"


@pytest.fixture
def storage(tmp_path):
    return PrivateStorage(tmp_path / "private")


def _pages(storage, doc) -> list[pdfplumber.page.Page]:
    with storage.open(doc.storage_key) as f:
        return f.read()


def _text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return unicodedata.normalize("NFKC", "\n".join(page.extract_text() or "" for page in document.pages))


def _squash(content: str) -> str:
    return "".join(content.split())


def _body_images(page) -> list[dict]:
    """Images in the Signature column, under its head (the QR code sits in the page's head)."""
    head = max((w for w in page.extract_words() if w["text"] == "Signature"), key=lambda w: w["x0"])
    return [im for im in page.images if im["x0"] >= head["x0"] - 5 and im["top"] > head["bottom"]]


def _sign_off(sql, demo, session_id: int, name: str = "Amel Facilitator") -> None:
    teacher = sql.get(User, demo["users"]["teacher"])
    sign_offs.sign_off_session(sql, teacher, session_id, SignOffCommand(full_name=name, password="demo-password"),
                               confirmed_at=None, ip_address="192.0.2.7")


@pytest.fixture
def signed_session(sql, demo, storage, app):
    """The demo's 09:00–12:00 session today: Yacine checks in himself at 09:03, the others are marked present,
    Lina signs her row on the tablet, and at 12:05 the facilitator signs the register off."""
    from core.checkin import codes
    from core.checkin import service as checkin
    from core.checkin.commands import CheckIn, CheckInContext, OpenCheckIn

    session_id = sql.scalar(text("SELECT id FROM class_sessions WHERE cohort_id = :c AND starts_at <= :at "
                                 "AND ends_at > :at").bindparams(c=demo["public_cohort_id"], at=AT))
    assert sql.get(ClassSession, session_id).start_time == dt.time(9)
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    teacher = sql.get(User, demo["users"]["teacher"])
    with clock.frozen_at(AT):
        checkin.set_check_in(sql, teacher, session_id, OpenCheckIn(open=True), app_secret="s")
        code = codes.code_at(codes.session_secret("s", session_id), codes.step_of(AT))
        checkin.check_in(sql, sql.get(User, demo["users"]["learner"]), CheckIn(code=code), CheckInContext(),
                         app_secret="s")
    with clock.frozen_at(AT + dt.timedelta(minutes=10)):
        mark(sql, session_id, AT.date(), {eid: ("PRESENT", None, None) for name, eid in ids.items()
                                          if name != "Yacine Belkacem"})
        learners.sign_row(sql, teacher, storage, session_id, ids[SIGNER], LearnerSignatureCommand(image=data_url()),
                          ip_address="192.0.2.7")
    with clock.frozen_at(dt.datetime(2026, 11, 17, 11, 5, tzinfo=dt.UTC)):
        _sign_off(sql, demo, session_id)
    return session_id, ids


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_the_pdf_shows_the_facilitators_sign_off_with_its_time(sql, demo, storage, signed_session):
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=signed_session[0], format="pdf")
    assert doc.status.value == "READY", doc.error_message
    content = _text(_pages(storage, doc))
    assert "signed by Amel Facilitator (signed electronically)" in content
    assert "12:05" in content.split("signed by Amel Facilitator")[1][:120]
    assert "sign-off void" not in content


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_the_pdf_says_signed_electronically_for_a_self_check_in(sql, demo, storage, signed_session):
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=signed_session[0], format="pdf")
    data = _pages(storage, doc)
    assert "09:03(check-in)" in _squash(_text(data))
    with pdfplumber.open(io.BytesIO(data)) as document:
        words = document.pages[0].extract_words()
    row = next(w for w in words if w["text"] == "Belkacem")   # Yacine checked in himself at 09:03
    said = [w for w in words if w["text"] in ("electronically", "(check-in)")]
    assert len(said) == 2 and all(abs(w["top"] - row["top"]) < 12 for w in said)  # on his row, and only there


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_the_pdf_draws_the_learners_signature_on_their_own_row(sql, demo, storage, signed_session):
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=signed_session[0], format="pdf")
    with pdfplumber.open(io.BytesIO(_pages(storage, doc))) as document:
        page = document.pages[0]
        words = page.extract_words()
        signer = next(w for w in words if w["text"] == SIGNER.split()[1])   # "Haddad"
        others = [w for w in words if w["text"] in ("Mansouri", "Bouzid")]
        drawn = _body_images(page)
    assert len(drawn) == 1, drawn   # one signature image, in the Signature column
    image = drawn[0]
    assert image["top"] <= signer["top"] and image["bottom"] >= signer["bottom"]  # on Lina's row
    assert all(not (image["top"] <= w["top"] <= image["bottom"]) for w in others)


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_a_later_mark_voids_the_sign_off_in_the_pdf_and_signing_again_restores_it(sql, demo, storage,
                                                                                  signed_session):
    session_id, ids = signed_session
    mark(sql, session_id, AT.date(), {ids["Karim Mansouri"]: ("LATE", 10, None)})
    void = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    content = _squash(_text(_pages(storage, void)))
    assert "sign-offvoid:changedaftersigning(AmelFacilitator" in content
    assert "signedbyAmelFacilitator" not in content
    _sign_off(sql, demo, session_id, name="Amel Facilitator")
    again = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    assert again.id != void.id   # a new sign-off is new data: a new document
    content = _text(_pages(storage, again))
    assert "signed by Amel Facilitator (signed electronically)" in content and "sign-off void" not in content


@pytest.mark.clock_at("2026-11-17T12:05", zone="Africa/Algiers")
def test_a_register_nobody_signed_keeps_empty_boxes_for_a_pen(sql, demo, storage):
    session_id = sql.scalar(text("SELECT id FROM class_sessions WHERE cohort_id = :c AND starts_at <= :at "
                                 "AND ends_at > :at").bindparams(c=demo["public_cohort_id"], at=AT))
    ids = enrolments_by_name(sql, demo["public_cohort_id"])
    mark(sql, session_id, AT.date(), {eid: ("PRESENT", None, None) for eid in ids.values()})
    doc = build(sql, storage, demo["users"]["admin"], kind="session", session_id=session_id, format="pdf")
    content = _text(_pages(storage, doc))
    assert "signed electronically" not in content and "signed by" not in content and "name and signature" in content
    with pdfplumber.open(io.BytesIO(_pages(storage, doc))) as document:
        assert _body_images(document.pages[0]) == []
