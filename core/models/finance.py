"""Corporate finance (issue 23): invoices and credit notes with frozen lines, payments, the gap-free counters
that number them, and the history of an agreement's commercial terms.

Amounts are integers in the currency's minor unit (core.finance.money); rates are hundredths of a percent.
Once an invoice or credit note is issued its row's money columns and its lines never change: triggers of
migration 0021 refuse it in the database (PostgreSQL and SQLite alike).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, Timestamped, utcnow


class DocumentCounter(Base):
    """The last number given per institution, kind (invoice, credit note) and year: taken FOR UPDATE in the
    issuing transaction, so numbers are consecutive and a rolled-back issue gives its number back."""

    __tablename__ = "finance_counters"

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Timestamped, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("institution_id", "number"),
        CheckConstraint("period_to >= period_from", name="period_ordered"),
        CheckConstraint("paid >= 0 AND credited >= 0 AND paid + credited <= total OR status = 'draft'",
                        name="not_overpaid"),
        Index("ix_invoices_org_status", "organization_id", "status"),
        Index("ix_invoices_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("corporate_agreements.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    period_from: Mapped[dt.date]
    period_to: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    credited: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    issued_on: Mapped[dt.date | None]
    due_on: Mapped[dt.date | None]
    issued_at: Mapped[dt.datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="en")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("register_documents.id", ondelete="SET NULL"))
    overdue_notified_at: Mapped[dt.datetime | None]
    # The statuses an attended-days draft counted (frozen with the invoice and printed on it; migration 0026).
    billed_statuses: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def balance(self) -> int:
        return self.total - self.paid - self.credited


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    period_key: Mapped[str | None] = mapped_column(String(20))   # a fixed-price part, billed once
    # The registers (sessions) the line rests on and what each contributed: [[session_id, quantity], …].
    registers: Mapped[Any] = mapped_column(Text, default="[]")
    reason: Mapped[str | None] = mapped_column(String(500))      # why a draft line was added or changed by hand


class CreditNote(Timestamped, Base):
    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("institution_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    number: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("register_documents.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Payment(Timestamped, Base):
    __tablename__ = "invoice_payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[dt.date]
    reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AgreementTermsChange(Base):
    """A change of an ACTIVE agreement's terms: who, when, why, from what to what."""

    __tablename__ = "agreement_terms_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("corporate_agreements.id", ondelete="CASCADE"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(500))
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
