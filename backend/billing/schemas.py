from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from backend.enums import ChangeKind
from backend.money import DecimalOut, MoneyOut, RateOut


class LineItemOut(BaseModel):
    id: int
    description: str
    charge_type: str
    amount: MoneyOut
    quantity: DecimalOut
    unit: str
    unit_rate: RateOut | None
    period_start: date | None
    period_end: date | None
    policy_rule: str | None


class LineItemWithInvoiceOut(LineItemOut):
    invoice_number: str


class InvoiceOut(BaseModel):
    number: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    status: str
    total: MoneyOut
    amount_due: MoneyOut
    currency: str


class InvoiceDetailOut(InvoiceOut):
    line_items: list[LineItemOut]


class LastPaymentOut(BaseModel):
    amount: MoneyOut
    received_date: date
    method: str
    status: str


class BalanceOut(BaseModel):
    account_number: str
    currency: str
    total_due: MoneyOut
    past_due: MoneyOut
    next_due_date: date | None
    next_due_amount: MoneyOut | None
    pending_payments: MoneyOut
    last_payment: LastPaymentOut | None


class ExplanationOut(BaseModel):
    line_item: LineItemOut
    invoice_number: str
    summary: str
    computation: str
    policy: str
    facts: dict[str, Any]


class ChangeOut(BaseModel):
    kind: ChangeKind
    description: str
    charge_type: str
    previous_amount: MoneyOut
    current_amount: MoneyOut
    difference: MoneyOut
    explanation: str


class BillComparisonOut(BaseModel):
    invoice_number: str
    previous_invoice_number: str
    currency: str
    current_total: MoneyOut
    previous_total: MoneyOut
    difference: MoneyOut
    summary: str
    changes: list[ChangeOut]


def line_item_out(line: Any) -> LineItemOut:
    return LineItemOut(
        id=line.id,
        description=line.description,
        charge_type=str(line.charge_type),
        amount=line.amount,
        quantity=Decimal(line.quantity),
        unit=line.unit,
        unit_rate=Decimal(line.unit_rate) if line.unit_rate is not None else None,
        period_start=line.period_start,
        period_end=line.period_end,
        policy_rule=line.policy_rule,
    )
