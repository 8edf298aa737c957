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


def account_customer_id(conversation: Conversation) -> int | None:
    """The customer whose account a specialist works on: the signed-in customer, else the one the bot verified
    in this chat (account number and postal code; the action server names them when it escalates, stored as
    `context.customer_id`). The widget side never uses the latter: an anonymous chat stays anonymous there."""
    if conversation.customer_id is not None:
        return conversation.customer_id
    value = (conversation.context or {}).get("customer_id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


async def load_verified(*, services: Services, conversation_id: str, staff: Staff, refusal: str) -> int:
    """The owned chat's verified customer (account_customer_id); 409 unverified_customer with `refusal`."""
    conversation = await load_owned(services=services, conversation_id=conversation_id, staff=staff)
    customer_id = account_customer_id(conversation)
    if customer_id is None:
        raise ServiceError(status_code=409, code="unverified_customer", message=refusal)
    return customer_id


async def load_owned(*, services: Services, conversation_id: str, staff: Staff) -> Conversation:
    """The chat, if `staff` may act in it; 404 / 409 not_assigned / 403 not_your_chat otherwise."""
    try:
        return await services.run(owned_conversation, conversation_id=conversation_id, staff=staff)
    except store.ConversationNotFound:
        raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None
