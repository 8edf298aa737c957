from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.money import MoneyOut
from backend.schemas import ReasonText

LimitMoneyIn = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="Amount as a string, up to 2 decimals")
]
ReversalReason = Annotated[ReasonText, StringConstraints(max_length=500)]


class ReverseRequest(BaseModel):
    reason: ReversalReason


class ReversalOut(BaseModel):
    credit_id: int
    amount: MoneyOut
    reversed_by: str
    reason: str
    created_at: datetime


class SystemCreditOut(BaseModel):
    credit_id: int
    customer_id: int
    invoice_number: str | None
    dispute_id: int | None
    amount: MoneyOut
    currency: str
    reason: str
    issued_by: str
    created_at: datetime
    reversal: ReversalOut | None


class SystemCreditsOut(BaseModel):
    start: datetime
    end: datetime
    credits: list[SystemCreditOut]


class LimitsIn(BaseModel):
    max_credit: LimitMoneyIn
    max_credit_12_months: LimitMoneyIn
    min_confidence: float = Field(ge=0, le=1)
    reason: ReversalReason


class LimitValues(BaseModel):
    max_credit: MoneyOut
    max_credit_12_months: MoneyOut
    min_confidence: float


class LimitsOut(LimitValues):
    source: Literal["settings", "override"]
    updated_by: str | None
    updated_at: datetime | None
    defaults: LimitValues
