"""handoff/specialists/canned_responses.py: supervisors keep the responses (audited; unknown placeholders
refused), the owner of a chat gets one filled from the customer's account, money written like the console."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from handoff.assignments import claim
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.models import AuditEntry
from handoff.specialists import canned_responses
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation

BODY = "Hi {first_name}, your balance is {total_due}, due on {due_date}."


class AccountBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.balance_error: BackendError | None = None
        self.actors: list[str] = []

    async def get_customer(self, *, customer_id: int, actor: str) -> dict[str, Any]:
        self.actors.append(actor)
        return {"customer_id": customer_id, "first_name": "David", "last_name": "Kim"}

    async def get_balance(self, *, customer_id: int, actor: str) -> dict[str, Any]:
        if self.balance_error is not None:
            raise self.balance_error
        return {"total_due": "1234.5", "next_due_date": "2026-12-05"}


@pytest.fixture
def backend() -> AccountBackend:
    return AccountBackend()


def test_money_and_dates_are_written_like_the_console():
    assert canned_responses.money("1234.5") == "$1,234.50"
    assert canned_responses.money("-3.1") == "-$3.10"
    assert canned_responses.money("0") == "$0.00"
    assert canned_responses.money("abc") is None
    assert canned_responses.long_date("2026-12-05") == "December 5, 2026"


async def test_a_supervisors_response_is_filled_from_the_account_of_the_owners_chat(services, backend):
    sam, dana = add_staff(services, "sam", role="supervisor"), add_staff(services, "dana")
    with pytest.raises(ServiceError) as typo:
        services.db.run_sync(canned_responses.create, staff=sam, title="Balance", body="Hi {firstname}")
    assert (typo.value.status_code, typo.value.code) == (422, "unknown_placeholder")
    made = services.db.run_sync(canned_responses.create, staff=sam, title="Balance", body=BODY)
    services.db.run_sync(canned_responses.update, staff=sam, response_id=made["id"], title="Balance due",
                         body=BODY)
    assert [r["title"] for r in services.db.run_sync(canned_responses.list_responses)] == ["Balance due"]

    conversation_id = queued_conversation(services, customer_id=4)
    with pytest.raises(ServiceError):  # not claimed yet: the account is not theirs to read
        await canned_responses.fill(services=services, conversation_id=conversation_id, staff=dana,
                                    response_id=made["id"])
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    filled = await canned_responses.fill(services=services, conversation_id=conversation_id, staff=dana,
                                         response_id=made["id"])
    assert filled == {"text": "Hi David, your balance is $1,234.50, due on December 5, 2026.", "missing": []}
    assert backend.actors == ["specialist:dana"]

    backend.balance_error = BackendError(status_code=503, code="unavailable", message="down")
    partly = await canned_responses.fill(services=services, conversation_id=conversation_id, staff=dana,
                                         response_id=made["id"])
    assert partly == {"text": "Hi David, your balance is {total_due}, due on {due_date}.",
                      "missing": ["total_due", "due_date"]}

    services.db.run_sync(canned_responses.delete, staff=sam, response_id=made["id"])
    assert services.db.run_sync(canned_responses.list_responses) == []
    audited = services.db.run_sync(lambda s: [e.action for e in s.scalars(
        select(AuditEntry).where(AuditEntry.action.like("%canned%")).order_by(AuditEntry.id))])
    assert audited == ["canned_response_created", "canned_response_updated", "use_canned_response",
                       "use_canned_response", "canned_response_deleted"]


async def test_an_unverified_customer_leaves_every_placeholder_missing(services, backend):
    sam, dana = add_staff(services, "sam", role="supervisor"), add_staff(services, "dana")
    made = services.db.run_sync(canned_responses.create, staff=sam, title="Hello", body=BODY)
    conversation_id = queued_conversation(services, customer_id=None)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    filled = await canned_responses.fill(services=services, conversation_id=conversation_id, staff=dana,
                                         response_id=made["id"])
    assert filled == {"text": BODY, "missing": ["first_name", "total_due", "due_date"]}
    assert backend.actors == []
