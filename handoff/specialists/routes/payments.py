"""Chat screen, payments: the owner takes a payment with the method on file (quote -> confirm), sets up a
payment arrangement, within policy or approved outside it, and applies the one-time late-fee waiver within
policy (docs/contracts.md, "Payments")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from handoff.assignments import approve_arrangement, take_payment, waive_late_fee
from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists.payment_schemas import (
    ArrangementRequest,
    ArrangementResponse,
    ConfirmRequest,
    PaymentResponse,
    QuoteRequest,
    QuoteResponse,
    WaiverRequest,
    WaiverResponse,
)
from handoff.specialists.schemas import ErrorResponse

router = APIRouter(prefix="/conversations/{conversation_id}", responses={
    404: {"model": ErrorResponse, "description": "No such conversation, or the backend knows no such quote"},
    409: {"model": ErrorResponse, "description": "Not assigned, not verified, or refused by the backend"},
    422: {"model": ErrorResponse, "description": "Bad terms, or outside policy without an override"},
})
QuoteId = Annotated[str, Path(min_length=8, max_length=40, pattern=r"^pq_[A-Za-z0-9_-]+$")]


@router.post("/payment-quotes", response_model=QuoteResponse)
async def payment_quote(conversation_id: str, body: QuoteRequest, staff: ChatStaffDep,
                        service: ServiceDep) -> dict:
    quote = await take_payment.quote(services=service, conversation_id=conversation_id, staff=staff,
                                     amount_choice=body.amount_choice, amount=body.amount,
                                     request_id=body.request_id)
    return {"ok": True, "quote": quote}


@router.post("/payment-quotes/{quote_id}/confirm", response_model=PaymentResponse)
async def confirm_payment(conversation_id: str, quote_id: QuoteId, body: ConfirmRequest, staff: ChatStaffDep,
                          service: ServiceDep) -> dict:
    payment = await take_payment.confirm(services=service, conversation_id=conversation_id, staff=staff,
                                         quote_id=quote_id, request_id=body.request_id)
    return {"ok": True, "payment": payment}


@router.post("/arrangements", response_model=ArrangementResponse)
async def arrangement(conversation_id: str, body: ArrangementRequest, staff: ChatStaffDep,
                      service: ServiceDep) -> dict:
    terms = approve_arrangement.request_body(
        conversation_id=conversation_id, kind=body.kind, amount=body.amount, pay_by=body.pay_by,
        instalments=body.instalments, override_policy=body.override_policy, note=body.note)
    made = await approve_arrangement.perform(services=service, conversation_id=conversation_id, staff=staff,
                                             body=terms, request_id=body.request_id)
    return {"ok": True, "arrangement": made}


@router.post("/late-fee-waivers", response_model=WaiverResponse)
async def late_fee_waiver(conversation_id: str, body: WaiverRequest, staff: ChatStaffDep,
                          service: ServiceDep) -> dict:
    waiver = await waive_late_fee.perform(services=service, conversation_id=conversation_id, staff=staff,
                                          line_item_id=body.line_item_id, request_id=body.request_id)
    return {"ok": True, "waiver": waiver}
