"""handoff/queue/status.py: the queue in the order specialists should take it, and what a customer is told."""

from __future__ import annotations

from decimal import Decimal

from handoff.assignments import claim
from handoff.conversations import escalation
from handoff.queue import status as queue_status
from tests.handoff.unit.support import TICKET_CONTACT, add_staff, new_conversation, queued_conversation


async def test_disputes_first_then_the_rest_oldest_first(services):
    add_staff(services, "dana")
    plain = queued_conversation(services)
    small = queued_conversation(services, reason="dispute", dispute_id=1, dispute_amount=Decimal("5.00"))
    large = queued_conversation(services, reason="dispute", dispute_id=2, dispute_amount=Decimal("400.00"))
    snapshot = await queue_status.snapshot(services=services)
    assert [(entry["conversation_id"], entry["position"]) for entry in snapshot] == [(large, 1), (small, 2),
                                                                                    (plain, 3)]
    assert snapshot[0]["dispute_amount"] == "400.00" and snapshot[2]["dispute_amount"] is None
    assert snapshot[2]["summary"] == "wants a person"
    # One specialist online: position x the default handling time.
    assert await queue_status.status(services=services, conversation_id=plain) == {
        "type": "status", "state": "queued", "position": 3, "eta_seconds": 900,
        "wait_text": "about 15 minutes"}


async def test_a_ticket_names_its_contact_and_an_assigned_chat_its_specialist(services):
    ticket = new_conversation(services)
    await escalation.perform(services=services, conversation_id=ticket, reason="fallback", customer_id=None,
                             summary="")
    status = await queue_status.status(services=services, conversation_id=ticket)
    assert status["state"] == "ticket" and status["contact"] == TICKET_CONTACT and status["ticket_number"]
    dana = add_staff(services, "dana")
    await claim.perform(services=services, conversation_id=ticket, staff=dana)
    assert await queue_status.status(services=services, conversation_id=ticket) == {
        "type": "status", "state": "assigned", "agent_name": "Dana"}
    assert await queue_status.snapshot(services=services) == []
