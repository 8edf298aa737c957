"""handoff/assignments/settle_dispute.py: the backend settles; the key makes a retry harmless; all audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from handoff.assignments import claim, settle_dispute
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from tests.handoff.unit.support import add_staff, queued_conversation, texts


async def _claimed_dispute(services, staff, *, dispute_id=7, amount=Decimal("49.99")):
    conversation_id = queued_conversation(services, reason="dispute", dispute_id=dispute_id,
                                          dispute_amount=amount)
    await claim.perform(services=services, conversation_id=conversation_id, staff=staff)
    return conversation_id


async def test_accepting_credits_the_disputed_amount_by_default_with_a_deterministic_key(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = await _claimed_dispute(services, dana)
    dispute = await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                           decision="accepted", note="", credit_amount=None)
    assert dispute["status"] == "accepted"
    assert backend.settled == [{"dispute_id": 7, "decision": "accepted", "note": "Accepted by billing.",
                                "credit_amount": "49.99", "actor": "specialist:dana",
                                "idempotency_key": f"handoff-{conversation_id}-dispute-7-accepted"}]
    entries = services.db.run_sync(lambda session: list(session.scalars(
        select(AuditEntry).where(AuditEntry.action == "dispute_accepted"))))
    assert [(entry.target, entry.details["credit_amount"]) for entry in entries] == [(conversation_id,
                                                                                      "49.99")]
    # the customer is told the credit was applied, once (a double click or a retry is the same event)
    await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                 decision="accepted", note="", credit_amount=None)
    told = [text for sender, text in texts(services, conversation_id) if sender == "system"
            and "credit" in text]
    assert told == ["Your dispute 7 was accepted: a credit of $49.99 was applied to your account."]


async def test_a_typed_credit_wins_and_a_rejection_needs_a_note(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = await _claimed_dispute(services, dana)
    await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                 decision="accepted", note="partly", credit_amount="$12.5")
    assert backend.settled[-1]["credit_amount"] == "12.50"
    with pytest.raises(ServiceError) as no_note:
        await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                     decision="rejected", note="  ", credit_amount=None)
    assert (no_note.value.status_code, no_note.value.code) == (422, "note_required")


async def test_no_dispute_bad_amount_and_backend_failures_are_clear(services, backend):
    dana = add_staff(services, "dana")
    plain = queued_conversation(services)
    await claim.perform(services=services, conversation_id=plain, staff=dana)
    with pytest.raises(ServiceError) as none:
        await settle_dispute.perform(services=services, conversation_id=plain, staff=dana,
                                     decision="accepted",
                                     note="", credit_amount="5")
    assert (none.value.status_code, none.value.code) == (409, "no_dispute")
    conversation_id = await _claimed_dispute(services, dana, amount=None)
    with pytest.raises(ServiceError) as no_amount:
        await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                     decision="accepted", note="", credit_amount=None)
    assert no_amount.value.code == "bad_amount"
    backend.error = BackendError(status_code=503, code="backend_unavailable", message="Try again.")
    with pytest.raises(ServiceError) as down:
        await settle_dispute.perform(services=services, conversation_id=conversation_id, staff=dana,
                                     decision="rejected", note="not a billing error", credit_amount=None)
    assert (down.value.status_code, down.value.code) == (502, "backend_unavailable")
