"""handoff/queue/customer_name.py (issue 17): a verified customer the chat has no name for (verified through
the bot's form, or a token without a name) is named from the backend before joining the queue; a backend that
fails leaves the first name the bot kept, or nothing (the console writes a human label), never a failed
escalation; a chat with a name keeps it and asks nobody."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.clients.backend import BackendError
from handoff.conversations import escalation
from handoff.queue import status as queue_status
from tests.handoff.unit.support import FakeBackend, add_staff, conversation, new_conversation


class Customers(FakeBackend):
    """The stand-in backend with GET /customers/{id}, recorded; or failing."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[int, str]] = []
        self.error: BackendError | None = None

    async def get_customer(self, *, customer_id: int, actor: str) -> dict[str, Any]:
        self.asked.append((customer_id, actor))
        if self.error is not None:
            raise self.error
        return {"customer_id": customer_id, "first_name": "David", "last_name": "Kim"}

@pytest.fixture
def backend() -> Customers:
    return Customers()


async def _escalate(services, conversation_id: str, *, customer_id: int | None, **slots: Any) -> None:
    await escalation.perform(services=services, conversation_id=conversation_id, reason="request_human",
                             customer_id=customer_id, summary="wants a person", slots=slots)


@pytest.mark.parametrize("signed_in", [True, False], ids=["token-without-name", "verified-by-the-bot"])
async def test_a_verified_customer_without_a_name_is_named_from_the_backend(services, backend, signed_in):
    customers = backend
    add_staff(services, "dana")
    chat = new_conversation(services, customer_id=4 if signed_in else None, name=None)
    await _escalate(services, chat, customer_id=4)
    assert conversation(services, chat).customer_name == "David Kim"
    assert customers.asked == [(4, f"bot:{chat}")]
    entries = services.db.run_sync(queue_status.snapshot_in_session, settings=services.settings)
    assert [e["customer_name"] for e in entries] == ["David Kim"]


async def test_a_named_chat_asks_nobody_and_a_failing_backend_leaves_the_bots_first_name(services, backend):
    customers = backend
    customers.error = BackendError(status_code=503, code="backend_unavailable", message="down")
    add_staff(services, "dana")
    named = new_conversation(services, customer_id=1, name="Alice")
    await _escalate(services, named, customer_id=1)
    assert conversation(services, named).customer_name == "Alice" and customers.asked == []

    verified = new_conversation(services, customer_id=None, name=None)
    await _escalate(services, verified, customer_id=6, customer_first_name="Farid")
    assert conversation(services, verified).customer_name == "Farid"  # escalated all the same
    anonymous = new_conversation(services, customer_id=None, name=None)
    await _escalate(services, anonymous, customer_id=None)
    assert conversation(services, anonymous).customer_name is None
    assert [asked for asked, _actor in customers.asked] == [6]
