"""Pure rules of signatures (issue 22): how long a password confirmation lasts, what a drawn signature must be,
and the PDF fetcher serving only PNG signatures."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import clock
from core.access.confirmation import FRESH_FOR, PasswordConfirmationRequired, confirm_password, is_fresh
from core.errors import TooLarge, ValidationError
from core.registers import pdf
from core.signatures.learners import MAX_BYTES, decode_png
from tests.signature_factories import data_url, drawn_png


def test_a_confirmation_is_fresh_for_five_minutes_and_not_a_moment_more():
    now = clock.now()
    with clock.frozen_at(now):   # the suite's clock moves on from its pinned instant: hold it still here
        assert is_fresh(now) and is_fresh(now - FRESH_FOR)
        assert not is_fresh(now - FRESH_FOR - dt.timedelta(seconds=1))
    assert not is_fresh(None)


def test_a_confirmation_from_the_future_is_not_fresh():
    assert not is_fresh(clock.now() + dt.timedelta(minutes=1))


def test_no_password_and_no_fresh_confirmation_raises_the_403_code():
    with pytest.raises(PasswordConfirmationRequired) as raised:
        confirm_password(None, None, None, clock.now() - dt.timedelta(minutes=6))  # type: ignore[arg-type]
    assert raised.value.http_status == 403 and raised.value.code == "password_confirmation_required"


def test_a_fresh_confirmation_passes_without_the_password():
    confirm_password(None, None, None, clock.now() - dt.timedelta(minutes=4))  # type: ignore[arg-type]


def test_a_drawn_signature_round_trips_to_its_png_bytes():
    png = drawn_png()
    assert decode_png(data_url(png)) == png


@given(st.text(max_size=200))
def test_anything_else_is_refused_as_invalid_not_a_crash(image):
    with pytest.raises(ValidationError):
        decode_png(image if not image.startswith("data:image/png;base64,") else image + "!")


def test_a_png_wider_than_4000_pixels_is_refused():
    png = bytearray(drawn_png())
    png[16:20] = (5000).to_bytes(4, "big")
    with pytest.raises(ValidationError):
        decode_png(data_url(bytes(png)))


def test_a_signature_over_the_limit_is_refused_as_too_large():
    with pytest.raises(TooLarge):
        decode_png("data:image/png;base64," + base64.b64encode(b"\0" * (MAX_BYTES + 10)).decode())


def test_the_pdf_fetcher_serves_a_png_signature_and_refuses_anything_else():
    fetcher = pdf.allow_list_fetcher()
    served = fetcher.fetch(pdf.signature_image_url(drawn_png()))
    assert served is not None
    with pytest.raises(ValueError):
        fetcher.fetch(pdf.SIGNATURE_SCHEME + base64.b64encode(b"<svg onload=alert(1)>").decode())
