"""Export of the handoff audit log for a time range, as CSV (spreadsheet-safe) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import AuditEntry

COLUMNS = ("id", "at", "actor", "action", "target", "details")
MAX_ENTRIES = 100_000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def entries_between(session: Session, *, start: datetime, end: datetime) -> list[dict]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.at >= start, AuditEntry.at < end)
                           .order_by(AuditEntry.at, AuditEntry.id).limit(MAX_ENTRIES))
    return [{"id": r.id, "at": r.at.isoformat(), "actor": r.actor, "action": r.action, "target": r.target,
             "details": r.details} for r in rows]


def _cell(value: object) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def download(entries: list[dict], *, start: datetime, end: datetime, format: str) -> Response:
    name = f"handoff-audit-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.{format}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "json":
        return JSONResponse({"start": start.isoformat(), "end": end.isoformat(), "count": len(entries),
                             "truncated": len(entries) >= MAX_ENTRIES, "entries": entries},
                             headers=disposition)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow([entry["id"], entry["at"], *(_cell(entry[c]) for c in COLUMNS[2:])])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=disposition)
