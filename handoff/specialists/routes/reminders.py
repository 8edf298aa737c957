"""Chat screen, account panel: the payment reminders sent to the customer (docs/contracts.md, "Payment
reminders")."""

from __future__ import annotations

from fastapi import APIRouter

from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists import account_reminders
from handoff.specialists.reminder_schemas import ReminderListResponse
from handoff.specialists.schemas import ErrorResponse

router = APIRouter(prefix="/conversations/{conversation_id}/reminders", responses={
    404: {"model": ErrorResponse, "description": "No such conversation"},
    409: {"model": ErrorResponse, "description": "Not assigned to you, or the customer is not verified"},
})


@router.get("", response_model=ReminderListResponse)
async def reminders(conversation_id: str, staff: ChatStaffDep, service: ServiceDep) -> dict:
    found = await account_reminders.list_reminders(services=service, conversation_id=conversation_id,
                                                   staff=staff)
    return {"ok": True, "reminders": found}
