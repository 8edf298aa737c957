"""The widget's reminder notice (issue 19, "Outreach on time"; handoff/conversations/reminder_notice.py):
when a verified customer opens the chat, the newest unseen reminder becomes a system message with Pay now /
Talk to someone (buttons the customer may then press), stored once, marked seen at the backend; anonymous
chats and chats with a person get none; a backend that is down or slow leaves the chat as it was."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.conversations import payloads, reminder_notice, store
from tests.handoff.unit.support import FakeBackend, conversation, new_conversation, queued_conversation

FARID = 6
PAST_DUE = {"id": 41, "customer_id": FARID, "kind": "past_due", "amount": "75.00",
            "headline": "You have $75.00 past due since November 17", "seen_at": None}


class RemindingBackend(FakeBackend):
    """The backend's GET .../reminders?unseen=true and POST .../reminders/{id}/seen."""

    def __init__(self) -> None:
        super().__init__()
        self.reminders: dict[int, list[dict[str, Any]]] = {FARID: [dict(PAST_DUE)]}
        self.asked: list[int] = []
        self.reminder_error: BackendError | None = None
        self.delay = 0.0

    async def list_reminders(self, *, customer_id: int, unseen: bool, limit: int,
                             actor: str) -> list[dict[str, Any]]:
        assert actor == "system:widget" and unseen and limit == 1
        self.asked.append(customer_id)
        await asyncio.sleep(self.delay)
        if self.reminder_error is not None:
            raise self.reminder_error
        return [r for r in self.reminders.get(customer_id, []) if r["seen_at"] is None][:limit]

    async def mark_reminder_seen(self, *, customer_id: int, reminder_id: int, actor: str) -> dict[str, Any]:
        reminder = next(r for r in self.reminders[customer_id] if r["id"] == reminder_id)
        reminder["seen_at"] = reminder["seen_at"] or "2026-11-18T10:00:00Z"
        return reminder


@pytest.fixture
def backend() -> RemindingBackend:
    return RemindingBackend()


def _messages(services: Services, conversation_id: str) -> list[Any]:
    return services.db.run_sync(store.messages_after, conversation_id=conversation_id, after_seq=0)


def _show(services: Services, conversation_id: str) -> bool:
    return asyncio.run(reminder_notice.show_newest(services=services,
                                                   conversation=conversation(services, conversation_id)))


def test_the_newest_unseen_reminder_is_shown_once_with_its_buttons(services: Services,
                                                                    backend: RemindingBackend) -> None:
    chat = new_conversation(services, customer_id=FARID, name="Farid")
    assert _show(services, chat) is True
    notice = _messages(services, chat)[-1]
    assert (notice.sender, notice.text) == ("system", "You have $75.00 past due since November 17.")
    assert [b["title"] for b in notice.buttons] == ["Pay now", "Talk to someone"]
    assert backend.reminders[FARID][0]["seen_at"] is not None
    # The buttons are the current question: pressing one is accepted (Pay now reaches the bot as pay_bill).
    offered, question = services.db.run_sync(payloads.offered_payload, conversation_id=chat,
                                             payload="/pay_bill")
    assert offered == "/pay_bill" and question is not None and question.id == notice.id
    # Reopened (a reconnect, another tab, the next chat): seen, nothing more.
    assert _show(services, chat) is False
    backend.reminders[FARID][0]["seen_at"] = None  # even if the backend had not recorded it: stored once here
    assert _show(services, chat) is False
    assert len(_messages(services, chat)) == 2


def test_no_notice_for_anonymous_chats_or_chats_with_a_person(services: Services,
                                                               backend: RemindingBackend) -> None:
    anonymous = new_conversation(services, customer_id=None, name=None)
    assert _show(services, anonymous) is False
    queued = queued_conversation(services, customer_id=FARID)
    assert _show(services, queued) is False
    assert backend.asked == []  # the backend is not even asked


@pytest.mark.parametrize("failure", ["down", "slow"])
def test_backend_down_or_slow_leaves_the_chat_as_it_was(services: Services, backend: RemindingBackend,
                                                        failure: str, caplog: pytest.LogCaptureFixture,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if failure == "down":
        backend.reminder_error = BackendError(status_code=503, code="backend_unavailable", message="down")
    else:
        monkeypatch.setattr(reminder_notice, "BUDGET_SECONDS", 0.05)
        backend.delay = 1.0
    chat = new_conversation(services, customer_id=FARID, name="Farid")
    with caplog.at_level(logging.WARNING, logger="handoff.conversations.reminder_notice"):
        assert _show(services, chat) is False
    assert len(_messages(services, chat)) == 1
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert backend.reminders[FARID][0]["seen_at"] is None  # shown next time
