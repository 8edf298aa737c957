"""Online or away: the specialist's own availability (an away console does not count as online)."""

from __future__ import annotations

from fastapi import APIRouter

from handoff import notifier
from handoff.deps import ChatStaffDep, ServiceDep
from handoff.specialists import presence
from handoff.specialists.inbox_schemas import PresenceRequest, PresenceResponse

router = APIRouter()


@router.get("/presence", response_model=PresenceResponse)
async def my_presence(staff: ChatStaffDep, service: ServiceDep) -> dict:
    return {"status": await service.run(presence.status_of, staff=staff)}


@router.post("/presence", response_model=PresenceResponse)
async def set_presence(body: PresenceRequest, staff: ChatStaffDep, service: ServiceDep) -> dict:
    status = await service.run(presence.set_status, staff=staff, status=body.status)
    await notifier.publish_queue(services=service)  # ETAs change with who counts as online
    return {"status": status}
