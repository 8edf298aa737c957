"""The owner hands a chat to a colleague, who is told on their console (`transferred_to_you`), or back to a
team's queue (issue 17), where that team's specialists can claim it."""

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
from handoff.queue.teams import Team
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


TEAM_NAMES = {Team.DISPUTES: "disputes", Team.PAYMENTS: "payments", Team.GENERAL: "billing"}


def transfer_to_team_in_session(session: Session, *, conversation_id: str, staff: Staff,
                                to_team: str) -> Change:
    """Back to the queue, in `to_team`'s: a new wait (queued_at, SLA) and no owner."""
    if to_team not in set(Team):
        raise ServiceError(status_code=422, code="unknown_team",
                           message=f"to_team must be one of {sorted(str(team) for team in Team)}")
    conversation = owned_conversation(session, conversation_id=conversation_id, staff=staff)
    before = conversation.last_seq
    previous = store.get_staff(session, user_id=conversation.assigned_specialist_id)
    store.transition(session, conversation_id=conversation_id, target=State.QUEUED, actor=staff.actor,
                     note=f"transferred to team {to_team}", assigned_specialist_id=None, queued_at=utcnow(),
                     team=to_team, sla_alerted_at=None)
    store.end_assignment(session, conversation_id=conversation_id, reason=AssignmentEnd.TRANSFERRED)
    store.audit(session, actor=staff.actor, action="transfer", target=conversation_id,
                details={"to_team": to_team})
    leaving = previous.display_name if previous else staff.display_name
    store.append_message(session, conversation_id=conversation_id, sender=Sender.SYSTEM, human_phase=True,
                         text=f"{leaving} has passed your chat to our {TEAM_NAMES[Team(to_team)]} team. "
                              "The next specialist there will be with you shortly.")
    return Change(conversation_id, since_seq=before, status_changed=True, conversation_changed=True,
                  queue_changed=True, new_chat=True)


async def perform(*, services: Services, conversation_id: str, staff: Staff, to_username: str | None = None,
                  to_team: str | None = None) -> Change:
    """To a colleague (`to_username`) or to a team's queue (`to_team`): exactly one."""
    if (to_username is None) == (to_team is None):
        raise ServiceError(status_code=422, code="invalid_input",
                           message="Give either to_username or to_team.")
    if to_team is not None:
        change = await services.run(transfer_to_team_in_session, conversation_id=conversation_id, staff=staff,
                                    to_team=to_team)
    else:
        change = await services.run(transfer_in_session, conversation_id=conversation_id, staff=staff,
                                    to_username=to_username)
    await notifier.publish(change, services=services)
    return change
