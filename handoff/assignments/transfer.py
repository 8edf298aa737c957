"""The owner hands a chat to a colleague, who is told on their console (`transferred_to_you`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.assignments.ownership import owned_conversation
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.errors import ServiceError
from handoff.models import StaffUser
from handoff.notifier import Change
from handoff.specialists.staff import Staff
from handoff.vocabulary import CHAT_ROLES, AssignmentEnd, Sender

if TYPE_CHECKING:
    from handoff.context import Services


def _colleague(session: Session, *, to_username: str, current_owner_id: int | None) -> StaffUser:
    colleague = store.find_staff_by_username(session, username=to_username)
    if colleague is None or not colleague.active or colleague.role not in CHAT_ROLES:
        raise ServiceError(status_code=422, code="unknown_colleague",
                           message=f"'{to_username}' is not a specialist who can take chats.")
    if colleague.id == current_owner_id:
        raise ServiceError(status_code=422, code="same_specialist",
                           message="That colleague already owns this chat.")
    return colleague


def transfer_in_session(session: Session, *, conversation_id: str, staff: Staff, to_username: str) -> Change:
    conversation = owned_conversation(session, conversation_id=conversation_id, staff=staff)
    colleague = _colleague(session, to_username=to_username,
                           current_owner_id=conversation.assigned_specialist_id)
    before = conversation.last_seq
    previous = store.get_staff(session, user_id=conversation.assigned_specialist_id)
    now = utcnow()
    store.transition(session, conversation_id=conversation_id, target=State.ASSIGNED, actor=staff.actor,
                     note=f"transferred to {colleague.username}", assigned_specialist_id=colleague.id,
                     assigned_at=now)
    store.end_assignment(session, conversation_id=conversation_id, reason=AssignmentEnd.TRANSFERRED)
    store.start_assignment(session, conversation_id=conversation_id, specialist_id=colleague.id, now=now)
    store.audit(session, actor=staff.actor, action="transfer", target=conversation_id,
                details={"to": colleague.username})
    leaving = previous.display_name if previous else staff.display_name
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{leaving} has left the chat.")
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{colleague.display_name} from Billing has joined the chat.")
    return Change(conversation_id, since_seq=before, status_changed=True, conversation_changed=True,
                  queue_changed=True, transferred_to=colleague.id, transferred_by=staff.display_name)


async def perform(*, services: Services, conversation_id: str, staff: Staff, to_username: str) -> Change:
    change = await services.run(transfer_in_session, conversation_id=conversation_id, staff=staff,
                                to_username=to_username)
    await notifier.publish(change, services=services)
    return change
