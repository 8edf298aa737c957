"""A specialist takes a waiting chat (queued, or a ticket): exactly one of many racing claims wins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from handoff import notifier
from handoff.assignments.ownership import require_chat_role
from handoff.conversations import store
from handoff.conversations.states import CLAIMABLE_STATES, State
from handoff.db import utcnow
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.queue.teams import works_team
from handoff.specialists.staff import Staff
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services


def _too_late(session: Session, *, conversation_id: str, conflict: store.StateConflict) -> ServiceError:
    holder = ""
    latest = store.get_conversation(session, conversation_id=conversation_id)
    if latest.state == State.ASSIGNED and latest.assigned_specialist_id:
        owner = store.get_staff(session, user_id=latest.assigned_specialist_id)
        holder = f" {owner.display_name} already took it." if owner else ""
    return ServiceError(status_code=409, code="already_claimed",
                        message=f"Too late: this chat is {conflict.current_state}.{holder}")


def claim_in_session(session: Session, *, conversation_id: str, staff: Staff) -> Change:
    """The transaction; the conditional UPDATE in store.transition decides the race (409 already_claimed)."""
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    if not works_team(role=staff.role, teams=staff.teams, team=conversation.team):
        raise ServiceError(status_code=403, code="not_your_team",
                           message="This chat waits in another team's queue.")
    before = conversation.last_seq
    was_ticket = conversation.state == State.TICKET
    had_human_phase = conversation.human_phase_start_seq is not None
    now = utcnow()
    try:
        store.transition(session, conversation_id=conversation_id, target=State.ASSIGNED, actor=staff.actor,
                         note="claimed", allowed_from=frozenset(CLAIMABLE_STATES),
                         assigned_specialist_id=staff.id, assigned_at=now,
                         first_assigned_at=conversation.first_assigned_at or now)
    except store.StateConflict as conflict:
        raise _too_late(session, conversation_id=conversation_id, conflict=conflict) from None
    store.start_assignment(session, conversation_id=conversation_id, specialist_id=staff.id, now=now)
    if was_ticket or not had_human_phase:
        store.update_conversation(session, conversation_id=conversation_id, human_phase_start_seq=before + 1)
    store.audit(session, actor=staff.actor, action="claim", target=conversation_id)
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{staff.display_name} from Billing has joined the chat.")
    return Change(conversation_id, since_seq=before, status_changed=True, conversation_changed=True,
                  queue_changed=True)


async def perform(*, services: Services, conversation_id: str, staff: Staff) -> Change:
    require_chat_role(staff)
    try:
        change = await services.run(claim_in_session, conversation_id=conversation_id, staff=staff)
    except store.ConversationNotFound:
        raise ServiceError(status_code=404, code="conversation_not_found", message="No such chat.") from None
    await notifier.publish(change, services=services)
    return change
