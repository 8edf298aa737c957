"""handoff/assignments/waive_late_fee.py: the owner of a verified chat applies the one-time late-fee waiver
(the backend's policy decides); the backend gets the specialist as X-Actor and a key from the console action,
so a double click waives and tells the customer once; a refusal reaches the console as it is. Also
payment_outcome: a secure-page outcome in a chat a person has is stored, and Rasa is not told."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from handoff.assignments import claim, waive_late_fee
from handoff.clients.backend import BackendError
from handoff.conversations import payment_outcome
from handoff.errors import ServiceError
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation, texts

REQUEST = "0b9d5f3e-7a61-4c1e-8f0a-2c4d6e8f1a3b"


class WaiverBackend(FakeBackend):
    """The backend's late-fee waiver: one credit per fee whatever the key, as the real one answers."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.waived: dict[int | None, dict[str, Any]] = {}

    async def waive_late_fee(self, **call: Any) -> dict[str, Any]:
        self.calls.append(call)
        if self.error is not None:
            raise self.error
        return self.waived.setdefault(call["line_item_id"], {
            "arrangement": {"id": 12, "kind": "late_fee_waiver", "status": "applied", "line_item_id": 105},
            "credit": {"id": 31, "amount": "25.00"}, "total_due": "60.00"})


@pytest.fixture
def backend() -> WaiverBackend:
    return WaiverBackend()


async def _claimed(services, *, customer_id: int | None = 1):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services, customer_id=customer_id)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    return conversation_id, dana


async def test_a_double_click_waives_once_and_tells_the_customer_once(services, backend):
    conversation_id, dana = await _claimed(services)
    first = await waive_late_fee.perform(services=services, conversation_id=conversation_id, staff=dana,
                                         line_item_id=None, request_id=REQUEST)
    again = await waive_late_fee.perform(services=services, conversation_id=conversation_id, staff=dana,
                                         line_item_id=None, request_id=REQUEST)
    assert first == again and first["total_due"] == "60.00"
    assert {(c["actor"], c["idempotency_key"], c["customer_id"]) for c in backend.calls} == {
        ("specialist:dana", f"handoff-{conversation_id}-waiver-{REQUEST}", 1)}
    told = [text for sender, text in texts(services, conversation_id) if sender == "system"]
    assert sum("waived the $25.00 late fee" in text for text in told) == 1
    assert told[-1] == ("Dana waived the $25.00 late fee as a one-time courtesy (a credit on your account). "
                        "You now owe $60.00.")


async def test_outside_policy_and_unverified_are_refused(services, backend):
    conversation_id, dana = await _claimed(services)
    backend.error = BackendError(status_code=422, code="outside_policy",
                                 message="The account had a late fee in the last 12 months.")
    with pytest.raises(ServiceError) as refused:
        await waive_late_fee.perform(services=services, conversation_id=conversation_id, staff=dana,
                                     line_item_id=None, request_id=REQUEST)
    assert (refused.value.status_code, refused.value.code) == (422, "outside_policy")
    assert "late fee in the last 12 months" in refused.value.message
    assert not [text for sender, text in texts(services, conversation_id) if "waived" in text]
    unverified = queued_conversation(services, customer_id=None)
    await claim.perform(services=services, conversation_id=unverified, staff=dana)
    with pytest.raises(ServiceError) as no_customer:
        await waive_late_fee.perform(services=services, conversation_id=unverified, staff=dana,
                                     line_item_id=None, request_id=REQUEST)
    assert no_customer.value.code == "unverified_customer"


async def test_a_page_outcome_in_a_chat_a_person_has_is_shown_and_rasa_is_not_told(services, rasa):
    conversation_id, _ = await _claimed(services, customer_id=6)
    stored = await payment_outcome.perform(
        services=services, event_id="payment-page-" + "c" * 32, conversation_id=conversation_id,
        customer_id=6, summary="Visa ending 4242 is saved as your payment method.",
        entities={"page_payment": "none", "page_autopay": "unchanged"})
    await asyncio.sleep(0.05)
    assert not stored.duplicate and not stored.with_bot
    assert rasa.triggered == []
    assert ("system", "Visa ending 4242 is saved as your payment method.") in texts(services, conversation_id)
