"""handoff/assignments/take_payment.py and approve_arrangement.py: only the owner of a verified chat acts; the
backend gets the specialist as X-Actor and keys from the console action; the customer is told once; the
backend's refusals reach the console as they are."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from handoff.assignments import approve_arrangement, claim, take_payment
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation, texts

QUOTE = {"quote_id": "pq_" + "q" * 32, "amount": "85.00", "summary": "Pay $85.00 now with Visa ending 1111?"}
REQUEST = "7f0c2a8e-2d1b-4c55-9a51-0d0f1c3b9e21"


class PaymentsBackend(FakeBackend):
    """The backend's payment writes: one payment per quote whatever the key, as the real one answers."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.payments: dict[str, dict[str, Any]] = {}

    async def create_payment_quote(self, **call: Any) -> dict[str, Any]:
        self.calls.append(("quote", call))
        if self.error is not None:
            raise self.error
        return QUOTE

    async def confirm_payment_quote(self, **call: Any) -> dict[str, Any]:
        self.calls.append(("confirm", call))
        return self.payments.setdefault(call["quote_id"], {
            "id": len(self.payments) + 1, "quote_id": call["quote_id"], "amount": "85.00", "status": "posted",
            "method": "Visa ending 1111", "total_due": "0.00", "expected_post_date": None})

    async def create_arrangement(self, **call: Any) -> dict[str, Any]:
        self.calls.append(("arrangement", call))
        body = call["body"]
        if body.get("kind") == "promise_to_pay" and not body["override_policy"]:
            raise BackendError(status_code=422, code="outside_policy",
                               message="The date is more than 14 days after the due date.")
        return {"id": 5, "kind": body["kind"], "status": "active", "amount": body.get("amount"),
                "pay_by": body.get("pay_by"), "instalments": [], "note": body.get("note"),
                "approved_outside_policy": body["override_policy"]}


@pytest.fixture
def backend() -> PaymentsBackend:
    return PaymentsBackend()


async def _claimed(services, *, customer_id: int | None = 1):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services, customer_id=customer_id)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    return conversation_id, dana


async def test_a_double_confirmation_pays_once_and_tells_the_customer_once(services, backend, recorder):
    conversation_id, dana = await _claimed(services)
    quote = await take_payment.quote(services=services, conversation_id=conversation_id, staff=dana,
                                     amount_choice="full_balance", amount=None, request_id=REQUEST)
    assert quote == QUOTE
    first = await take_payment.confirm(services=services, conversation_id=conversation_id, staff=dana,
                                       quote_id=QUOTE["quote_id"], request_id=REQUEST)
    again = await take_payment.confirm(services=services, conversation_id=conversation_id, staff=dana,
                                       quote_id=QUOTE["quote_id"], request_id=REQUEST)
    assert first == again and len(backend.payments) == 1
    confirms = [call for kind, call in backend.calls if kind == "confirm"]
    assert {(c["actor"], c["idempotency_key"], c["customer_id"]) for c in confirms} == {
        ("specialist:dana", f"handoff-{conversation_id}-pay-{REQUEST}", 1)}
    told = [text for sender, text in texts(services, conversation_id) if sender == "system"]
    assert told[-1] == "Dana took a payment of $85.00 with Visa ending 1111: posted. You now owe $0.00."
    assert sum("took a payment" in text for text in told) == 1


async def test_the_backends_refusal_reaches_the_console_as_it_is(services, backend):
    conversation_id, dana = await _claimed(services)
    backend.error = BackendError(status_code=422, code="nothing_due", message="Nothing is past due.")
    with pytest.raises(ServiceError) as refused:
        await take_payment.quote(services=services, conversation_id=conversation_id, staff=dana,
                                 amount_choice="past_due", amount=None, request_id=REQUEST)
    assert (refused.value.status_code, refused.value.code) == (422, "nothing_due")


async def test_an_unverified_chat_or_someone_elses_cannot_be_charged(services, backend):
    conversation_id, dana = await _claimed(services, customer_id=None)
    with pytest.raises(ServiceError) as unverified:
        await take_payment.quote(services=services, conversation_id=conversation_id, staff=dana,
                                 amount_choice="full_balance", amount=None, request_id=REQUEST)
    assert unverified.value.code == "unverified_customer"
    sam = add_staff(services, "sam2")
    with pytest.raises(ServiceError) as not_theirs:
        await take_payment.confirm(services=services, conversation_id=conversation_id, staff=sam,
                                   quote_id=QUOTE["quote_id"], request_id=REQUEST)
    assert not_theirs.value.code == "not_your_chat"
    assert backend.calls == []


def _promise(conversation_id: str, *, override: bool, note: str = "") -> dict[str, Any]:
    return approve_arrangement.request_body(
        conversation_id=conversation_id, kind="promise_to_pay", amount="75.00", pay_by=date(2026, 12, 20),
        instalments=None, override_policy=override, note=note)


async def test_outside_policy_needs_an_override_with_a_note(services, backend):
    conversation_id, dana = await _claimed(services, customer_id=6)
    with pytest.raises(ServiceError) as no_note:
        _promise(conversation_id, override=True)
    assert no_note.value.code == "note_required"
    with pytest.raises(ServiceError) as outside:
        await approve_arrangement.perform(services=services, conversation_id=conversation_id, staff=dana,
                                          body=_promise(conversation_id, override=False), request_id=REQUEST)
    assert (outside.value.status_code, outside.value.code) == (422, "outside_policy")
    body = _promise(conversation_id, override=True, note="Hospital stay; manager OK")
    made = await approve_arrangement.perform(services=services, conversation_id=conversation_id, staff=dana,
                                             body=body, request_id=REQUEST)
    assert made["approved_outside_policy"] is True
    _kind, call = backend.calls[-1]
    assert call["actor"] == "specialist:dana" and call["body"] == {
        "kind": "promise_to_pay", "conversation_id": conversation_id, "override_policy": True,
        "note": "Hospital stay; manager OK", "amount": "75.00", "pay_by": "2026-12-20"}
    assert texts(services, conversation_id)[-1] == (
        "system",
        "Dana set up a promise to pay $75.00 by 2026-12-20. Late fees are not added while it is kept.")
