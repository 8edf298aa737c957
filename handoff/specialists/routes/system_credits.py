"""Supervisor screen: the credits the account check issued (reverse one, with a reason) and the bot's limits
(docs/contracts.md, "System credits", issue 18)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from handoff.deps import ServiceDep, SupervisorDep
from handoff.specialists import system_credits
from handoff.specialists.schemas import ErrorResponse
from handoff.specialists.system_credit_schemas import (
    Limits,
    LimitsIn,
    ReverseRequest,
    ReverseResponse,
    SystemCreditsResponse,
)

router = APIRouter(responses={
    404: {"model": ErrorResponse, "description": "No such credit issued by the account check"},
    502: {"model": ErrorResponse, "description": "The billing system is down or answered unreadably"},
})
CreditId = Annotated[int, Path(ge=1, le=2_147_483_647)]
StartDate = Annotated[date | None, Query(description="First local date (YYYY-MM-DD), default today")]
EndDate = Annotated[date | None, Query(description="Last local date, included (YYYY-MM-DD), default today")]


@router.get("/system-credits", response_model=SystemCreditsResponse)
async def list_system_credits(staff: SupervisorDep, service: ServiceDep, start: StartDate = None,
                              end: EndDate = None) -> dict[str, Any]:
    """Every credit the account check issued in the dates, newest first, with its reversal if any."""
    return await system_credits.list_credits(services=service, staff=staff, start=start, end=end)


@router.post("/system-credits/{credit_id}/reverse", response_model=ReverseResponse)
async def reverse_system_credit(credit_id: CreditId, body: ReverseRequest, staff: SupervisorDep,
                                service: ServiceDep) -> dict[str, Any]:
    """Reverses the credit once (a repeat answers the same reversal); the balance goes back up."""
    credit = await system_credits.reverse(services=service, staff=staff, credit_id=credit_id,
                                          reason=body.reason)
    return {"ok": True, "credit": credit}


@router.get("/bot-limits", response_model=Limits)
async def bot_limits(staff: SupervisorDep, service: ServiceDep) -> dict[str, Any]:
    """What the bot may credit on its own now, and the settings' defaults."""
    return await system_credits.limits(services=service, staff=staff)


@router.post("/bot-limits", response_model=Limits)
async def change_bot_limits(body: LimitsIn, staff: SupervisorDep, service: ServiceDep) -> dict[str, Any]:
    """Replaces the bot's limits for every later check and fix (audited here and in the backend)."""
    return await system_credits.set_limits(services=service, staff=staff, body=body)
