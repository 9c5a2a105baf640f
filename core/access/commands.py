"""Typed commands for accounts: the profile screen, the CLI and tests build them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from core.fields import Command, clean_text

TokenName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(clean_text)]


class CreateApiToken(Command):
    name: TokenName = "API token"
