from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.base import Base, utcnow
from backend.enums import PaymentStatus

if TYPE_CHECKING:
    from backend.billing.models import Invoice
    from backend.customers.models import Account


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_account_received", "account_id", "received_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal]
    # e.g. "autopay: Visa ending 4242", "online: Checking ending 6789"
    method: Mapped[str] = mapped_column(String(40))
    received_date: Mapped[date]
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(PaymentStatus, native_enum=False, length=16, create_constraint=True, name="payment_status")
    )
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Payments taken by this backend (issue 16); older rows have source "external" and no key or reference.
    source: Mapped[str] = mapped_column(String(16), default="external", server_default="external")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    processor_reference: Mapped[str | None] = mapped_column(String(128), unique=True)
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    actor: Mapped[str | None] = mapped_column(String(100))
    expected_post_date: Mapped[date | None]
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped["Account"] = relationship()
    invoice: Mapped["Invoice | None"] = relationship()


class PaymentQuote(Base):
    """What the customer is asked to confirm: amount and method, single use, short-lived."""

    __tablename__ = "payment_quotes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # pq_ + 32 random characters
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    payment_method_id: Mapped[int] = mapped_column(ForeignKey("payment_methods.id"))
    amount_choice: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)


class IdempotencyRecord(Base):
    """The answer given to an Idempotency-Key, so a retry gets it again and another request with it a 409."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None]
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessorEvent(Base):
    """Each processor webhook event once (its id); `outcome` says what it did, `deferred` ones wait for their
    payment to be recorded."""

    __tablename__ = "processor_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
