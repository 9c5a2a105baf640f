"""The pattern the API description publishes for emails is a subset of what the validators
accept: a client that follows the description is never refused for the shape of the value."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports.contacts import normalize_email
from core.input_fields import PLAIN_EMAIL


@settings(max_examples=300, derandomize=True, database=None)
@given(st.from_regex(re.compile(PLAIN_EMAIL, re.ASCII), fullmatch=True))
def test_every_email_the_description_allows_is_accepted(raw):
    normalized, problem = normalize_email(raw)
    assert problem is None and normalized == raw.lower()
