"""Typed client of the handoff service's escalation API (docs/contracts.md, "Actions")."""

from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict

from actions.clients.base import JsonApiClient
from actions.clients.errors import HandoffUnavailable, ServiceError
from actions.config import ActionSettings, get_settings

EscalationReason = Literal[
    "dispute", "request_human", "fallback", "verification_locked", "backend_unavailable",
    "arrangement_request",  # a payment arrangement outside policy: the payments team's queue
]


class EscalationRequest(BaseModel):
    conversation_id: str
    reason: EscalationReason
    customer_id: int | None = None
    dispute_id: int | str | None = None
    line_item: dict[str, Any] | None = None
    explanation: dict[str, Any] | None = None
    summary: str
    slots: dict[str, Any] = {}


class EscalationResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    state: Literal["queued", "ticket"]
    position: int | None = None
    eta_seconds: int | None = None
    wait_text: str | None = None  # the wait in the words the widget's status banner shows
    ticket_number: str | None = None
    contact: str | None = None


class HandoffClient(JsonApiClient):
    unavailable_error = HandoffUnavailable
    service_name = "handoff"

    def __init__(
        self, *, settings: ActionSettings | None = None, http: httpx.AsyncClient | None = None
    ) -> None:
        settings = settings or get_settings()
        super().__init__(base_url=settings.handoff_url, api_token=settings.handoff_api_token, http=http)

    async def escalate(self, escalation: EscalationRequest) -> EscalationResult:
        body = escalation.model_dump(mode="json", exclude_none=True)
        try:
            data = await self.request("POST", "/api/escalations", json=body)
        except HandoffUnavailable:
            raise
        except ServiceError as exc:
            # A 4xx from handoff means we cannot hand over either; the customer hears the same apology.
            raise HandoffUnavailable(str(exc)) from exc
        return self.parse(EscalationResult, data)
