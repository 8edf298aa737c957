"""handoff/notifier.py: one Change -> the pub/sub events, in the order the sockets rely on."""

from __future__ import annotations

from handoff import notifier
from handoff.conversations import store
from handoff.notifier import Change
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel, staff_channel
from tests.handoff.unit.support import add_staff, new_conversation, queued_conversation


async def test_a_change_becomes_transfer_messages_status_changed_then_queue(services, recorder):
    colleague = add_staff(services, "erin")
    conversation_id = queued_conversation(services)
    before = services.db.run_sync(store.get_conversation, conversation_id=conversation_id).last_seq
    services.db.run_sync(store.append_message, conversation_id=conversation_id, sender="system", text="one")
    services.db.run_sync(store.append_message, conversation_id=conversation_id, sender="system", text="two")
    channel = conversation_channel(conversation_id)

    await notifier.publish(Change(conversation_id, since_seq=before, status_changed=True,
                                  conversation_changed=True,
                                  queue_changed=True, new_chat=True, transferred_to=colleague.id,
                                  transferred_by="Dana"), services=services)

    events = recorder.drain()
    assert [(ch, event["kind"]) for ch, event in events] == [
        (staff_channel(colleague.id), "transferred_to_you"),
        (channel, "message"), (channel, "message"), (channel, "status"), (channel, "conversation_changed"),
        (QUEUE_CHANNEL, "queue"),
        (channel, "status"),  # with the queue, every queued customer's fresh position
    ]
    assert events[0][1] == {"kind": "transferred_to_you", "conversation_id": conversation_id, "from": "Dana"}
    assert [event["frame"]["text"] for _, event in events[1:3]] == ["one", "two"]
    assert events[3][1]["frame"] == {"type": "status", "state": "queued", "position": 1, "eta_seconds": 300,
                                     "wait_text": "about 5 minutes"}
    assert events[5][1]["new_chat"] == conversation_id
    assert [entry["conversation_id"] for entry in events[5][1]["entries"]] == [conversation_id]


async def test_an_empty_change_publishes_nothing(services, recorder):
    conversation_id = new_conversation(services)
    await notifier.publish(Change(conversation_id), services=services)
    assert recorder.drain() == []


async def test_several_changes_broadcast_the_queue_once(services, recorder):
    first, second = queued_conversation(services), queued_conversation(services)
    await notifier.publish(Change(first, queue_changed=True), Change(second, queue_changed=True),
                           services=services)
    assert recorder.kinds(QUEUE_CHANNEL) == ["queue"]


async def test_typing_is_only_shown(services, recorder):
    conversation_id = new_conversation(services)
    await notifier.publish_typing(services=services, conversation_id=conversation_id, sender="customer")
    await notifier.publish_typing(services=services, conversation_id=conversation_id, sender="agent",
                                  agent_name="Dana")
    assert [event for _, event in recorder.drain()] == [
        {"kind": "typing", "sender": "customer"}, {"kind": "typing", "sender": "agent", "agent_name": "Dana"}]
