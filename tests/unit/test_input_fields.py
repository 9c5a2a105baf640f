"""The patterns the API description publishes for emails and mobiles are subsets of what the validators
accept: a client that follows the description is never refused for the shape of the value."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports.contacts import normalize_dz_mobile, normalize_email
from core.input_fields import DZ_MOBILE, PLAIN_EMAIL


@settings(max_examples=300, derandomize=True, database=None)
@given(st.from_regex(re.compile(DZ_MOBILE, re.ASCII), fullmatch=True))
def test_every_mobile_the_description_allows_is_accepted(raw):
    e164, reason = normalize_dz_mobile(raw)
    assert reason is None and e164 is not None and e164.startswith("+213")


@settings(max_examples=300, derandomize=True, database=None)
@given(st.from_regex(re.compile(PLAIN_EMAIL, re.ASCII), fullmatch=True))
def test_every_email_the_description_allows_is_accepted(raw):
    normalized, problem = normalize_email(raw)
    assert problem is None and normalized == raw.lower()
