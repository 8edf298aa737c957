from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from backend.disputes.schemas import ConversationId, CreditOut
from backend.money import MoneyOut
from backend.schemas import DbId, ReasonText


class ReasonOut(BaseModel):
    code: str
    message: str


class InstalmentOut(BaseModel):
    number: int
    due_date: date
    amount: MoneyOut
    status: str | None = None


class ArrangementOut(BaseModel):
    id: int
    customer_id: int
    kind: str
    status: str
    amount: MoneyOut
    pay_by: date | None
    instalments: list[InstalmentOut]
    line_item_id: int | None
    credit_id: int | None
    approved_outside_policy: bool
    note: str | None
    created_by: str
    created_at: datetime
    closed_on: date | None


class PromiseOption(BaseModel):
    eligible: bool
    reasons: list[ReasonOut]
    earliest_date: date | None
    latest_date: date | None
    minimum_amount: MoneyOut | None
    maximum_amount: MoneyOut | None


class PlanChoice(BaseModel):
    instalments: int
    amount_each: MoneyOut
    schedule: list[InstalmentOut]


class PlanOption(BaseModel):
    eligible: bool
    reasons: list[ReasonOut]
    amount: MoneyOut | None
    choices: list[PlanChoice]


class WaiverOption(BaseModel):
    eligible: bool
    reasons: list[ReasonOut]
    line_item_id: int | None
    invoice_number: str | None
    amount: MoneyOut | None


class OptionsOut(BaseModel):
    currency: str
    total_due: MoneyOut
    past_due: MoneyOut
    oldest_unpaid_due_date: date | None
    active: list[ArrangementOut]
    promise_to_pay: PromiseOption
    instalment_plan: PlanOption
    late_fee_waiver: WaiverOption


class _ArrangementBase(BaseModel):
    conversation_id: ConversationId | None = None
    override_policy: bool = False
    note: ReasonText | None = None


class PromiseCreate(_ArrangementBase):
    kind: Literal["promise_to_pay"]
    amount: Any = Field(description='A string with up to two decimals, e.g. "75.00"')
    pay_by: date


class PlanCreate(_ArrangementBase):
    kind: Literal["instalment_plan"]
    instalments: int = Field(ge=1, le=24)


ArrangementCreate = Annotated[PromiseCreate | PlanCreate, Field(discriminator="kind")]


class WaiverCreate(BaseModel):
    line_item_id: DbId | None = None
    conversation_id: ConversationId | None = None


class WaiverOut(BaseModel):
    arrangement: ArrangementOut
    credit: CreditOut
    total_due: MoneyOut
