"""What the console reads: public query functions `(session, **kwargs)`, run as one transaction by
`Database.run` (the console routes hold no SQL). Answers are the JSON of handoff/specialists/schemas.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.assignments.ownership import account_customer_id
from handoff.conversations import store
from handoff.conversations.frames import message_frame
from handoff.conversations.states import State
from handoff.models import AuditEntry, Conversation, StaffUser
from handoff.specialists import notes, work_access
from handoff.specialists.staff import Staff
from handoff.vocabulary import CHAT_ROLES

MAX_TRANSCRIPT_MESSAGES = 2000


def conversation_summary(session: Session, conversation: Conversation) -> dict[str, Any]:
    owner_id = conversation.assigned_specialist_id
    owner = session.get(StaffUser, owner_id) if owner_id else None
    amount = conversation.dispute_amount
    return {
        "conversation_id": conversation.id,
        "state": conversation.state,
        "customer_id": account_customer_id(conversation),
        "customer_name": conversation.customer_name,
        "channel": conversation.channel,
        "reason": conversation.escalation_reason,
        "context": conversation.context,
        "dispute_id": conversation.dispute_id,
        "dispute_amount": f"{amount:.2f}" if amount is not None else None,
        "ticket_number": conversation.ticket_number,
        "assigned_to": {"username": owner.username, "display_name": owner.display_name} if owner else None,
        "csat_score": conversation.csat_score,
        "last_seq": conversation.last_seq,
        "created_at": conversation.created_at.isoformat(),
    }


def my_chats(session: Session, *, staff_id: int) -> list[dict[str, Any]]:
    """The chats assigned to this member of staff, the longest-held first."""
    rows = session.scalars(select(Conversation).where(Conversation.state == State.ASSIGNED,
                                                      Conversation.assigned_specialist_id == staff_id)
                           .order_by(Conversation.assigned_at))
    return [conversation_summary(session, conversation) for conversation in rows]


def colleagues(session: Session, *, seen_since: datetime) -> list[dict[str, Any]]:
    """Active chat staff by name; `online` = their console was seen after `seen_since`."""
    users = session.scalars(select(StaffUser)
                            .where(StaffUser.active.is_(True), StaffUser.role.in_(CHAT_ROLES))
                            .order_by(StaffUser.display_name))
    return [{"username": user.username, "display_name": user.display_name, "role": user.role,
             "online": bool(user.last_seen_at and user.last_seen_at > seen_since), "away": user.away}
            for user in users]


def conversation_detail(session: Session, *, conversation_id: str, staff: Staff,
                        after_seq: int) -> dict[str, Any] | None:
    """The summary and the messages after `after_seq`, or None when their work does not need it (the look is
    audited either way, so the caller refuses after this transaction commits). Raises ConversationNotFound."""
    conversation, reason = work_access.look_at(session, conversation_id=conversation_id, staff=staff,
                                               action="view_conversation")
    if reason is None:
        return None
    messages = store.messages_after(session, conversation_id=conversation_id, after_seq=after_seq,
                                    limit=MAX_TRANSCRIPT_MESSAGES)
    return {**conversation_summary(session, conversation), "messages": [message_frame(m) for m in messages],
            "notes": notes.notes_of(session, conversation_id=conversation_id),
            "dispute_status": dispute_status(session, conversation=conversation)}


def dispute_status(session: Session, *, conversation: Conversation) -> str | None:
    """accepted/rejected once the chat's dispute was settled from the console (its audit entry), else None."""
    if not conversation.dispute_id:
        return None
    settled = session.scalars(select(AuditEntry.action).where(
        AuditEntry.target == conversation.id, AuditEntry.action.in_(("dispute_accepted", "dispute_rejected")))
        .order_by(AuditEntry.id.desc())).first()
    return settled.removeprefix("dispute_") if settled else None


def latest_audit_entries(session: Session, *, limit: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [{"at": row.at.isoformat(), "actor": row.actor, "action": row.action, "target": row.target,
             "details": row.details} for row in rows]
