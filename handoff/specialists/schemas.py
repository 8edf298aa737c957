"""What the console API reads and answers (/api/console/...), as pydantic models so /openapi.json shows them.

The answers are the JSON the console page and the tests read (handoff/README.md, "Console API"): same keys,
same order; a key the service leaves out when it has no value (a message's agent_name, client_id, custom)
stays out.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from handoff.conversations.states import State
from handoff.queue.teams import Team
from handoff.vocabulary import DisputeDecision, EscalationReason, ResolveOutcome, Sender, StaffRole

# -- requests ------------------------------------------------------------------------------------------------

MAX_CREDIT = Decimal("1000000.00")
_MONEY = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?$")


def credit_amount(value: object) -> str | None:
    """A credit typed by a specialist ("49.99", "$1,049.99"): never negative, zero, sub-cent or huge."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("money_type", 'Send the amount as a string like "12.50", not a number.')
    text = value.strip().removeprefix("$").replace(",", "")
    if text.startswith("-"):
        raise PydanticCustomError("money_negative", "A credit must be a positive amount.")
    if not _MONEY.match(text):
        raise PydanticCustomError(
            "money_format", "Give the credit in dollars and cents, like 12.50 (no fractions of a cent).")
    amount = Decimal(text)
    if amount <= 0:
        raise PydanticCustomError("money_zero", "A credit must be more than 0.00.")
    if amount > MAX_CREDIT:
        raise PydanticCustomError("money_too_large", "A credit cannot be more than 1,000,000.00.")
    return f"{amount:.2f}"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TransferRequest(BaseModel):
    """To a person (`to_username`) or back to a team's queue (`to_team`, issue 17): exactly one."""

    to_username: str | None = Field(default=None, min_length=1, max_length=64)
    to_team: Team | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TransferRequest:
        if (self.to_username is None) == (self.to_team is None):
            raise ValueError("give either to_username or to_team")
        return self


