from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from backend.money import MoneyOut
from backend.schemas import DbId, InvoiceNumber, PositiveMoneyIn, ReasonText

ConversationId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]


class DisputeCreate(BaseModel):
    line_item_id: DbId
    reason: ReasonText
    amount: PositiveMoneyIn | None = Field(default=None, description="Defaults to the whole charge")
    conversation_id: ConversationId | None = None


class CreditCreate(BaseModel):
    amount: PositiveMoneyIn
    reason: ReasonText
    line_item_id: DbId | None = None
    invoice_number: InvoiceNumber | None = None
    dispute_id: DbId | None = None


class SettleRequest(BaseModel):
    decision: Literal["accepted", "rejected"]
    note: ReasonText
    credit_amount: PositiveMoneyIn | None = Field(
        default=None, description="Accepted only; defaults to the disputed amount"
    )


class CreditOut(BaseModel):
    id: int
    customer_id: int
    amount: MoneyOut
    reason: str
    issued_by: str
    line_item_id: int | None
    invoice_number: str | None
    dispute_id: int | None
    idempotency_key: str
    created_at: datetime


class DisputeOut(BaseModel):
    id: int
    customer_id: int
    line_item_id: int
    invoice_number: str
    description: str
    charge_amount: MoneyOut
    amount: MoneyOut
    reason: str
    status: str
    resolution_note: str | None
    conversation_id: str | None
    opened_by: str
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None
    credit: CreditOut | None = None
