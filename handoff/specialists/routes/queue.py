"""Queue screen: the waiting chats, my chats, and the colleagues a chat can go to."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from handoff.db import utcnow
from handoff.deps import ChatStaffDep, DatabaseDep, ServiceDep
from handoff.queue import status as queue_status
from handoff.specialists import queries
from handoff.specialists.schemas import ColleaguesResponse, MyChatsResponse, QueueResponse

router = APIRouter()


@router.get("/queue", response_model=QueueResponse)
async def queue(staff: ChatStaffDep, service: ServiceDep) -> dict:
    """The waiting chats of the staff member's teams (a supervisor: every team's)."""
    return {"entries": queue_status.visible_to(await queue_status.snapshot(services=service), staff)}


@router.get("/my-chats", response_model=MyChatsResponse)
async def my_chats(staff: ChatStaffDep, db: DatabaseDep) -> dict:
    return {"chats": await db.run(queries.my_chats, staff_id=staff.id)}


@router.get("/staff", response_model=ColleaguesResponse)
async def colleagues(staff: ChatStaffDep, service: ServiceDep) -> dict:
    seen_since = utcnow() - timedelta(seconds=service.settings.presence_timeout_seconds)
    return {"staff": await service.db.run(queries.colleagues, seen_since=seen_since)}