class AgentMessageRequest(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    client_id: str | None = Field(default=None, max_length=64)


class SettleRequest(BaseModel):
    decision: DisputeDecision
    note: str = Field(default="", max_length=2000)
    credit_amount: str | None = None

    @field_validator("credit_amount", mode="before")
    @classmethod
    def _credit_amount(cls, value: object) -> str | None:
        return credit_amount(value)


class ResolveRequest(BaseModel):
    outcome: ResolveOutcome


# -- answers -------------------------------------------------------------------------------------------------

def _absent(value: object) -> bool:
    return value is None


# A key the service sends only when it has a value: documented as optional, left out of the JSON when None.
Omitted = Field(default=None, exclude_if=_absent)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every refusal: a stable code and a message fit to show (never a stack trace)."""

    error: ErrorBody


# Refusals every console route can give (the security middleware adds 403 csrf_failed / cross_site_request).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not signed in, or the session ended"},
    403: {"model": ErrorResponse, "description": "Not their role or chat, or a CSRF/origin refusal"},
    422: {"model": ErrorResponse, "description": "The request is not valid"},
}


class OkResponse(BaseModel):
    ok: bool = True


class StaffUserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: StaffRole
    teams: list[Team] = Field(default_factory=list,
                              description="The queues they work (issue 17); a supervisor works every team's")


class LoginResponse(BaseModel):
    token: str = Field(description="The session token (also set as the HttpOnly cookie handoff_session)")
    user: StaffUserOut
    csrf_token: str = Field(description="Send as X-CSRF-Token with every change made with the session cookie")


class MeResponse(StaffUserOut):
    csrf_token: str


class QueueEntryOut(BaseModel):
    conversation_id: str
    position: int
    state: State
    reason: EscalationReason | None
    customer_id: int | None
    customer_name: str | None
    channel: Literal["chat", "email"] = Field(default="chat", description="chat or email (issue 19)")
    dispute_amount: str | None = Field(description="Decimal as a string, e.g. 49.99")
    ticket_number: str | None
    summary: str | None
    queued_at: str
    waiting_seconds: int
    team: Team = Field(description="The team whose queue it waits in (issue 17)")
    sla_breached: bool = Field(description="Queued longer than the team's HANDOFF_SLA_SECONDS threshold")


class QueueResponse(BaseModel):
    entries: list[QueueEntryOut]


class AssigneeOut(BaseModel):
    username: str
    display_name: str


class ConversationSummary(BaseModel):
    conversation_id: str
    state: State
    customer_id: int | None
    customer_name: str | None
    channel: Literal["chat", "email"] = Field(default="chat", description="chat or email (issue 19)")
    reason: EscalationReason | None
    context: dict[str, Any] | None = Field(description="What the bot handed over: reason, summary, slots")
    dispute_id: int | None
    dispute_amount: str | None = Field(description="Decimal as a string, e.g. 49.99")
    ticket_number: str | None
    assigned_to: AssigneeOut | None
    csat_score: int | None
    last_seq: int
    created_at: str


class MyChatsResponse(BaseModel):
    chats: list[ConversationSummary]


class MessageOut(BaseModel):
    """One stored message, as the widget protocol's `message` frame."""

    type: Literal["message"] = "message"
    seq: int
    sender: Sender
    text: str
    buttons: list[dict[str, Any]]
    created_at: str
    agent_name: str | None = Omitted
    client_id: str | None = Omitted
    custom: dict[str, Any] | None = Omitted


class Person(BaseModel):
    username: str
    display_name: str


class NoteOut(BaseModel):
    """An internal note on a conversation (issue 17)."""

    id: int
    conversation_id: str
    text: str
    author: Person
    created_at: str


class ConversationDetail(ConversationSummary):
    messages: list[MessageOut]
    notes: list[NoteOut] = Field(description="Internal notes: staff only, never sent to the customer or Rasa")
    dispute_status: Literal["accepted", "rejected"] | None = Field(
        description="Set once the chat's dispute was settled from the console")


class ColleagueOut(BaseModel):
    username: str
    display_name: str
    role: StaffRole
    online: bool
    away: bool = Field(description="Connected but away: not counted as online")


class ColleaguesResponse(BaseModel):
    staff: list[ColleagueOut]


class AccountSectionLoaded(BaseModel):
    ok: Literal[True]
    data: Any = Field(description="The backend's answer, as the backend sent it")


class AccountSectionFailed(BaseModel):
    ok: Literal[False]
    error: ErrorBody


AccountSection = Annotated[AccountSectionLoaded | AccountSectionFailed, Field(discriminator="ok")]


class AccountSnapshot(BaseModel):
    """Each section on its own: one the backend could not give does not hide the others."""

    customer_id: int
    customer: AccountSection
    balance: AccountSection
    invoices: AccountSection
    payments: AccountSection
    disputes: AccountSection
    payment_methods: AccountSection = Field(
        description="GET payment-methods: on_file (masked, expired), autopay, last_autopay, alerts")
    arrangements: AccountSection = Field(description="GET arrangements: every kind and state, newest first")
    findings: AccountSection = Field(
        description="GET findings (issue 18): the account check's findings with evidence, confidence, "
        "whether the bot may fix them and why not")


class ClaimResponse(BaseModel):
    ok: bool = True
    conversation_id: str
    assigned_to: str


class SettleResponse(BaseModel):
    ok: bool = True
    dispute: dict[str, Any] = Field(description="The settled dispute, as the backend answered")


class AuditEntryOut(BaseModel):
    at: str
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class AuditExportEntry(AuditEntryOut):
    id: int


class AuditExport(BaseModel):
    """The JSON download of GET audit/export?format=json."""

    start: str
    end: str
    count: int
    truncated: bool = Field(description="True when the range held more entries than one export gives")
    entries: list[AuditExportEntry]
