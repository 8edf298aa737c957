"""The handoff audit log for people: the latest entries readable on screen (local times, names instead of ids,
repeated identical entries folded), and the export of a time range as CSV (spreadsheet-safe) or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.models import AuditEntry, Conversation, StaffUser

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


def cell(value: object) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


_cell = cell  # the name tests/handoff/test_access.py checks


# The billing system's entries per export (its audit-log route's most).
MAX_BILLING_ENTRIES = 5000


def billing_entries(answer: list[dict]) -> list[dict]:
    """The backend's audit entries (newest first) in this export's columns, oldest first: its resource is the
    target; the customer, the reason and its details are the details."""
    def details(entry: dict) -> dict | None:
        return {key: entry[key] for key in ("customer_id", "reason", "details") if entry.get(key)} or None

    return [{"id": entry["id"], "at": entry["at"], "actor": entry["actor"], "action": entry["action"],
             "target": entry["resource"], "details": details(entry)} for entry in reversed(answer)]


def download(entries: list[dict], *, start: datetime, end: datetime, format: str, source: str = "handoff",
             limit: int = MAX_ENTRIES) -> Response:
    name = f"{source}-audit-{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}.{format}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "json":
        return JSONResponse({"start": start.isoformat(), "end": end.isoformat(), "count": len(entries),
                             "truncated": len(entries) >= limit, "entries": entries},
                             headers=disposition)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow([entry["id"], entry["at"], *(cell(entry[c]) for c in COLUMNS[2:])])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=disposition)


# Who an actor is when it is not a staff member (store.audit's callers).
SERVICE_ACTORS = {"bot": "Bot", "system": "System", "backend:payment-page": "Secure payment page",
                  "customer:email": "Customer (email)"}


def _actor_name(actor: str, people: dict[str, str]) -> str:
    if actor in SERVICE_ACTORS:
        return SERVICE_ACTORS[actor]
    role, _, username = actor.partition(":")
    if role == "anonymous":
        return f"Unknown user '{username}'"
    return people.get(username, actor)


def _target_label(target: str | None, people: dict[str, str], chats: dict[str, str | None]) -> str | None:
    if target is None:
        return None
    if target in chats:
        return f"{chats[target] or 'Anonymous visitor'} (chat {target[:8]})"
    username = target.removeprefix("username:")
    return people.get(username, target)


def readable_entries(session: Session, *, limit: int, timezone: str) -> list[dict[str, Any]]:
    """The latest `limit` entries, newest first, folded: consecutive entries with the same actor, action,
    target and details become one with `count` (e.g. a chat opened ten times in a row)."""
    rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
    people = {u.username: u.display_name for u in session.scalars(select(StaffUser))}
    targets = {r.target for r in rows if r.target}
    chats = dict(session.execute(select(Conversation.id, Conversation.customer_name)
                                 .where(Conversation.id.in_(targets))).tuples().all()) if targets else {}
    zone = ZoneInfo(timezone)
    folded: list[dict[str, Any]] = []
    for row in rows:
        previous = folded[-1] if folded else None
        if previous is not None and (previous["actor"], previous["action"], previous["target"],
                                     previous["details"]) == (row.actor, row.action, row.target, row.details):
            previous["count"] += 1
            previous["first_at"] = row.at.isoformat()
            continue
        folded.append({"at": row.at.isoformat(), "actor": row.actor, "action": row.action,
                       "target": row.target, "details": row.details,
                       "at_local": row.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                       "first_at": row.at.isoformat(), "actor_name": _actor_name(row.actor, people),
                       "target_label": _target_label(row.target, people, chats), "count": 1})
    return folded
