"""Staff as the conversations see them: assignments, presence, who can take a chat, handling times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from handoff.db import utcnow
from handoff.models import Assignment, StaffUser
from handoff.vocabulary import CHAT_ROLES, AssignmentEnd


def get_staff(session: Session, *, user_id: int | None) -> StaffUser | None:
    return session.get(StaffUser, user_id) if user_id is not None else None


def find_staff_by_username(session: Session, *, username: str) -> StaffUser | None:
    return session.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def set_presence(session: Session, *, user_id: int, online: bool = True) -> None:
    """A console heartbeat (online) or the last console closing / a logout (offline)."""
    session.execute(update(StaffUser).where(StaffUser.id == user_id)
                    .values(last_seen_at=utcnow() if online else None))


def start_assignment(session: Session, *, conversation_id: str, specialist_id: int, now: datetime) -> None:
    session.add(Assignment(conversation_id=conversation_id, specialist_id=specialist_id, started_at=now))


def open_assignment(session: Session, *, conversation_id: str) -> Assignment | None:
    return session.scalars(
        select(Assignment).where(Assignment.conversation_id == conversation_id, Assignment.ended_at.is_(None))
        .order_by(Assignment.id.desc())
    ).first()


def end_assignment(session: Session, *, conversation_id: str, reason: str) -> None:
    assignment = open_assignment(session, conversation_id=conversation_id)
    if assignment is not None:
        assignment.ended_at = utcnow()
        assignment.end_reason = reason


def online_specialist_count(session: Session, *, now: datetime, timeout_seconds: int) -> int:
    return session.scalar(
        select(func.count()).select_from(StaffUser).where(
            StaffUser.active.is_(True), StaffUser.role.in_(CHAT_ROLES), StaffUser.away.is_(False),
            StaffUser.last_seen_at > now - timedelta(seconds=timeout_seconds),
        )
    ) or 0


def recent_handling_seconds(session: Session, *, now: datetime) -> list[float]:
    rows = session.execute(
        select(Assignment.started_at, Assignment.ended_at).where(
            Assignment.end_reason == AssignmentEnd.RESOLVED, Assignment.ended_at > now - timedelta(hours=24)
        )
    ).all()
    return [(ended - started).total_seconds() for started, ended in rows if ended and started]
