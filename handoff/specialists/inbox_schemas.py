"""What the console's inbox features send and get back (issue 17): internal notes, canned responses, credits
without a dispute (maker-checker) and presence (docs/contracts.md, "Specialist inbox")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.specialists.payment_schemas import RequestId
from handoff.specialists.schemas import ConversationSummary, Person, credit_amount

CreditReason = Literal["goodwill", "billing_error", "service_issue"]
CreditStatus = Literal["issued", "pending_approval", "rejected"]


# -- internal notes ------------------------------------------------------------------------------------------

class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


# -- canned responses ----------------------------------------------------------------------------------------

class CannedResponseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=2000)


class CannedResponseOut(BaseModel):
    id: int
    title: str
    body: str
    updated_by: str
    updated_at: str


class CannedResponsesResponse(BaseModel):
    responses: list[CannedResponseOut]


class FilledResponse(BaseModel):
    text: str = Field(description="The body with the placeholders the account could fill")
    missing: list[str] = Field(description="Placeholders left as typed (no verified account, a refusal)")


# -- credits without a dispute -------------------------------------------------------------------------------

class CreditRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: str
    reason_code: CreditReason
    note: str = Field(min_length=1, max_length=500)
    invoice_number: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,40}$")
    request_id: str = RequestId

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> str:
        amount = credit_amount(value)
        if amount is None:
            raise ValueError("Give the credit as an amount like 12.50.")
        return amount


class RejectCreditRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=500)


class CreditRequestOut(BaseModel):
    id: int
    conversation_id: str
    customer_id: int
    amount: str = Field(description="Decimal as a string, e.g. 49.99")
    reason_code: CreditReason
    note: str
    invoice_number: str | None
    status: CreditStatus
    requested_by: Person
    decided_by: Person | None
    decision_note: str | None
    backend_credit_id: int | None
    created_at: str
    decided_at: str | None


class CreditResponse(BaseModel):
    ok: bool = True
    credit: CreditRequestOut


class CreditsResponse(BaseModel):
    credits: list[CreditRequestOut]


# -- presence ------------------------------------------------------------------------------------------------

class PresenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["online", "away"]


class PresenceResponse(BaseModel):
    status: Literal["online", "away"]


# -- search --------------------------------------------------------------------------------------------------

class SearchResult(ConversationSummary):
    matched: Literal["customer", "account", "invoice", "dispute", "ticket", "text"]
    snippet: str
    updated_at: str


class SearchResponse(BaseModel):
    results: list[SearchResult]
