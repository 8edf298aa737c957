"""handoff/specialists/credits.py: a credit without a dispute is issued once per filled form up to the
approval limit (50.00 here), waits for a supervisor above it, and its maker can never approve it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handoff.assignments import claim
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from handoff.pubsub import QUEUE_CHANNEL
from handoff.specialists import credits
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation, texts

FORM = "5b1f6a52-8d0e-4a43-9f65-0c1d2e3f4a5b"


class CreditsBackend(FakeBackend):
    """The backend's credits: one per Idempotency-Key, as the real one answers."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.credits: dict[str, dict[str, Any]] = {}

    async def list_invoices(self, **_call: Any) -> list[dict[str, Any]]:
        return [{"number": "INV-2026-000042"}, {"number": "INV-2026-000041"}]

    async def create_credit(self, **call: Any) -> dict[str, Any]:
        self.calls.append(call)
        if self.error is not None:
            raise self.error
        return self.credits.setdefault(call["idempotency_key"], {
            "id": 900 + len(self.credits), "amount": call["amount"],
            "invoice_number": call["invoice_number"]})


@pytest.fixture
def backend() -> CreditsBackend:
    return CreditsBackend()


async def _chat(services, owner):
    conversation_id = queued_conversation(services, customer_id=4)
    await claim.perform(services=services, conversation_id=conversation_id, staff=owner)
    return conversation_id


def _actions(services):
    return services.db.run_sync(lambda s: [(e.actor, e.action) for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action.like("credit%")).order_by(AuditEntry.id))])


async def test_a_credit_within_the_limit_is_issued_once_for_a_double_click(services, backend, recorder):
    dana = add_staff(services, "dana")
    conversation_id = await _chat(services, dana)
    asked = {"services": services, "conversation_id": conversation_id, "staff": dana, "amount": "20.00",
             "reason_code": "goodwill", "note": "Outage on Monday", "invoice_number": None,
             "request_id": FORM}
    first = await credits.request_credit(**asked)
    again = await credits.request_credit(**asked)
    assert first["id"] == again["id"] and first["status"] == "issued" == again["status"]
    assert first["invoice_number"] == "INV-2026-000042"  # the newest invoice
    assert len(backend.credits) == 1
    assert {(c["idempotency_key"], c["actor"], c["amount"]) for c in backend.calls} == {
        (f"handoff-credit-{first['id']}", "specialist:dana", "20.00")}
    told = [text for sender, text in texts(services, conversation_id) if sender == "system"]
    assert told.count("A credit of $20.00 was applied to your account (a goodwill credit).") == 1
    assert _actions(services) == [("specialist:dana", "credit_requested"),
                                  ("specialist:dana", "credit_issued")]
    assert [e["kind"] for c, e in recorder.drain() if c == QUEUE_CHANNEL].count("credits_changed") == 1


async def test_above_the_limit_another_supervisor_approves_and_the_maker_cannot(services, backend):
    sam, sue = add_staff(services, "sam", role="supervisor"), add_staff(services, "sue", role="supervisor")
    dana = add_staff(services, "dana")
    conversation_id = await _chat(services, sam)  # a supervisor as the maker, in their own chat
    pending = await credits.request_credit(
        services=services, conversation_id=conversation_id, staff=sam, amount="120.00",
        reason_code="billing_error", note="Charged twice for the router", invoice_number="INV-2026-000041",
        request_id=FORM)
    assert pending["status"] == "pending_approval" and backend.calls == []
    assert [c["id"] for c in services.db.run_sync(credits.pending)] == [pending["id"]]

    for who, code in ((sam, "own_credit"), (dana, "forbidden")):
        with pytest.raises(ServiceError) as refused:
            await credits.decide(services=services, credit_id=pending["id"], staff=who, approve=True)
        assert (refused.value.status_code, refused.value.code) == (403, code)
    approved = await credits.decide(services=services, credit_id=pending["id"], staff=sue, approve=True)
    assert approved["status"] == "issued" and approved["decided_by"]["username"] == "sue"
    assert [(c["actor"], c["amount"], c["invoice_number"]) for c in backend.calls] == [
        ("supervisor:sue", "120.00", "INV-2026-000041")]
    with pytest.raises(ServiceError) as twice:
        await credits.decide(services=services, credit_id=pending["id"], staff=sue, approve=True)
    assert (twice.value.status_code, twice.value.code) == (409, "already_decided")
    assert len(backend.calls) == 1
    assert ("supervisor:sam", "credit_approval_refused") in _actions(services)
    assert ("supervisor:sue", "credit_approved") in _actions(services)
    assert services.db.run_sync(credits.pending) == []


async def test_a_rejected_or_refused_credit_issues_nothing(services, backend):
    dana, sam = add_staff(services, "dana"), add_staff(services, "sam", role="supervisor")
    conversation_id = await _chat(services, dana)
    big = await credits.request_credit(
        services=services, conversation_id=conversation_id, staff=dana, amount="75.50",
        reason_code="goodwill", note="Long wait", invoice_number=None, request_id=FORM)
    rejected = await credits.decide(services=services, credit_id=big["id"], staff=sam, approve=False,
                                    note="Too much for a wait")
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "Too much for a wait")
    assert backend.calls == []

    backend.error = BackendError(status_code=404, code="not_found", message="No invoice INV-2026-000001.")
    with pytest.raises(ServiceError) as refused:
        await credits.request_credit(
            services=services, conversation_id=conversation_id, staff=dana, amount="5.00",
            reason_code="billing_error", note="x", invoice_number="INV-2026-000001", request_id=FORM + "x")
    assert refused.value.code == "not_found"
    [mine] = [c for c in services.db.run_sync(credits.credits_of, conversation_id=conversation_id, staff=dana)
              if c["amount"] == "5.00"]
    assert mine["status"] == "rejected" and "Refused by billing" in (mine["decision_note"] or "")
