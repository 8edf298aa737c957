"""The audit log: every read made for a staff member and every write."""
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.models import AuditLog
from backend.auth import Actor

SERVICE_ACTOR = "service:api"


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    resource: str,
    customer_id: int | None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Adds an entry to the caller's transaction; the caller commits."""
    entry = AuditLog(
        actor=actor.label if actor else SERVICE_ACTOR,
        action=action,
        resource=resource,
        customer_id=customer_id,
        reason=reason,
        details=details or {},
    )
    session.add(entry)
    return entry


def record_read(
    session: Session, *, actor: Actor | None, resource: str, customer_id: int | None,
    reason: str | None = None,
) -> None:
    """Reads are audited when made for a staff member (X-Actor); the bot's own reads are not."""
    if actor is None:
        return
    record(
        session, actor=actor, action="read", resource=resource, customer_id=customer_id,
        reason=reason or actor.reason,
    )
    session.commit()


def list_entries(
    session: Session, *, start: datetime | None, end: datetime | None, customer_id: int | None, limit: int
) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    if start is not None:
        query = query.where(AuditLog.at >= start)
    if end is not None:
        query = query.where(AuditLog.at < end)
    if customer_id is not None:
        query = query.where(AuditLog.customer_id == customer_id)
    return list(session.scalars(query))
