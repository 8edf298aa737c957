"""The owner is typing: the widget shows "<name> is typing" (nothing is stored)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handoff import notifier
from handoff.assignments.ownership import load_owned
from handoff.specialists.staff import Staff
from handoff.vocabulary import Sender

if TYPE_CHECKING:
    from handoff.context import Services


async def perform(*, services: Services, conversation_id: str, staff: Staff) -> None:
    await load_owned(services=services, conversation_id=conversation_id,
                     staff=staff)  # only in a chat you work on
    await notifier.publish_typing(services=services, conversation_id=conversation_id, sender=Sender.AGENT,
                                  agent_name=staff.display_name)
