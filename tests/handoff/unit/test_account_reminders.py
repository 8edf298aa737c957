"""handoff/specialists/account_reminders.py: the account panel lists the payment reminders sent to the
customer, asked as the specialist who owns the chat (the backend audits that X-Actor's read); the backend's
own answer model (backend/reminders/schemas.py) fits the console's; an unverified chat, someone else's chat
and a backend that is down are clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from backend.reminders.models import ReminderKind
from backend.reminders.schemas import ReminderOut
from handoff.assignments import claim
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.specialists import account_reminders
from handoff.specialists.reminder_schemas import ReminderListResponse
from tests.handoff.unit.support import FakeBackend, add_staff, queued_conversation

FARID = 6
# What the backend answers, built with its own model: a field renamed there fails here.
REMINDER = ReminderOut(
    id=3, customer_id=FARID, kind=ReminderKind.past_due, subject="invoice:INV-2026-001105",
    invoice_number="INV-2026-001105", amount=Decimal("75.00"), due_date=date(2026, 11, 17),
    day=date(2026, 11, 18), mail_id="mail_" + "0" * 24, mail_status="sent",
    headline="You have $75.00 past due since November 17", created_at=datetime(2026, 11, 18, 6, tzinfo=UTC),
    seen_at=None,
).model_dump(mode="json")


class ListingBackend(FakeBackend):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self.refusal: BackendError | None = None

    async def list_reminders(self, *, customer_id: int, unseen: bool, limit: int,
                             actor: str) -> list[dict[str, Any]]:
        self.calls.append({"customer_id": customer_id, "unseen": unseen, "limit": limit, "actor": actor})
        if self.refusal:
            raise self.refusal
        return [dict(REMINDER)]


@pytest.fixture
def backend() -> ListingBackend:
    return ListingBackend()


async def test_the_owner_sees_every_reminder_sent(services, backend):
    dana = add_staff(services, "dana")
    chat = queued_conversation(services, customer_id=FARID)
    await claim.perform(services=services, conversation_id=chat, staff=dana)
    found = await account_reminders.list_reminders(services=services, conversation_id=chat, staff=dana)
    answer = ReminderListResponse.model_validate({"ok": True, "reminders": found})
    item = answer.reminders[0]
    assert (item.kind, item.headline, item.amount, item.mail_status, item.seen_at) == (
        "past_due", "You have $75.00 past due since November 17", "75.00", "sent", None)
    assert backend.calls == [{"customer_id": FARID, "unseen": False, "limit": 20, "actor": dana.actor}]

    backend.refusal = BackendError(status_code=503, code="backend_unavailable", message="Not reachable.")
    with pytest.raises(ServiceError) as down:
        await account_reminders.list_reminders(services=services, conversation_id=chat, staff=dana)
    assert down.value.status_code == 502 and down.value.message == "Not reachable."


async def test_an_unverified_chat_or_someone_elses_chat_gets_no_reminders(services, backend):
    dana, lee = add_staff(services, "dana"), add_staff(services, "lee")
    anonymous = queued_conversation(services, customer_id=None)
    await claim.perform(services=services, conversation_id=anonymous, staff=dana)
    with pytest.raises(ServiceError) as unverified:
        await account_reminders.list_reminders(services=services, conversation_id=anonymous, staff=dana)
    assert unverified.value.status_code == 409 and unverified.value.code == "unverified_customer"
    farids = queued_conversation(services, customer_id=FARID)
    await claim.perform(services=services, conversation_id=farids, staff=dana)
    with pytest.raises(ServiceError) as not_theirs:
        await account_reminders.list_reminders(services=services, conversation_id=farids, staff=lee)
    assert not_theirs.value.status_code in (403, 409)
    assert backend.calls == []
