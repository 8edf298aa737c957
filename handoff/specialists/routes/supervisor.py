"""Supervisor screen: the report for a range of dates (and each table as CSV), and the audit log (readable on
screen, and as a download)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError

from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.conversations import store
from handoff.db import utcnow
from handoff.deps import ServiceDep, SupervisorDep
from handoff.errors import ServiceError
from handoff.specialists import audit_export, report_export, specialist_billing
from handoff.specialists.report_schemas import BillingActivity, ReadableAuditLogResponse, ReportResponse
from handoff.specialists.schemas import AuditExport
from handoff.specialists.staff import Staff
from handoff.specialists.stats import MAX_RANGE_DAYS, conversation_report, utc_range

router = APIRouter()

# The export is a file: its answer is described here rather than by a response model.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "model": AuditExport,  # format=json
    "description": "The entries in [start, end), oldest first, as an attachment",
    "content": {"text/csv": {"schema": {"type": "string",
                                        "description": "Columns: " + ", ".join(audit_export.COLUMNS)}}},
}}
REPORT_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {200: {
    "description": "One table of the report as a CSV attachment (formula-safe cells)",
    "content": {"text/csv": {"schema": {"type": "string", "description": "A header row, then one row each"}}},
}}

# Dates a report can cover (a year 9999 end would overflow the day after it).
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
StartDate = Annotated[date | None, Query(description="First local date (YYYY-MM-DD), default today")]
EndDate = Annotated[date | None, Query(description="Last local date, included (YYYY-MM-DD), default today")]


async def _report(service: Services, staff: Staff, start: date | None, end: date | None) -> dict[str, Any]:
    timezone = service.settings.timezone
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    start, end = start or today, end or today
    if end < start:
        raise ServiceError(status_code=422, code="bad_range",
                           message="The end date must not be before the start.")
    if start < EARLIEST or end > LATEST:
        raise ServiceError(status_code=422, code="bad_range",
                           message=f"Pick dates between {EARLIEST} and {LATEST}.")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ServiceError(status_code=422, code="bad_range",
                           message=f"Pick at most {MAX_RANGE_DAYS} days.")
    report = await service.run(conversation_report, start=start, end=end, timezone=timezone,
                               domain_path=service.settings.training_repo_root / "domain.yml")
    utc_start, utc_end = utc_range(start, end, timezone)
    report["billing"], report["billing_error"] = None, None
    try:
        answer = await service.backend.billing_activity(
            start=utc_start.isoformat(), end=utc_end.isoformat(), actor=staff.actor)
        report["billing"] = BillingActivity.model_validate(answer).model_dump()
    except BackendError as error:
        report["billing_error"] = error.message
    except ValidationError:
        report["billing_error"] = "The billing system answered something unreadable."
    report["specialists"] = await service.run(
        specialist_billing.with_billing, specialists=report["specialists"], billing=report["billing"])
    return report


@router.get("/reports", response_model=ReportResponse)
async def report(staff: SupervisorDep, service: ServiceDep, start: StartDate = None,
                 end: EndDate = None) -> dict[str, Any]:
    """Conversations, containment, resolution by outcome, escalations, wait/handling, CSAT, abandoned chats
    (overall and per specialist) and the billing activity of the same dates."""
    return await _report(service, staff, start, end)


@router.get("/reports/export", response_class=Response, responses=REPORT_EXPORT_RESPONSES)
async def export_report(staff: SupervisorDep, service: ServiceDep,
                        table: Annotated[report_export.Table, Query(description="Which table of the report")],
                        start: StartDate = None, end: EndDate = None) -> Response:
    """One table of the report as a CSV download (audited)."""
    data = await _report(service, staff, start, end)
    await service.run(store.audit, actor=staff.actor, action="report_export", target=None,
                      details={"table": table, "start": data["start"], "end": data["end"]})
    return report_export.download(data, table=table)


@router.get("/audit", response_model=ReadableAuditLogResponse)
async def audit_log(staff: SupervisorDep, service: ServiceDep,
                    limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> dict[str, Any]:
    """The latest entries, newest first, with local times and names; repeated identical entries folded."""
    timezone = service.settings.timezone
    return {"timezone": timezone, "entries": await service.run(audit_export.readable_entries, limit=limit,
                                                               timezone=timezone)}


@router.get("/audit/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_audit_log(
        start: Annotated[datetime, Query(description="From this time (inclusive), ISO 8601; UTC if no zone")],
        end: Annotated[datetime, Query(description="Before this time, ISO 8601; UTC if no zone")],
        staff: SupervisorDep, service: ServiceDep,
        format: Annotated[Literal["csv", "json"], Query()] = "csv",
        source: Annotated[Literal["handoff", "billing"], Query(
            description="handoff: this service's log; billing: the billing system's (system credits, "
                        "payments, disputes), at most 5000 entries")] = "handoff") -> Response:
    """Every audit entry in [start, end), oldest first, as a CSV or JSON download (supervisors only)."""
    start, end = audit_export.as_utc(start), audit_export.as_utc(end)
    if end <= start:
        raise ServiceError(status_code=422, code="bad_range", message="end must be after start.")
    limit = audit_export.MAX_ENTRIES
    if source == "billing":
        limit = audit_export.MAX_BILLING_ENTRIES
        try:
            answer = await service.backend.audit_log(start=start.isoformat(), end=end.isoformat(),
                                                     limit=limit, actor=staff.actor)
        except BackendError as error:
            raise ServiceError(status_code=502, code="backend_unavailable", message=error.message) from error
        try:
            entries = audit_export.billing_entries(answer)
        except (KeyError, TypeError, AttributeError) as error:
            raise ServiceError(status_code=502, code="backend_bad_answer",
                               message="The billing system answered something unreadable.") from error
    else:
        entries = await service.db.run(audit_export.entries_between, start=start, end=end)
    await service.db.run(store.audit, actor=staff.actor, action="audit_export", target=source,
                         details={"start": start.isoformat(), "end": end.isoformat(), "format": format,
                                  "entries": len(entries)})
    return audit_export.download(entries, start=start, end=end, format=format, source=source, limit=limit)
