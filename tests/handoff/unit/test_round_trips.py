"""The database round trips of one relayed customer message (issue 20), counted, never timed.

The real app's widget socket (/ws/chat) is spoken to as an ASGI app in this process, with the unit fixtures'
migrated SQLite, in-memory pub/sub and fake Rasa. A customer message in the bot phase costs: one transaction
that stores it (the conversation and a resend looked up in one statement, the seq, the row), one that claims
its turn (the oldest unanswered message with its conversation, the claim), one that stores the answer (the
message finished, the seq, the row); the answer is shown from memory, not read back
(bench/handoff_per_message.py measures the same path).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import event

from handoff.context import Services
from handoff.main import create_app

MAX_STATEMENTS_PER_MESSAGE = 7
MAX_TRANSACTIONS_PER_MESSAGE = 2


class Counted:
    """Statements (BEGIN/COMMIT not included), transactions, and database calls still running."""

    def __init__(self, services: Services) -> None:
        self.statements = self.transactions = self.running = 0
        engine = services.db.engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        run = services.db.run

        async def counted_run(work: Any, /, **kwargs: Any) -> Any:
            self.running += 1
            try:
                return await run(work, **kwargs)
            finally:
                self.running -= 1

        object.__setattr__(services.db, "run", counted_run)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.statements += 1

    def _begin(self, _conn: Any) -> None:
        self.transactions += 1


class Widget:
    def __init__(self, services: Services) -> None:
        app = create_app(services.settings)
        app.state.settings, app.state.services = services.settings, services
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": "/ws/chat",
                 "raw_path": b"/ws/chat", "root_path": "", "query_string": b"", "headers": [(b"host", b"t")],
                 "client": ("127.0.0.1", 5000), "server": ("t", 80), "subprotocols": [], "state": {}}
        self.task = asyncio.create_task(app(scope, self.inbox.get, self.outbox.put))

    async def frame(self) -> dict[str, Any]:
        message = await asyncio.wait_for(self.outbox.get(), 10)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def say(self, frame: dict[str, Any]) -> None:
        await self.inbox.put({"type": "websocket.receive", "text": json.dumps(frame)})

    async def close(self) -> None:
        await self.inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, 10)


async def idle(services: Services, counted: Counted) -> None:
    """No turn in flight and no database call running, twice in a row with the loop turned over between."""
    calm = 0
    while calm < 2:
        await asyncio.sleep(0.01)
        for _ in range(10):
            await asyncio.sleep(0)
        calm = calm + 1 if not services.turns.in_flight and not counted.running else 0


async def test_a_relayed_message_costs_three_transactions_and_eight_statements(services, rasa):
    counted = Counted(services)
    widget = Widget(services)
    await widget.inbox.put({"type": "websocket.connect"})
    assert (await asyncio.wait_for(widget.outbox.get(), 10))["type"] == "websocket.accept"
    await widget.say({"type": "hello"})
    assert (await widget.frame())["type"] == "welcome"
    assert (await widget.frame())["sender"] == "bot"  # the greeting
    await idle(services, counted)
    statements, transactions = counted.statements, counted.transactions
    messages = 3
    for index in range(messages):
        await widget.say({"type": "message", "client_id": f"c-{index}", "text": "what do I owe?"})
        frames = [await widget.frame() for _ in range(3)]
        # The ack, the customer's message shown back, the bot's answer: each once, in this order.
        assert [(f["type"], f.get("sender")) for f in frames] == [
            ("ack", None), ("message", "customer"), ("message", "bot")]
        assert frames[2]["text"] == "Your balance is $42.00."
        assert frames[2]["seq"] == frames[1]["seq"] + 1 == frames[0]["seq"] + 1
        await idle(services, counted)
    assert len(rasa.sent) == messages
    assert counted.transactions - transactions <= MAX_TRANSACTIONS_PER_MESSAGE * messages
    assert counted.statements - statements <= MAX_STATEMENTS_PER_MESSAGE * messages
    assert widget.outbox.empty()  # nothing shown twice
    await widget.close()
