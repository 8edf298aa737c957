from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from backend.money import MoneyOut
from backend.schemas import DbId


class PaymentOut(BaseModel):
    id: int
    amount: MoneyOut
    method: str
    received_date: date
    status: str
    failure_reason: str | None
    invoice_number: str | None
    source: str = "external"
    processor_reference: str | None = None
    actor: str | None = None
    expected_post_date: date | None = None


class PaymentMethodOnFile(BaseModel):
    kind: str
    masked: str
    is_default: bool
    expired: bool
    id: int | None = None
    brand: str | None = None
    last4: str | None = None
    expires_on: date | None = None


class WayToPay(BaseModel):
    kind: str
    instructions: str


class Alert(BaseModel):
    code: Literal["method_expired", "no_payment_method", "autopay_failed"]
    message: str


class LastAutopay(BaseModel):
    amount: MoneyOut
    received_date: date
    status: str
    failure_reason: str | None


class PaymentMethodsOut(BaseModel):
    autopay: bool
    on_file: list[PaymentMethodOnFile]
    ways_to_pay: list[WayToPay]
    paperless: bool = False
    next_autopay_date: date | None = None
    last_autopay: LastAutopay | None = None
    alerts: list[Alert] = Field(default_factory=list)


# --- writes (issue 16) ----------------------------------------------------------------------------
class PaymentMethodCreate(BaseModel):
    token: str = Field(min_length=4, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$")
    make_default: bool = True


class PaymentMethodOut(BaseModel):
    id: int
    kind: str
    brand: str
    last4: str
    expires_on: date | None
    masked: str
    is_default: bool
    expired: bool


class QuoteCreate(BaseModel):
    amount_choice: Literal["past_due", "full_balance", "amount"]
    # Any: a number, three decimals or words get the clear `invalid_amount` answer from the service.
    amount: Any = None
    payment_method_id: DbId | None = None


class QuoteOut(BaseModel):
    quote_id: str
    customer_id: int
    amount_choice: str
    amount: MoneyOut
    currency: str
    method: PaymentMethodOut
    total_due: MoneyOut
    past_due: MoneyOut
    total_due_after: MoneyOut
    expires_at: datetime
    status: Literal["open", "confirmed", "expired"]
    payment_id: int | None
    summary: str


class PaymentResultOut(BaseModel):
    id: int
    customer_id: int
    amount: MoneyOut
    currency: str
    status: str
    method: str
    payment_method_id: int | None
    received_date: date
    expected_post_date: date | None
    failure_reason: str | None
    failure_message: str | None
    processor_reference: str | None
    quote_id: str | None
    source: str
    actor: str | None
    total_due: MoneyOut
    past_due: MoneyOut
    pending_payments: MoneyOut


class ToggleIn(BaseModel):
    enabled: bool


class AutopayOut(BaseModel):
    autopay: bool
    next_autopay_date: date | None
    next_autopay_amount: MoneyOut | None
    method: str | None
    message: str


class PaperlessOut(BaseModel):
    paperless: bool
    email: str
    message: str


class WebhookOut(BaseModel):
    event_id: str
    outcome: Literal["applied", "duplicate", "ignored", "deferred"]
