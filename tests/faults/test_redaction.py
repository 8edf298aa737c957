"""Card and bank numbers a customer types are masked everywhere they could come to rest (issue 8):
the handoff service's stored transcript, Rasa's tracker store, every process's log, and the context package
a specialist sees when the chat is escalated (plus the dispute the billing system keeps).

One real conversation through the WebSocket (module fixture) with realistic numbers; each test looks in one
place. A number counts as leaked when any 10 consecutive characters of its hidden part (everything but the
last four) appear with separators removed, or, for a short number, the whole number does.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from dataclasses import dataclass

import httpx
import pytest

from tests.faults.support import Specialist, acked, answer_to, said, widget_for
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.postgres]
BAD_INPUT = "bad input"

# Luhn-valid cards, valid IBANs, a real routing number (ABA check digit) and US account numbers.
SECRETS = {
    "visa with spaces": ("4539 1488 0343 6467", "**** **** **** 6467"),
    "mastercard with dashes": ("5105-1051-0510-5100", "****-****-****-5100"),
    "visa, no separators": ("4539148803436467", "************6467"),
    "amex 4-6-5": ("3782 822463 10005", "**** ****** *0005"),
    "IBAN (DE), grouped": ("DE89 3704 0044 0532 0130 00", "**** **** **** **** **30 00"),
    "IBAN (GB), lower case": ("gb82 west 1234 5698 7654 32", "**** **** **** **** **54 32"),
    "IBAN (NL), compact": ("NL91ABNA0417164300", "**************4300"),
    "US routing number": ("021000021", "*****0021"),
    "US account (9 digits)": ("483022195", "*****2195"),
    "US account (8 digits)": ("73920418", "****0418"),
}
BOT_PHASE = "I paid with my new card {visa with spaces} last week"
DISPUTE_REASON = ("I paid on time with card {visa, no separators} from account {IBAN (NL), compact}, "
                  "the late fee is wrong")
HUMAN_PHASE = [
    "the old card was {mastercard with dashes}, and my husband's is {amex 4-6-5}",
    "refunds to my bank please: IBAN {IBAN (DE), grouped}",
    "or to this one: {IBAN (GB), lower case}",
    "my US bank: routing {US routing number}, checking account {US account (9 digits)}",
    "savings account {US account (8 digits)} if that's easier",
]
AGENT_LINE = "Thanks, I'll refund to the card ending {mastercard with dashes}."


def fill(template: str, which: int = 0) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: SECRETS[m.group(1)][which], template)


def compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).lower()


def needles(secret: str) -> set[str]:
    digits = compact(secret)
    if len(digits) < 14:
        return {digits}
    hidden = digits[:-4]
    return {hidden[i:i + 10] for i in range(len(hidden) - 9)}


def leaked(haystack: str) -> list[str]:
    flat = compact(haystack)
    return [name for name, (secret, _) in SECRETS.items() if any(n in flat for n in needles(secret))]


@dataclass
class Typed:
    conversation_id: str
    context: dict
    messages: list[dict]
    queue_entry: dict
    disputes: list[dict]


@pytest.fixture(scope="module")
def typed(stack: Stack) -> Typed:
    return asyncio.run(type_everything(stack))


async def type_everything(stack: Stack) -> Typed:
    """Alice types a card number to the bot, disputes her late fee giving a card and an IBAN as the reason,
    and types the other numbers to the specialist, who answers with one and resolves (so the human phase is
    written to Rasa's tracker too)."""
    widget = widget_for(stack, 1, "Alice")
    await widget.connect()
    assert (await answer_to(widget, fill(BOT_PHASE)))[0]["type"] == "ack"
    reply = await answer_to(widget, "I want to dispute the late fee")
    buttons = [b for f in reply if f["type"] == "message" for b in f.get("buttons") or []]
    dispute_it = next((b for b in buttons if b["title"] == "No, open a dispute"), None)
    if dispute_it is not None:  # her first late fee: the one-time waiver is offered first (issue 16)
        reply = await answer_to(widget, dispute_it["title"], payload=dispute_it["payload"])
        buttons = [b for f in reply if f["type"] == "message" for b in f.get("buttons") or []]
    late_fee = next((b for b in buttons if "late" in b["title"].lower()), None)
    if late_fee is not None:
        reply = await answer_to(widget, late_fee["title"], payload=late_fee["payload"])
    assert "wrong with" in said(reply), reply
    reply = await answer_to(widget, fill(DISPUTE_REASON))
    confirm = next(
        b for f in reply if f["type"] == "message" for b in f.get("buttons") or [] if "Yes" in b["title"]
    )
    reply = await answer_to(widget, confirm["title"], payload=confirm["payload"])
    assert any(f["type"] == "status" and f["state"] == "queued" for f in reply), reply

    async with Specialist(stack) as dana:
        queue_entry = next(e for e in await dana.queue() if e["conversation_id"] == widget.conversation_id)
        path = f"/api/console/conversations/{widget.conversation_id}"
        assert (await dana.post(f"{path}/claim")).status_code == 200
        for template in HUMAN_PHASE:
            await acked(widget, fill(template))
        assert (await dana.post(f"{path}/messages", {"text": fill(AGENT_LINE)})).status_code == 200
        detail = await dana.conversation(widget.conversation_id)
        assert (await dana.post(f"{path}/resolve", {"outcome": "explained"})).status_code == 200
    await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "bot", timeout=30)
    await widget.close()
    async with httpx.AsyncClient(headers=stack.backend_headers(), timeout=10) as backend:
        disputes = (await backend.get(f"{stack.backend_url}/api/v1/customers/1/disputes")).json()
    return Typed(
        conversation_id=widget.conversation_id, context=detail["context"], messages=detail["messages"],
        queue_entry=queue_entry, disputes=disputes,
    )


