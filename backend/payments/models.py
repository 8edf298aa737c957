from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.base import Base, utcnow
from backend.enums import PaymentStatus


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_account_received", "account_id", "received_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal]
    method: Mapped[str] = mapped_column(String(40))  # e.g. "autopay: Visa ending 4242", "online: Checking ending 6789"
    received_date: Mapped[date]
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(PaymentStatus, native_enum=False, length=16, create_constraint=True, name="payment_status")
    )
    failure_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped["Account"] = relationship()  # noqa: F821
    invoice: Mapped["Invoice | None"] = relationship()  # noqa: F821
