"""Which conversations a member of staff may read or watch: the ones their work needs (issue 14).

A specialist sees a conversation that waits for a specialist (queued, or a ticket), is assigned to them, or
that they handled before (an assignment of theirs, ended or not); a supervisor sees every conversation. A
trainer sees none here. Every look, allowed or refused, is written to the audit log with its reason.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.states import CLAIMABLE_STATES, State
from handoff.errors import ServiceError
from handoff.models import Assignment, Conversation
from handoff.specialists.staff import Staff
from handoff.vocabulary import StaffRole

NOT_YOUR_WORK = ("You can open a chat that is waiting for a specialist, assigned to you, "
                 "or one you handled before.")


def reason_to_see(session: Session, *, conversation: Conversation, staff: Staff) -> str | None:
    """Why `staff` may see the conversation, or None when their work does not need it."""
    if staff.role == StaffRole.SUPERVISOR:
        return "supervisor"
    if staff.role != StaffRole.SPECIALIST:
        return None
    if conversation.state in CLAIMABLE_STATES:
        return "waiting_for_a_specialist"
    if conversation.state == State.ASSIGNED and conversation.assigned_specialist_id == staff.id:
        return "assigned_to_them"
    handled = session.scalar(select(Assignment.id).where(Assignment.conversation_id == conversation.id,
                                                         Assignment.specialist_id == staff.id).limit(1))
    return "handled_by_them" if handled is not None else None


def look_at(session: Session, *, conversation_id: str, staff: Staff, action: str) -> tuple[Conversation,
                                                                                           str | None]:
    """Load the conversation and audit the look (`action`, or `action`_refused) with its reason.

    Returns (conversation, reason); reason None means refused. Raises store.ConversationNotFound. The caller
    refuses after the session commits, so the refusal's audit entry is kept."""
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    reason = reason_to_see(session, conversation=conversation, staff=staff)
    store.audit(session, actor=staff.actor, action=action if reason else f"{action}_refused",
                target=conversation_id,
                details={"reason": reason or "not_their_work", "state": conversation.state})
    return conversation, reason


def refusal() -> ServiceError:
    return ServiceError(status_code=403, code="not_your_chat", message=NOT_YOUR_WORK)
