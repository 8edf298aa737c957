"""The outbox: one row per email, rendered when queued, sent by the send loop (backend/mail/sender.py)."""
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.base import Base, utcnow


class MailStatus(StrEnum):
    queued = "queued"
    sending = "sending"  # claimed by one worker
    sent = "sent"
    failed = "failed"  # permanent refusal or the last attempt: kept, logged, never retried
    suppressed = "suppressed"  # reminder-type mail and the customer turned reminders off


class MailMessage(Base):
    __tablename__ = "mail_messages"
    __table_args__ = (Index("ix_mail_messages_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    # CASCADE: the demo seed's reset deletes customers without knowing this table.
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=True
    )
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # threading and list headers
    attachments: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, native_enum=False, length=16, create_constraint=True, name="mail_status"),
        default=MailStatus.queued,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class MailPreference(Base):
    """What a customer chose on the preferences page; no row = the defaults (reminders on)."""

    __tablename__ = "mail_preferences"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    reminders: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
