"""handoff/conversations/escalation.py: queued or a ticket; a repeat changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handoff.conversations import escalation
from handoff.errors import ServiceError
from handoff.pubsub import QUEUE_CHANNEL, conversation_channel
from tests.handoff.unit.support import TICKET_CONTACT, add_staff, conversation, new_conversation, texts


async def _escalate(services, conversation_id, reason="request_human", **extra):
    return await escalation.perform(services=services, conversation_id=conversation_id, reason=reason,
                                    customer_id=4, summary="wants a person", **extra)


async def test_with_a_specialist_online_the_customer_is_queued_with_position_and_eta(services, recorder):
    add_staff(services, "dana")
    conversation_id = new_conversation(services)
    escalated = await _escalate(services, conversation_id)
    assert escalated.answer == {"state": "queued", "position": 1, "eta_seconds": 300,
                               "wait_text": "about 5 minutes"}
    assert conversation(services, conversation_id).human_phase_start_seq == 2
    published = [(ch, event["kind"]) for ch, event in recorder.drain()]
    assert published == [(conversation_channel(conversation_id), "status"), (QUEUE_CHANNEL, "queue"),
                         (conversation_channel(conversation_id), "status")]


async def test_with_nobody_online_it_is_a_ticket_with_a_number_and_the_contact(services, recorder):
    conversation_id = new_conversation(services)
    escalated = await _escalate(services, conversation_id)
    ticket = conversation(services, conversation_id).ticket_number
    assert escalated.answer == {"state": "ticket", "ticket_number": ticket, "contact": TICKET_CONTACT}
    sender, text = texts(services, conversation_id)[-1]
    assert sender == "system"
    messages = [event["frame"]["text"] for _, event in recorder.drain() if event["kind"] == "message"]
    # exactly what the escalation wrote, then that the number went by email (handoff/email/outbound.py)
    assert messages == [texts(services, conversation_id)[-2][1], text]
    assert messages[0].startswith(f"I've opened ticket {ticket} for you.")
    assert text == f"I've also emailed you the ticket number {ticket}."


async def test_escalating_again_changes_nothing_and_answers_the_current_status(services, recorder):
    add_staff(services, "dana")
    conversation_id = new_conversation(services)
    await _escalate(services, conversation_id)
    recorder.drain()
    again = await _escalate(services, conversation_id, reason="dispute")
    assert again.answer["state"] == "queued"
    assert conversation(services, conversation_id).escalation_reason == "request_human"
    assert conversation(services, conversation_id).escalation_count == 1
    assert recorder.drain() == []


async def test_only_a_dispute_has_a_dispute_amount(services):
    add_staff(services, "dana")
    dispute, request = new_conversation(services), new_conversation(services)
    await _escalate(services, dispute, reason="dispute", dispute_id=7, line_item={"amount": "49.99"})
    await _escalate(services, request, slots={"amount": "$12.00"})
    assert conversation(services, dispute).dispute_amount == Decimal("49.99")
    assert conversation(services, request).dispute_amount is None


def test_the_dispute_amount_comes_from_the_line_item_else_the_amount_named():
    assert escalation.dispute_amount(reason="dispute", line_item={"amount": "$1,049.99"},
                                     slots={}) == Decimal(
        "1049.99")
    assert escalation.dispute_amount(reason="dispute", line_item=None,
                                     slots={"MONEY": "20"}) == Decimal("20.00")
    assert escalation.dispute_amount(reason="dispute", line_item={"amount": 1.5},
                                     slots={}) is None  # never float
    assert escalation.dispute_amount(reason="fallback", line_item={"amount": "5"}, slots={}) is None


async def test_bad_reason_and_unknown_conversation_are_clear_refusals(services):
    with pytest.raises(ServiceError) as bad:
        await _escalate(services, new_conversation(services), reason="bored")
    assert (bad.value.status_code, bad.value.code) == (422, "bad_reason")
    assert "'request_human'" in bad.value.message
    with pytest.raises(ServiceError) as unknown:
        await _escalate(services, "no-such-conversation")
    assert (unknown.value.status_code, unknown.value.code) == (404, "conversation_not_found")
