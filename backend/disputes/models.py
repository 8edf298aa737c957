from datetime import datetime
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.base import Base, utcnow
from backend.enums import DisputeStatus

_OPEN = text("status IN ('open', 'under_review')")


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (
        # At most one open dispute per line item, enforced by the database as well as the service.
        Index(
            "uq_disputes_open_line_item", "line_item_id", unique=True, sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(
        Enum(DisputeStatus, native_enum=False, length=16, create_constraint=True, name="dispute_status"),
        default=DisputeStatus.open,
    )
    resolution_note: Mapped[str | None] = mapped_column(Text)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    opened_by: Mapped[str] = mapped_column(String(100))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # A supervisor's reversal of the system's credit (backend/system_credits/, issue 18): who, when and why.
    reversed_by: Mapped[str | None] = mapped_column(String(100))
    reversed_at: Mapped[datetime | None]
    reversal_reason: Mapped[str | None] = mapped_column(Text)


class Credit(Base):
    """An adjustment that lowers what the customer owes; always tied to an invoice, line item or dispute."""

    __tablename__ = "credits"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"), index=True)
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
