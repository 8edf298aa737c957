"""POST /api/escalations: called by the action server while Rasa handles the customer's message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from handoff.conversations import escalation
from handoff.deps import ServiceDep, require_api_token

router = APIRouter()


class EscalationRequest(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=64)
    reason: str
    # Ids are database integers: anything outside 1..2^31-1 is a clear 422, not an overflow (a 500).
    customer_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    dispute_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    line_item: dict[str, Any] | None = None
    explanation: Any = None
    summary: str = ""
    slots: dict[str, Any] = Field(default_factory=dict)


@router.post("/api/escalations", dependencies=[Depends(require_api_token)])
async def create_escalation(body: EscalationRequest, services: ServiceDep) -> dict[str, Any]:
    escalated = await escalation.perform(
        services=services, conversation_id=body.conversation_id, reason=body.reason,
        customer_id=body.customer_id,
        dispute_id=body.dispute_id, line_item=body.line_item, explanation=body.explanation,
        summary=body.summary, slots=body.slots,
    )
    return escalated.answer
