"""An institution's seal: the certificate and (encrypted) private key that seal every PDF it issues (issue 22).

One seal is in force per institution (`replaced_at` NULL); a replaced one is kept, certificate and all, so a
document sealed before the replacement still verifies against the certificate that sealed it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped


class InstitutionSeal(Timestamped, Base):
    __tablename__ = "institution_seals"
    __table_args__ = (
        Index("uq_institution_seals_in_force", "institution_id", unique=True,
              postgresql_where=text("replaced_at IS NULL"), sqlite_where=text("replaced_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the certificate (DER), lower-case hex: what the verification page shows for comparison.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text)
    # The private key (PKCS#8 DER) sealed with AES-256-GCM under a key derived from SEAL_KEY_SECRET
    # (core.seals.keys): nonce + ciphertext. Never plain text, never exported.
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(16))  # generated | uploaded
    subject: Mapped[str] = mapped_column(String(400))
    not_before: Mapped[dt.datetime]
    not_after: Mapped[dt.datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replaced_at: Mapped[dt.datetime | None]
