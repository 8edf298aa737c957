"""Supervisor screen: today's figures and the audit log (on screen, and as a download)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from handoff.conversations import store
from handoff.db import utcnow
from handoff.deps import DatabaseDep, ServiceDep, SupervisorDep
from handoff.errors import ServiceError
from handoff.specialists import audit_export, queries
from handoff.specialists.schemas import AuditExport, AuditLogResponse, StatsResponse
from handoff.specialists.stats import today_stats

router = APIRouter()

# The export is a file: its answer is described here rather than by a response model.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "model": AuditExport,  # format=json
    "description": "The entries in [start, end), oldest first, as an attachment",
    "content": {"text/csv": {"schema": {"type": "string",
                                        "description": "Columns: " + ", ".join(audit_export.COLUMNS)}}},
}}


@router.get("/stats", response_model=StatsResponse)
async def stats(staff: SupervisorDep, service: ServiceDep) -> dict:
    return await service.db.run(today_stats, now=utcnow(), timezone=service.settings.timezone)


@router.get("/audit", response_model=AuditLogResponse)
async def audit_log(staff: SupervisorDep, db: DatabaseDep,
                    limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> dict:
    return {"entries": await db.run(queries.latest_audit_entries, limit=limit)}


@router.get("/audit/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_audit_log(
        start: Annotated[datetime, Query(description="From this time (inclusive), ISO 8601; UTC if no zone")],
        end: Annotated[datetime, Query(description="Before this time, ISO 8601; UTC if no zone")],
        staff: SupervisorDep, service: ServiceDep,
        format: Annotated[Literal["csv", "json"], Query()] = "csv") -> Response:
    """Every audit entry in [start, end), oldest first, as a CSV or JSON download (supervisors only)."""
    start, end = audit_export.as_utc(start), audit_export.as_utc(end)
    if end <= start:
        raise ServiceError(status_code=422, code="bad_range", message="end must be after start.")
    entries = await service.db.run(audit_export.entries_between, start=start, end=end)
    await service.db.run(store.audit, actor=staff.actor, action="audit_export", target=None,
                         details={"start": start.isoformat(), "end": end.isoformat(), "format": format,
                                  "entries": len(entries)})
    return audit_export.download(entries, start=start, end=end, format=format)
