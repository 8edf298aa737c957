"""The supervisor's system credits and the bot's limits (docs/contracts.md, "System credits", issue 18)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

ReasonIn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
MoneyIn = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class Reversal(BaseModel):
    credit_id: int
    amount: str
    reversed_by: str
    reason: str
    created_at: datetime


class SystemCredit(BaseModel):
    credit_id: int
    customer_id: int
    invoice_number: str | None
    dispute_id: int | None
    amount: str
    currency: str
    reason: str
    issued_by: str
    created_at: datetime
    reversal: Reversal | None


class SystemCreditsResponse(BaseModel):
    start: date
    end: date
    timezone: str
    credits: list[SystemCredit]


class ReverseRequest(BaseModel):
    reason: ReasonIn


class ReverseResponse(BaseModel):
    ok: bool = True
    credit: SystemCredit


class LimitValues(BaseModel):
    max_credit: str
    max_credit_12_months: str
    min_confidence: float


class Limits(LimitValues):
    source: Literal["settings", "override"]
    updated_by: str | None
    updated_at: datetime | None
    defaults: LimitValues


class LimitsIn(BaseModel):
    max_credit: MoneyIn
    max_credit_12_months: MoneyIn
    min_confidence: float = Field(ge=0, le=1)
    reason: ReasonIn
