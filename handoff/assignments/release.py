"""The owner gives a chat back to the queue; the customer waits for the next specialist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.assignments.ownership import owned_conversation
from handoff.conversations import store
from handoff.conversations.states import State
from handoff.db import utcnow
from handoff.notifier import Change
from handoff.specialists.staff import Staff
from handoff.vocabulary import AssignmentEnd, Sender

if TYPE_CHECKING:
    from handoff.context import Services


def release_in_session(session: Session, *, conversation_id: str, staff: Staff) -> Change:
    conversation = owned_conversation(session, conversation_id=conversation_id, staff=staff)
    before = conversation.last_seq
    owner = store.get_staff(session, user_id=conversation.assigned_specialist_id)
    store.transition(session, conversation_id=conversation_id, target=State.QUEUED, actor=staff.actor,
                     note="released", assigned_specialist_id=None, queued_at=utcnow(),
                     sla_alerted_at=None)
    store.end_assignment(session, conversation_id=conversation_id, reason=AssignmentEnd.RELEASED)
    store.audit(session, actor=staff.actor, action="release", target=conversation_id)
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{owner.display_name if owner else staff.display_name} has left the chat. "
                              "You're back in the queue; the next specialist will be with you shortly.")
    return Change(conversation_id, since_seq=before, status_changed=True, conversation_changed=True,
                  queue_changed=True)


async def perform(*, services: Services, conversation_id: str, staff: Staff) -> Change:
    change = await services.run(release_in_session, conversation_id=conversation_id, staff=staff)
    await notifier.publish(change, services=services)
    return change
