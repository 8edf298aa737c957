"""Chat screen, internal notes: staff whose work needs the chat write notes colleagues and supervisors read;
never sent to the customer or Rasa (docs/contracts.md, "Specialist inbox")."""

from __future__ import annotations

from fastapi import APIRouter

from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists import notes
from handoff.specialists.inbox_schemas import NoteRequest
from handoff.specialists.schemas import ErrorResponse, NoteOut

router = APIRouter(prefix="/conversations/{conversation_id}", responses={
    404: {"model": ErrorResponse, "description": "No such conversation"},
})


@router.post("/notes", response_model=NoteOut)
async def add_note(conversation_id: str, body: NoteRequest, staff: ChatStaffDep, service: ServiceDep) -> dict:
    return await notes.add_note(services=service, conversation_id=conversation_id, staff=staff,
                                text=body.text)
