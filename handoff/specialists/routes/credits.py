"""Credits without a dispute: the owner of a verified chat asks; up to the approval limit it is issued at
once, above it a supervisor other than the maker approves or rejects (docs/contracts.md, "Specialist
inbox")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from handoff.deps import ChatStaffDep, ServiceDep, SupervisorDep
from handoff.specialists import credits, work_access
from handoff.specialists.inbox_schemas import (
    CreditRequestIn,
    CreditResponse,
    CreditsResponse,
    RejectCreditRequest,
)
from handoff.specialists.schemas import ErrorResponse

router = APIRouter(responses={
    404: {"model": ErrorResponse, "description": "No such conversation or credit request"},
    409: {"model": ErrorResponse, "description": "Not assigned, not verified, already decided, or refused"},
})
CreditId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.post("/conversations/{conversation_id}/credits", response_model=CreditResponse)
async def request_credit(conversation_id: str, body: CreditRequestIn, staff: ChatStaffDep,
                         service: ServiceDep) -> dict:
    credit = await credits.request_credit(
        services=service, conversation_id=conversation_id, staff=staff, amount=body.amount,
        reason_code=body.reason_code, note=body.note, invoice_number=body.invoice_number,
        request_id=body.request_id)
    return {"ok": True, "credit": credit}


@router.get("/conversations/{conversation_id}/credits", response_model=CreditsResponse)
async def conversation_credits(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    found = await service.run(credits.credits_of, conversation_id=conversation_id, staff=staff)
    if found is None:
        raise work_access.refusal()
    return {"credits": found}


@router.get("/credit-approvals", response_model=CreditsResponse)
async def waiting_for_approval(staff: SupervisorDep, service: ServiceDep) -> dict:
    return {"credits": await service.run(credits.pending)}


@router.post("/credit-approvals/{credit_id}/approve", response_model=CreditResponse)
async def approve(credit_id: CreditId, staff: SupervisorDep, service: ServiceDep) -> dict:
    return {"ok": True, "credit": await credits.decide(services=service, credit_id=credit_id, staff=staff,
                                                       approve=True)}


@router.post("/credit-approvals/{credit_id}/reject", response_model=CreditResponse)
async def reject(credit_id: CreditId, body: RejectCreditRequest, staff: SupervisorDep,
                 service: ServiceDep) -> dict:
    return {"ok": True, "credit": await credits.decide(services=service, credit_id=credit_id, staff=staff,
                                                       approve=False, note=body.note)}
