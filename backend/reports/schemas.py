from datetime import datetime

from pydantic import BaseModel

from backend.money import MoneyOut


class CreditsByReason(BaseModel):
    reason: str
    currency: str
    count: int
    amount: MoneyOut


class CreditsByIssuer(BaseModel):
    issued_by: str
    currency: str
    count: int
    amount: MoneyOut


class CreditsOut(BaseModel):
    count: int
    by_reason: list[CreditsByReason]
    by_issuer: list[CreditsByIssuer]


class DisputesByOutcome(BaseModel):
    outcome: str
    currency: str
    count: int
    amount: MoneyOut


class DisputesByResolver(BaseModel):
    resolved_by: str
    outcome: str
    count: int


class DisputesOut(BaseModel):
    opened: int
    by_outcome: list[DisputesByOutcome]
    by_resolver: list[DisputesByResolver]


class PaymentsBySource(BaseModel):
    source: str
    status: str
    currency: str
    count: int
    amount: MoneyOut


class PaymentsByActor(BaseModel):
    actor: str
    currency: str
    count: int
    amount: MoneyOut


class PaymentsOut(BaseModel):
    by_source: list[PaymentsBySource]
    by_actor: list[PaymentsByActor]


class BillingActivityOut(BaseModel):
    start: datetime
    end: datetime
    credits: CreditsOut
    disputes: DisputesOut
    payments: PaymentsOut
