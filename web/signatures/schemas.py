"""Response schemas of the signatures API and the presenters that fill them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import url_for
from pydantic import BaseModel, Field

from core.signatures.reads import LearnerSignatureView, SessionSignatures, SignOffView


class SignOffOut(BaseModel):
    id: int
    subject_type: Literal["class_session", "register_document", "submission"]
    subject_id: int
    role: Literal["facilitator", "provider"]
    full_name: str
    signature: str | None
    signed_by: str | None = Field(description="The account that signed.")
    signed_at: dt.datetime
    ip_address: str | None
    data_version: str = Field(description="The version of the data signed.")
    void: bool = Field(description="True once the data changed after signing: sign again.")


class SignOffList(BaseModel):
    items: list[SignOffOut] = Field(description="Newest first; the first is the one in force unless void.")


class LearnerSignatureOut(BaseModel):
    member_id: int
    kind: Literal["drawn", "check_in"] = Field(description="A drawn signature, or a self check-in (electronic).")
    signed_at: dt.datetime
    image_url: str | None = Field(description="The drawn signature (PNG); null for a check-in.")


class SessionSignaturesOut(BaseModel):
    sign_off: SignOffOut | None = Field(description="The latest sign-off (see its `void`), or null.")
    sign_offs: list[SignOffOut] = Field(description="Every sign-off, newest first: never changed or removed.")
    learners: list[LearnerSignatureOut]


def present_sign_off(view: SignOffView) -> dict[str, object]:
    return SignOffOut(**view.__dict__).model_dump(mode="json")


def present_learner(view: LearnerSignatureView) -> dict[str, object]:
    url = (url_for("signatures.api_signature_image", signature_id=view.signature_id)
           if view.signature_id is not None else None)
    return LearnerSignatureOut(member_id=view.member_id, kind=view.kind, signed_at=view.signed_at,
                               image_url=url).model_dump(mode="json")  # type: ignore[arg-type]


def present_session(found: SessionSignatures) -> dict[str, object]:
    sign_offs = [present_sign_off(v) for v in found.sign_offs]
    return {"sign_off": sign_offs[0] if sign_offs else None, "sign_offs": sign_offs,
            "learners": [present_learner(v) for _, v in sorted(found.learners.items())]}
