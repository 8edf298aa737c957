from datetime import date

from pydantic import BaseModel

from backend.money import MoneyOut


class PaymentOut(BaseModel):
    id: int
    amount: MoneyOut
    method: str
    received_date: date
    status: str
    failure_reason: str | None
    invoice_number: str | None


class PaymentMethodOnFile(BaseModel):
    kind: str
    masked: str
    is_default: bool
    expired: bool


class WayToPay(BaseModel):
    kind: str
    instructions: str


class PaymentMethodsOut(BaseModel):
    autopay: bool
    on_file: list[PaymentMethodOnFile]
    ways_to_pay: list[WayToPay]
