from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.base import Base, utcnow
from backend.enums import ChargeType, InvoiceStatus

if TYPE_CHECKING:  # for the type checker only: the mapper resolves "Account" by name
    from backend.customers.models import Account


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    monthly_price: Mapped[Decimal]
    data_allowance_gb: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    overage_rate_per_gb: Mapped[Decimal | None]


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]

    plan: Mapped[Plan] = relationship()
    account: Mapped["Account"] = relationship()


class PolicyRule(Base):
    """A billing rule that produces charges; explanations quote it from here, not from code."""

    __tablename__ = "policy_rules"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_account_issue", "account_id", "issue_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number: Mapped[str] = mapped_column(String(15), unique=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    issue_date: Mapped[date]
    due_date: Mapped[date]
    status: Mapped[InvoiceStatus] = mapped_column(
        Enum(InvoiceStatus, native_enum=False, length=16, create_constraint=True, name="invoice_status"),
        default=InvoiceStatus.open,
    )
    total: Mapped[Decimal]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped["Account"] = relationship()
    line_items: Mapped[list["LineItem"]] = relationship(
        back_populates="invoice", order_by="LineItem.position", cascade="all, delete-orphan"
    )


class LineItem(Base):
    __tablename__ = "line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    charge_type: Mapped[ChargeType] = mapped_column(
        Enum(ChargeType, native_enum=False, length=16, create_constraint=True, name="charge_type")
    )
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal]
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), default=Decimal("1"))
    unit: Mapped[str] = mapped_column(String(16), default="item")
    unit_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    policy_rule: Mapped[str | None] = mapped_column(ForeignKey("policy_rules.code"))
    # The facts that produced the amount (plan prices, days, usage, related invoice, ...).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    invoice: Mapped[Invoice] = relationship(back_populates="line_items")
