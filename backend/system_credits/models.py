from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.base import Base, utcnow


class AccountCheckLimits(Base):
    """A supervisor's override of the ACCOUNT_CHECK_* settings: one row (id 1), or none (settings apply)."""

    __tablename__ = "account_check_limits"

    id: Mapped[int] = mapped_column(primary_key=True)
    max_credit: Mapped[Decimal]
    max_credit_12_months: Mapped[Decimal]
    min_confidence: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
