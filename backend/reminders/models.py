"""One row per reminder sent: unique per (customer, subject, kind), so a reminder exists at most once."""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.base import Base, utcnow


class ReminderKind(StrEnum):
    due_soon = "due_soon"
    past_due = "past_due"
    autopay_failed = "autopay_failed"
    card_expiring = "card_expiring"
    promise_due = "promise_due"


class Reminder(Base):
    __tablename__ = "payment_reminders"
    __table_args__ = (UniqueConstraint("customer_id", "subject", "kind", name="uq_payment_reminders_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: the demo seed's reset deletes customers without knowing this table.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(
        Enum(ReminderKind, native_enum=False, length=16, create_constraint=True, name="reminder_kind")
    )
    # What it is about: invoice:<number>, payment:<id>, card:<method id>:<YYYY-MM>, arrangement:<id>,
    # instalment:<id>
    subject: Mapped[str] = mapped_column(String(64))
    invoice_number: Mapped[str | None] = mapped_column(String(15))
    amount: Mapped[Decimal | None]
    due_date: Mapped[date | None]
    day: Mapped[date]  # the billing job's day that sent it
    mail_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]  # the customer saw it in the chat widget