def expected_masks() -> list[str]:
    return [masked for _, masked in SECRETS.values()]


@pytest.mark.trust_case(
    area=BAD_INPUT, case="Card and bank numbers typed in chat: the stored transcript",
    expected="masked to the last four (cards with spaces/dashes/none, Amex, IBANs in any "
    "case, US routing and account numbers)",
)
def test_the_stored_transcript_keeps_only_the_last_four(typed: Typed) -> None:
    customer_text = "\n".join(m["text"] for m in typed.messages if m["sender"] == "customer")
    assert leaked(json.dumps(typed.messages)) == []
    for masked in expected_masks():
        assert masked in customer_text, (masked, customer_text)
    assert fill(AGENT_LINE, 1) in [m["text"] for m in typed.messages if m["sender"] == "agent"]


@pytest.mark.trust_case(
    area=BAD_INPUT, case="Card and bank numbers typed in chat: Rasa's tracker store",
    expected="only masked text reaches Rasa (bot turns, and the human phase written on resolve), "
    "so its events table holds no number",
)
def test_rasas_tracker_store_holds_only_masked_numbers(stack: Stack, typed: Typed) -> None:
    with sqlite3.connect(stack.tracker_db) as tracker:
        rows = tracker.execute("SELECT type_name, data FROM events WHERE sender_id = ?",
                               (typed.conversation_id,)).fetchall()
    # Customer turns are user events; the human phase is written as bot events when the chat is resolved.
    texts = [json.loads(data).get("text") or "" for kind, data in rows if kind in ("user", "bot")]
    assert leaked("\n".join(data for _, data in rows)) == []
    for masked in expected_masks():
        assert any(masked in text for text in texts), (masked, texts)


@pytest.mark.trust_case(
    area=BAD_INPUT, case="Card and bank numbers typed in chat: the escalation context package",
    expected="the summary, slots and dispute reason the specialist sees, the queue entry and the "
    "billing system's dispute record hold only masked numbers",
)
def test_the_context_package_and_the_dispute_hold_only_masked_numbers(typed: Typed) -> None:
    reason = next(d["reason"] for d in typed.disputes if d["conversation_id"] == typed.conversation_id)
    assert "************6467" in reason and "**************4300" in reason, reason
    assert "************6467" in typed.context["summary"], typed.context["summary"]
    for name, package in (("context", typed.context), ("queue entry", typed.queue_entry),
                          ("dispute", typed.disputes)):
        assert leaked(json.dumps(package)) == [], name


@pytest.mark.trust_case(
    area=BAD_INPUT, case="Card and bank numbers typed in chat: the logs of every process",
    expected="no number in the backend's, action server's, Rasa's or handoff's stdout/stderr",
)
def test_no_process_log_holds_a_number(stack: Stack, typed: Typed) -> None:
    logs = stack.logs()
    assert set(logs) >= {"backend", "actions", "rasa", "handoff"}
    assert all(logs.values()), "every process wrote its log"
    assert {name: leaked(text) for name, text in logs.items()} == {name: [] for name in logs}
