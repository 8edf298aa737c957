"""Canned responses: every chat member of staff reads them and fills one for a chat; supervisors keep them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from handoff.deps import ChatStaffDep, ServiceDep, SupervisorDep
from handoff.specialists import canned_responses
from handoff.specialists.inbox_schemas import (
    CannedResponseOut,
    CannedResponseRequest,
    CannedResponsesResponse,
    FilledResponse,
)
from handoff.specialists.schemas import ErrorResponse, OkResponse

router = APIRouter(responses={
    404: {"model": ErrorResponse, "description": "No such canned response or chat"}})
ResponseId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/canned-responses", response_model=CannedResponsesResponse)
async def list_responses(staff: ChatStaffDep, service: ServiceDep) -> dict:
    return {"responses": await service.run(canned_responses.list_responses)}


@router.post("/canned-responses", response_model=CannedResponseOut)
async def create_response(body: CannedResponseRequest, staff: SupervisorDep, service: ServiceDep) -> dict:
    return await service.run(canned_responses.create, staff=staff, title=body.title, body=body.body)


@router.post("/canned-responses/{response_id}", response_model=CannedResponseOut)
async def update_response(response_id: ResponseId, body: CannedResponseRequest, staff: SupervisorDep,
                          service: ServiceDep) -> dict:
    return await service.run(canned_responses.update, staff=staff, response_id=response_id, title=body.title,
                             body=body.body)


@router.post("/canned-responses/{response_id}/delete", response_model=OkResponse)
async def delete_response(response_id: ResponseId, staff: SupervisorDep, service: ServiceDep) -> dict:
    await service.run(canned_responses.delete, staff=staff, response_id=response_id)
    return {"ok": True}


@router.get("/conversations/{conversation_id}/canned-responses/{response_id}", response_model=FilledResponse,
            responses={409: {"model": ErrorResponse, "description": "The chat is not assigned"}})
async def fill_response(conversation_id: str, response_id: ResponseId, staff: ChatStaffDep,
                        service: ServiceDep) -> dict:
    """The response's text for this chat's customer, to put into the reply box (nothing is sent)."""
    return await canned_responses.fill(services=service, conversation_id=conversation_id, staff=staff,
                                       response_id=response_id)
