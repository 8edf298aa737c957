"""handoff/specialists/notes.py: internal notes stay with staff (never a message, never to Rasa, not even on
resolve), colleagues whose work needs the chat and supervisors read them, every note is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handoff.assignments import agent_message, claim, resolve
from handoff.conversations import customer_message
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from handoff.pubsub import conversation_channel
from handoff.specialists import notes, queries
from tests.handoff.unit.support import add_staff, queued_conversation, texts

NOTE = "Customer was overbilled last month too: check the October invoice before crediting."


def _audit(services, action):
    return services.db.run_sync(lambda s: [(e.actor, e.target, e.details) for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))])


async def test_a_note_reaches_colleagues_but_never_the_customer_or_rasa(services, rasa, recorder):
    dana, sam = add_staff(services, "dana"), add_staff(services, "sam", role="supervisor")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await customer_message.perform(services=services, conversation_id=conversation_id, client_id="c-1",
                                   text="why is it so high?", payload=None)
    recorder.drain()

    note = await notes.add_note(services=services, conversation_id=conversation_id, staff=dana,
                                text=f"  {NOTE} ")
    assert (note["text"], note["author"]) == (NOTE, {"username": "dana", "display_name": "Dana"})
    channel = conversation_channel(conversation_id)
    events = [event for published_on, event in recorder.drain() if published_on == channel]
    assert events == [{"kind": "note", "note": note}]  # only the "note" kind, which the widget ignores
    assert all(NOTE not in text for _sender, text in texts(services, conversation_id))

    seen_by_sam = services.db.run_sync(queries.conversation_detail, conversation_id=conversation_id,
                                       staff=sam, after_seq=0)
    assert seen_by_sam is not None and [n["text"] for n in seen_by_sam["notes"]] == [NOTE]
    assert [(actor, target) for actor, target, _ in _audit(services, "add_note")] == [
        ("specialist:dana", conversation_id)]

    await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                text="Let me check.", client_id=None)
    await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="explained")
    told_rasa = [event["text"] for _id, batch in rasa.appended for event in batch]
    assert told_rasa == ["why is it so high?", "Let me check."]  # the human phase, without the note
    assert all(NOTE not in sent["text"] for sent in rasa.sent)


async def test_a_specialist_whose_work_does_not_need_the_chat_cannot_add_a_note(services, recorder):
    dana, eve = add_staff(services, "dana"), add_staff(services, "eve")
    conversation_id = queued_conversation(services)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    with pytest.raises(ServiceError) as refused:
        await notes.add_note(services=services, conversation_id=conversation_id, staff=eve, text="hello")
    assert (refused.value.status_code, refused.value.code) == (403, "not_your_chat")
    refusals = _audit(services, "add_note_refused")
    assert [details["reason"] for _a, _t, details in refusals] == ["not_their_work"]
    assert services.db.run_sync(notes.notes_of, conversation_id=conversation_id) == []
    with pytest.raises(ServiceError) as empty:
        await notes.add_note(services=services, conversation_id=conversation_id, staff=dana, text="   ")
    assert empty.value.code == "empty_note"
