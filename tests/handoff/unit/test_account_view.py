"""handoff/specialists/account_view.py: the account beside a claimed chat carries the payment methods (with
autopay, the last autopay and alerts) and the arrangements; a part the backend cannot give stands alone."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.assignments import claim
from handoff.clients.backend import BackendError
from handoff.specialists.account_view import account_snapshot
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation

METHODS = {"autopay": True, "on_file": [{"id": 6, "masked": "Visa ending 0005 (expires 01/2025)",
                                         "expired": True, "is_default": True, "kind": "card"}],
           "alerts": [{"code": "method_expired", "message": "Your Visa ending 0005 expired."}]}
ARRANGEMENTS = [{"id": 1, "kind": "promise_to_pay", "status": "active", "amount": "75.00", "instalments": []}]
FINDINGS = {"customer_id": 6, "currency": "USD", "checked_on": "2026-12-02", "findings": [
    {"id": "fnd_" + "a" * 24, "kind": "duplicate_charge", "summary": "Billed twice.",
     "confidence": 0.98, "amount": "49.00", "invoice_number": "INV-1", "line_item_id": 7, "bot_may_fix": True,
     "handover_reasons": [], "evidence": {"line_items": [], "policy_rule": None, "explanation": "Same."}},
]}


class AccountBackend(FakeBackend):
    """The backend's account reads, each recorded with its X-Actor; `failing` names reads that fail."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[str, int, str]] = []
        self.failing: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        if not name.startswith(("get_", "list_")):
            raise AttributeError(name)
        answers = {"get_payment_methods": METHODS, "list_arrangements": ARRANGEMENTS,
                   "list_findings": FINDINGS}

        async def read(*, customer_id: int, actor: str, **_: Any) -> Any:
            self.reads.append((name, customer_id, actor))
            if name in self.failing:
                raise BackendError(status_code=503, code="backend_unavailable", message="Not reachable.")
            return answers.get(name, {"read": name} if name.startswith("get_") else [])
        return read


@pytest.fixture
def backend() -> AccountBackend:
    return AccountBackend()


async def _claimed_by_dana(services):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services, customer_id=6)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    return conversation_id, dana


async def test_the_snapshot_has_payment_methods_and_arrangements_read_as_the_specialist(services, backend):
    conversation_id, dana = await _claimed_by_dana(services)
    snapshot = await account_snapshot(service=services, conversation_id=conversation_id, staff=dana)
    assert snapshot["payment_methods"] == {"ok": True, "data": METHODS}
    assert snapshot["arrangements"] == {"ok": True, "data": ARRANGEMENTS}
    read = {name: (customer_id, actor) for name, customer_id, actor in backend.reads}
    assert read["get_payment_methods"] == read["list_arrangements"] == (6, dana.actor)


async def test_a_failing_part_does_not_hide_the_others(services, backend):
    conversation_id, dana = await _claimed_by_dana(services)
    backend.failing = {"list_arrangements"}
    snapshot = await account_snapshot(service=services, conversation_id=conversation_id, staff=dana)
    assert snapshot["arrangements"] == {"ok": False, "error": {"code": "backend_unavailable",
                                                               "message": "Not reachable."}}
    assert snapshot["payment_methods"]["ok"] and snapshot["payments"]["ok"]


async def test_the_snapshot_has_the_account_check_s_findings_read_as_the_specialist(services, backend):
    conversation_id, dana = await _claimed_by_dana(services)
    snapshot = await account_snapshot(service=services, conversation_id=conversation_id, staff=dana)
    assert snapshot["findings"] == {"ok": True, "data": FINDINGS}
    assert ("list_findings", 6, dana.actor) in backend.reads
    backend.failing = {"list_findings"}  # the check failing hides nothing else
    snapshot = await account_snapshot(service=services, conversation_id=conversation_id, staff=dana)
    assert not snapshot["findings"]["ok"] and snapshot["invoices"]["ok"] and snapshot["disputes"]["ok"]
