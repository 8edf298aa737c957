"""POST /api/payment-page/outcomes: the backend tells the chat what the secure payment page did."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from handoff.conversations import payment_outcome
from handoff.deps import ServiceDep, require_api_token

router = APIRouter()
MAX_SUMMARY_CHARS = 2000


class PaymentPageOutcome(BaseModel):
    """The page's completion answer plus the three ids (docs/contracts.md). The chat shows the summary; the
    payment's status and the autopay switch become the entities of what Rasa is told; the other fields
    (method, total_due, currency) may come and are not needed here."""

    event_id: str = Field(pattern=r"^payment-page-[A-Za-z0-9_-]{8,64}$")
    conversation_id: str = Field(min_length=1, max_length=64)
    customer_id: int = Field(ge=1, le=2_147_483_647)
    status: str = Field(default="completed", max_length=20)
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY_CHARS, pattern=r"\S")
    payment: dict[str, Any] | None = None  # the page's Payment (its "status" is read)
    autopay: dict[str, Any] | None = None  # {"enabled", "next_autopay_date"}; null: left as it was


class PaymentPageOutcomeStored(BaseModel):
    stored: bool = True
    duplicate: bool  # the event was stored before: this repeat stored nothing
    seq: int  # the system message's sequence number in the conversation


@router.post("/api/payment-page/outcomes", dependencies=[Depends(require_api_token)])
async def payment_page_outcome(body: PaymentPageOutcome, services: ServiceDep) -> PaymentPageOutcomeStored:
    stored = await payment_outcome.perform(services=services, event_id=body.event_id,
                                           conversation_id=body.conversation_id, customer_id=body.customer_id,
                                           summary=body.summary,
                                           entities=payment_outcome.completed_entities(
                                               payment=body.payment, autopay=body.autopay))
    return PaymentPageOutcomeStored(duplicate=stored.duplicate, seq=stored.seq)
