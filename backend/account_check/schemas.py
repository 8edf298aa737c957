from datetime import date
from typing import Literal

from pydantic import BaseModel

from backend.arrangements.schemas import ReasonOut
from backend.disputes.schemas import ConversationId, CreditOut, DisputeOut
from backend.money import MoneyOut


class EvidenceLine(BaseModel):
    id: int
    invoice_number: str
    description: str
    charge_type: str
    amount: MoneyOut


class RuleOut(BaseModel):
    code: str
    title: str
    text: str


class EvidenceOut(BaseModel):
    line_items: list[EvidenceLine]
    dates: dict[str, date]
    amounts: dict[str, MoneyOut]
    policy_rule: RuleOut | None
    explanation: str


class SuggestedFix(BaseModel):
    action: Literal["credit", "explain", "specialist"]
    description: str


class FindingOut(BaseModel):
    id: str
    kind: str
    summary: str
    confidence: float
    amount: MoneyOut
    invoice_number: str
    line_item_id: int | None
    evidence: EvidenceOut
    suggested_fix: SuggestedFix
    bot_may_fix: bool
    handover_reasons: list[ReasonOut]


class FindingsOut(BaseModel):
    customer_id: int
    currency: str
    checked_on: date
    findings: list[FindingOut]


class FixRequest(BaseModel):
    conversation_id: ConversationId | None = None


class FixOut(BaseModel):
    finding_id: str
    kind: str
    status: Literal["fixed"]
    dispute: DisputeOut
    credit: CreditOut
    total_due: MoneyOut
    currency: str
    summary: str
