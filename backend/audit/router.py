import csv
import io
import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

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
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: a download for a spreadsheet")
    ] = "json",
) -> list[AuditEntryOut] | Response:
    entries = service.list_entries(session, start=start, end=end, customer_id=customer_id, limit=limit)
    result = [
        AuditEntryOut(
            id=e.id, at=e.at, actor=e.actor, action=e.action, resource=e.resource, customer_id=e.customer_id,
            reason=e.reason, details=e.details,
        )
        for e in entries
    ]
    service.record_read(session, actor=actor, resource="audit-log", customer_id=customer_id)
    return as_csv(result) if format == "csv" else result


CSV_COLUMNS = ("id", "at", "actor", "action", "resource", "customer_id", "reason", "details")


def _spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ would run as a formula."""
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(entries: list[AuditEntryOut]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = entry.model_dump()
        row["at"] = entry.at.isoformat()
        writer.writerow([_spreadsheet_safe(row[column]) for column in CSV_COLUMNS])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="billing-audit-log.csv"'})
