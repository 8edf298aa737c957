"""GET /api/v1/customers/{cid}/reminders, POST .../reminders/{id}/seen (contracts: "Payment reminders")."""
from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.audit import service as audit
from backend.auth import OptionalActorDep
from backend.clock import NowDep
from backend.database import SessionDep
from backend.params import CustomerIdPath
from backend.reminders import service
from backend.reminders.schemas import ReminderOut

router = APIRouter(prefix="/api/v1", tags=["reminders"])
ReminderIdPath = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("/customers/{customer_id}/reminders", response_model=list[ReminderOut])
def list_reminders(
    customer_id: CustomerIdPath,
    session: SessionDep,
    actor: OptionalActorDep,
    unseen: Annotated[bool, Query(description="Only those the customer has not seen in the chat")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReminderOut]:
    found = service.list_reminders(session, customer_id=customer_id, unseen=unseen, limit=limit)
    if actor is not None and actor.is_staff:  # a specialist's read is audited; the chat's own is not
        audit.record_read(session, actor=actor, resource="reminders", customer_id=customer_id)
    return found


@router.post("/customers/{customer_id}/reminders/{reminder_id}/seen", response_model=ReminderOut)
def mark_seen(
    customer_id: CustomerIdPath, reminder_id: ReminderIdPath, session: SessionDep, now: NowDep
) -> ReminderOut:
    return service.mark_seen(session, customer_id=customer_id, reminder_id=reminder_id, now=now)
