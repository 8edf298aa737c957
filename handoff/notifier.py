"""The one place that tells live connections what changed: a use case commits, returns a `Change`, and
`publish` maps it to pub/sub events (handoff/pubsub.py), which the widget and console sockets forward.

Pub/sub only notifies; the database is the source of truth (a socket that misses an event catches up by seq).
Events, in this order for each change: `transferred_to_you` (staff channel), `message` (conversation channel,
one per stored message), `status`, `conversation_changed`; then, once for all changes, the queue to every
console and a fresh `status` to every queued customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handoff.conversations import store
from handoff.conversations.frames import message_frame
from handoff.conversations.states import State
from handoff.models import Message
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel, staff_channel
from handoff.queue import status as queue_status

if TYPE_CHECKING:
    from handoff.context import Services


@dataclass(frozen=True)
class Change:
    """What one committed transaction changed in one conversation."""

    conversation_id: str
    messages: tuple[Message, ...] = ()  # stored messages the caller holds, in seq order
    since_seq: int | None = None  # or: every message stored after this seq (loaded after the commit)
    status_changed: bool = False  # the customer's status frame (state, position, agent) is new
    conversation_changed: bool = False  # consoles watching it reload it (owner, state, context)
    queue_changed: bool = False  # the queue's entries or order moved
    new_chat: bool = False  # it just joined the queue (consoles may chime)
    transferred_to: int | None = None  # staff id of the colleague who now owns it
    transferred_by: str | None = None  # display name of who handed it over


async def publish(*changes: Change, services: Services) -> None:
    for change in changes:
        await _publish_one(change, services=services)
    if any(change.queue_changed for change in changes):
        new_chat = next((change.conversation_id for change in changes if change.new_chat), None)
        await publish_queue(services=services, new_chat=new_chat)


async def _publish_one(change: Change, *, services: Services) -> None:
    channel = conversation_channel(change.conversation_id)
    if change.transferred_to is not None:
        await services.pubsub.publish(staff_channel(change.transferred_to), {
            "kind": "transferred_to_you", "conversation_id": change.conversation_id,
            "from": change.transferred_by})
    messages = list(change.messages)
    if change.since_seq is not None:
        messages += await services.run(store.messages_after, conversation_id=change.conversation_id,
                                       after_seq=change.since_seq)
    for message in messages:
        await services.pubsub.publish(channel, {"kind": "message", "frame": message_frame(message)})
    if change.status_changed:
        await _publish_status(change.conversation_id, services=services)
    if change.conversation_changed:
        await services.pubsub.publish(channel, {"kind": "conversation_changed"})


async def _publish_status(conversation_id: str, *, services: Services) -> None:
    frame = await queue_status.status(services=services, conversation_id=conversation_id)
    await services.pubsub.publish(conversation_channel(conversation_id), {"kind": "status", "frame": frame})


async def publish_queue(*, services: Services, new_chat: str | None = None) -> None:
    """Tell consoles the queue changed and every waiting customer their new position (also every
    HOUSEKEEPING_SECONDS, as waiting moves the ETAs)."""
    snapshot = await queue_status.snapshot(services=services)
    await services.pubsub.publish(QUEUE_CHANNEL, {"kind": "queue", "entries": snapshot, "new_chat": new_chat})
    for entry in snapshot:
        if entry["state"] == State.QUEUED:
            await _publish_status(entry["conversation_id"], services=services)


async def publish_typing(*, services: Services, conversation_id: str, sender: str,
                         agent_name: str | None = None) -> None:
    """Someone is typing: not stored, just shown (customer's to the console, agent's to the widget)."""
    event: dict[str, str | None] = {"kind": "typing", "sender": sender}
    if agent_name is not None:
        event["agent_name"] = agent_name
    await services.pubsub.publish(conversation_channel(conversation_id), event)
