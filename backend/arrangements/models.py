from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.base import Base, utcnow


class Arrangement(Base):
    """A promise to pay, an instalment plan or a one-time late-fee waiver (docs/contracts.md, "Payments")."""

    __tablename__ = "arrangements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # promise_to_pay / instalment_plan / late_fee_waiver
    status: Mapped[str] = mapped_column(String(16))  # active / kept / completed / broken / applied
    amount: Mapped[Decimal]
    pay_by: Mapped[date | None]  # promise: the promised date; plan: the last instalment's due date
    # Late fees are not added for invoices due up to this date while the arrangement holds.
    covers_due_through: Mapped[date | None]
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id"))
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("credits.id"))
    approved_outside_policy: Mapped[bool] = mapped_column(default=False, server_default=false())
    note: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(100))
    created_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_on: Mapped[date | None]

    instalments: Mapped[list["Instalment"]] = relationship(
        back_populates="arrangement", order_by="Instalment.number", cascade="all, delete-orphan"
    )


class Instalment(Base):
    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(primary_key=True)
    arrangement_id: Mapped[int] = mapped_column(ForeignKey("arrangements.id"), index=True)
    number: Mapped[int]
    due_date: Mapped[date]
    amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(8), default="due")  # due / paid / missed

    arrangement: Mapped[Arrangement] = relationship(back_populates="instalments")
