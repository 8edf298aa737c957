from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.base import Base, utcnow
from backend.enums import AccountStatus


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(254))
    postal_code: Mapped[str] = mapped_column(String(16))
    phone_last4: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped["Account"] = relationship(back_populates="customer", uselist=False)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    number: Mapped[str] = mapped_column(String(10), unique=True)
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=16, create_constraint=True, name="account_status"),
        default=AccountStatus.active,
    )
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    autopay: Mapped[bool] = mapped_column(default=False)
    paperless: Mapped[bool] = mapped_column(default=False, server_default=false())
    opened_on: Mapped[date]

    customer: Mapped[Customer] = relationship(back_populates="account")
    payment_methods: Mapped[list["PaymentMethod"]] = relationship(
        back_populates="account", order_by="PaymentMethod.id"
    )


class PaymentMethod(Base):
    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # card / bank_account
    brand: Mapped[str] = mapped_column(String(32))  # "Visa", "Checking"
    last4: Mapped[str] = mapped_column(String(4))
    expires_on: Mapped[date | None]
    is_default: Mapped[bool] = mapped_column(default=True)
    # The processor's token (never card data); rows from before payments were taken here have none.
    processor: Mapped[str | None] = mapped_column(String(16))
    token: Mapped[str | None] = mapped_column(String(255), unique=True)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship(back_populates="payment_methods")

    @property
    def masked(self) -> str:
        text = f"{self.brand} ending {self.last4}"
        if self.expires_on is not None:
            text += f" (expires {self.expires_on:%m/%Y})"
        return text


class VerificationState(Base):
    """Failed verification answers per account number, also for numbers that do not exist (no enumeration)."""

    __tablename__ = "verification_states"

    account_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
