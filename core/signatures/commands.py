"""Typed commands of the signature use cases; web/ builds them from a request body or a screen form."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from core.fields import Command, Name, ShortText

# Kept as typed (commands trim strings; a password's spaces are part of it).
Password = Annotated[str, StringConstraints(strip_whitespace=False), Field(
    max_length=1024, description="Your current password: API tokens send it with the request (screens confirm it "
                                 "beforehand).")]


class SignOffCommand(Command):
    """`{"full_name", "signature"?}`; a `password` from API tokens (a fresh confirmation)."""

    full_name: Name = Field(description="The signer's full name as it goes on the register.")
    signature: ShortText | None = Field(None, description="Optional: initials or a short statement.")
    password: Password | None = None


class LearnerSignatureCommand(Command):
    """A learner's drawn signature, as the signature pad gives it: a PNG data URL."""

    image: str = Field(max_length=700_000, description="data:image/png;base64,… (at most 512 KB of PNG).")
