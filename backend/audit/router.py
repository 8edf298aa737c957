from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from backend.audit import service
from backend.audit.schemas import AuditEntryOut
from backend.auth import OptionalActorDep
from backend.database import SessionDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit-log", response_model=list[AuditEntryOut])
def audit_log(
    session: SessionDep,
    actor: OptionalActorDep,
    start: Annotated[datetime | None, Query(description="From this time (inclusive), ISO 8601")] = None,
    end: Annotated[datetime | None, Query(description="Before this time, ISO 8601")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditEntryOut]:
    entries = service.list_entries(session, start=start, end=end, customer_id=customer_id, limit=limit)
    result = [
        AuditEntryOut(
            id=e.id, at=e.at, actor=e.actor, action=e.action, resource=e.resource, customer_id=e.customer_id,
            reason=e.reason, details=e.details,
        )
        for e in entries
    ]
    service.record_read(session, actor=actor, resource="audit-log", customer_id=customer_id)
    return result
