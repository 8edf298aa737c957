"""Who may act in a chat: chat staff only, and in an assigned chat only its owner (or a supervisor)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff.conversations import store
from handoff.conversations.states import State
from handoff.errors import ServiceError
from handoff.models import Conversation
from handoff.specialists.staff import Staff
from handoff.vocabulary import CHAT_ROLES, StaffRole

if TYPE_CHECKING:
    from handoff.context import Services


def require_chat_role(staff: Staff) -> None:
    if staff.role not in CHAT_ROLES:
        raise ServiceError(status_code=403, code="forbidden", message="Your role cannot take chats.")


def require_owner(conversation: Conversation, staff: Staff) -> None:
    if conversation.state != State.ASSIGNED:
        raise ServiceError(status_code=409, code="not_assigned",
                           message=f"This chat is {conversation.state}.")
    if conversation.assigned_specialist_id != staff.id and staff.role != StaffRole.SUPERVISOR:
        raise ServiceError(status_code=403, code="not_your_chat",
                           message="Another specialist owns this chat.")


def owned_conversation(session: Session, *, conversation_id: str, staff: Staff) -> Conversation:
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    require_owner(conversation, staff)
    return conversation


async def load_owned(*, services: Services, conversation_id: str, staff: Staff) -> Conversation:
    """The chat, if `staff` may act in it; 404 / 409 not_assigned / 403 not_your_chat otherwise."""
    try:
        return await services.run(owned_conversation, conversation_id=conversation_id, staff=staff)
    except store.ConversationNotFound:
        raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None
