"""What the supervisor's report and the readable audit log answer (docs/contracts.md, "Supervisor
reports")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# The backend's BillingActivity (docs/contracts.md): amounts stay the backend's two-decimal strings.
Money = Field(pattern=r"^-?[0-9]+\.[0-9]{2}$")


class MoneyTotal(BaseModel):
    currency: str
    count: int
    amount: str = Money


class Figures(BaseModel):
    conversations: int
    contained: int = Field(description="Never escalated to a person")
    containment_rate: float | None
    escalated: int
    resolved: int = Field(description="Resolved by outcome (see definitions.resolution)")
    resolution_rate: float | None
    bot_resolved: int = Field(description="Resolved and contained")
    bot_resolution_rate: float | None
    abandoned_in_queue: int
    abandoned_mid_flow: int
    repeat_contacts: int
    wait_median_seconds: float | None
    wait_p90_seconds: float | None
    handling_median_seconds: float | None
    handling_p90_seconds: float | None
    csat_average: float | None
    csat_responses: int


class TeamFigures(Figures):
    team: str = Field(description="disputes, payments or general")
    label: str


class SpecialistFigures(Figures):
    username: str
    display_name: str
    credits_issued: list[MoneyTotal] | None = Field(
        description="Credits this person issued, one entry per currency; null when the billing system failed")
    payments_taken: list[MoneyTotal] | None = Field(
        description="Payments this person took in chat, one entry per currency; null when the billing system "
                    "failed")


class EscalationReasonCount(BaseModel):
    reason: str
    label: str
    count: int


class DayCount(BaseModel):
    date: str
    conversations: int
    escalated: int
    resolved: int




class CreditGroup(BaseModel):
    reason: str
    currency: str
    count: int
    amount: str = Money


class IssuerGroup(BaseModel):
    issued_by: str
    currency: str
    count: int
    amount: str = Money


class CreditActivity(BaseModel):
    count: int
    by_reason: list[CreditGroup]
    by_issuer: list[IssuerGroup]


class DisputeGroup(BaseModel):
    outcome: str
    currency: str
    count: int
    amount: str = Money


class ResolverGroup(BaseModel):
    resolved_by: str
    outcome: str
    count: int


class DisputeActivity(BaseModel):
    opened: int
    by_outcome: list[DisputeGroup]
    by_resolver: list[ResolverGroup]


class PaymentGroup(BaseModel):
    source: str
    status: str
    currency: str
    count: int
    amount: str = Money


class PaymentActorGroup(BaseModel):
    actor: str
    currency: str
    count: int
    amount: str = Money


class PaymentActivity(BaseModel):
    by_source: list[PaymentGroup]
    by_actor: list[PaymentActorGroup]


class BillingActivity(BaseModel):
    start: str
    end: str
    credits: CreditActivity
    disputes: DisputeActivity
    payments: PaymentActivity


class ReportResponse(BaseModel):
    """The report for local dates [start, end] in `timezone`; `billing` is null when the backend failed."""

    start: str
    end: str
    timezone: str
    overall: Figures
    teams: list[TeamFigures] = Field(description="Every team, with the escalated chats of its queue")
    specialists: list[SpecialistFigures]
    escalations_by_reason: list[EscalationReasonCount]
    by_day: list[DayCount]
    csat_distribution: dict[str, int]
    billing: BillingActivity | None = Field(
        description="The backend's BillingActivity (docs/contracts.md): credits, disputes, payments")
    billing_error: str | None
    definitions: dict[str, str]


class ReadableAuditEntry(BaseModel):
    at: str
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None
    at_local: str = Field(description="YYYY-MM-DD HH:MM:SS in HANDOFF_TIMEZONE")
    first_at: str = Field(description="The oldest of the folded entries (= at when count is 1)")
    actor_name: str
    target_label: str | None
    count: int = Field(description="Consecutive identical entries folded into this one")


class ReadableAuditLogResponse(BaseModel):
    timezone: str
    entries: list[ReadableAuditEntry]
