from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.base import Base, utcnow


class LinkPurpose(StrEnum):
    update_method = "update_method"  # save a new card (and optionally pay, turn on autopay)
    pay = "pay"  # pay with a new card (saved as the method on file)


class LinkStatus(StrEnum):
    open = "open"
    processing = "processing"  # claimed by one submission: a second tab or a double click is refused
    completed = "completed"


class PaymentPageLink(Base):
    """One signed link. The token itself is never stored: its nonce is, to make the link single-use."""

    __tablename__ = "payment_page_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    # CASCADE: the demo seed's reset deletes customers without knowing this table.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(
        Enum(LinkPurpose, native_enum=False, length=16, create_constraint=True, name="payment_page_purpose")
    )
    status: Mapped[LinkStatus] = mapped_column(
        Enum(LinkStatus, native_enum=False, length=16, create_constraint=True, name="payment_page_status"),
        default=LinkStatus.open,
    )
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]  # when the handoff service took the outcome (null: not yet)
    # What the page did, as shown to the customer and the chat (masked method, payment, autopay): no card.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
