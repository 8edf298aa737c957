"""Chat screen: one conversation (transcript, customer account) and what a specialist does in it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from handoff.assignments import agent_message, agent_typing, settle_dispute
from handoff.assignments import claim as claiming  # the routes below are named claim, release, ...
from handoff.assignments import release as releasing
from handoff.assignments import resolve as resolving
from handoff.assignments import transfer as transferring
from handoff.conversations.frames import message_frame
from handoff.deps import ChatStaffDep, DatabaseDep, ServiceDep
from handoff.specialists import account_view, queries, work_access
from handoff.specialists.schemas import (
    AccountSnapshot,
    AgentMessageRequest,
    ClaimResponse,
    ConversationDetail,
    ErrorResponse,
    MessageOut,
    OkResponse,
    ResolveRequest,
    SettleRequest,
    SettleResponse,
    TransferRequest,
)

router = APIRouter(prefix="/conversations/{conversation_id}", responses={
    404: {"model": ErrorResponse, "description": "No such conversation"},
    409: {"model": ErrorResponse, "description": "The chat is not in a state that allows this"},
})
Seq = Annotated[int, Query(ge=0, le=2_147_483_647)]


@router.get("", response_model=ConversationDetail)
async def conversation_detail(conversation_id: str, staff: ChatStaffDep, db: DatabaseDep,
                              after_seq: Seq = 0) -> dict:
    detail = await db.run(queries.conversation_detail, conversation_id=conversation_id, staff=staff,
                          after_seq=after_seq)
    if detail is None:  # refused after the transaction, so the audit entry of the refused look is kept
        raise work_access.refusal()
    return detail


@router.get("/account", response_model=AccountSnapshot)
async def account_snapshot(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    """Balance, recent invoices with line items, payments, disputes (fetched with X-Actor; audited)."""
    return await account_view.account_snapshot(service=service, conversation_id=conversation_id, staff=staff)


@router.post("/claim", response_model=ClaimResponse)
async def claim(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    await claiming.perform(services=service, conversation_id=conversation_id, staff=staff)
    return {"ok": True, "conversation_id": conversation_id, "assigned_to": staff.username}


@router.post("/release", response_model=OkResponse)
async def release(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    await releasing.perform(services=service, conversation_id=conversation_id, staff=staff)
    return {"ok": True}


@router.post("/transfer", response_model=OkResponse)
async def transfer(conversation_id: str, body: TransferRequest, staff: ChatStaffDep,
                   service: ServiceDep) -> dict:
    await transferring.perform(services=service, conversation_id=conversation_id, staff=staff,
                               to_username=body.to_username,
                               to_team=body.to_team.value if body.to_team is not None else None)
    return {"ok": True}


@router.post("/messages", response_model=MessageOut)
async def send_message(conversation_id: str, body: AgentMessageRequest, staff: ChatStaffDep,
                       service: ServiceDep) -> dict:
    sent = await agent_message.perform(services=service, conversation_id=conversation_id, staff=staff,
                                       text=body.text, client_id=body.client_id)
    return message_frame(sent.messages[0])


@router.post("/typing", response_model=OkResponse)
async def typing(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    await agent_typing.perform(services=service, conversation_id=conversation_id, staff=staff)
    return {"ok": True}


@router.post("/settle", response_model=SettleResponse)
async def settle(conversation_id: str, body: SettleRequest, staff: ChatStaffDep, service: ServiceDep) -> dict:
    dispute = await settle_dispute.perform(services=service, conversation_id=conversation_id, staff=staff,
                                           decision=body.decision, note=body.note,
                                           credit_amount=body.credit_amount)
    return {"ok": True, "dispute": dispute}


@router.post("/resolve", response_model=OkResponse)
async def resolve(conversation_id: str, body: ResolveRequest, staff: ChatStaffDep,
                  service: ServiceDep) -> dict:
    await resolving.perform(services=service, conversation_id=conversation_id, staff=staff,
                            outcome=body.outcome)
    return {"ok": True}
