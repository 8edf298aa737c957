"""A chat that becomes a ticket emails the ticket number, and "email me this conversation" emails the
transcript (issue 19), with real processes: the handoff service,
the backend (demo data, outbox, send loop) and the development SMTP server; Rasa is the stand-in."""

from __future__ import annotations

import asyncio
import json
import re
import time

from tests.backend.mail_support import DevMail
from tests.handoff.conftest import Widget, customer_token
from tests.handoff.test_email_real import REPLY_SECRET, backend, devmail  # noqa: F401 (fixtures)

DAVID = "david.kim@example.com"  # demo customer 4's address on file


def _mails(server: DevMail, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while len(found := server.messages(DAVID)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


async def test_a_verified_chat_ticket_emails_the_number_once(make_handoff, backend, devmail, stand_in):  # noqa: F811
    handoff = make_handoff(extra_env={"BACKEND_URL": backend.url, "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "true",
                                      "EMAIL_REPLY_SECRET": REPLY_SECRET})
    widget = Widget(handoff.ws_url, customer_token(4, "David"))
    await widget.connect()
    await widget.send("I want a human")
    status = await widget.wait_for(lambda f: f["type"] == "status" and f["state"] == "ticket")
    ticket = status["ticket_number"]
    note = await widget.wait_for(lambda f: f["type"] == "message" and "emailed you" in f["text"])
    assert note["text"] == f"I've also emailed you the ticket number {ticket}."

    [mail] = _mails(devmail, 1)
    assert mail["rcpt_to"] == [DAVID]  # the address on file: the handoff service never sent it
    assert mail["subject"] == f"We received your request ({ticket})"
    assert f"Your request is ticket {ticket}." in mail["text"] and "Hello David," in mail["text"]
    assert re.fullmatch(rf"reply\+{widget.conversation_id}\.[0-9a-f]{{16}}@reply\.example\.test",
                        mail["headers"]["Reply-To"])
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    await widget.send("I want a human please")  # asking again: the same ticket, no second email
    await asyncio.sleep(1.5)
    assert len(devmail.messages(DAVID)) == 1

    # "Email me this conversation": the transcript as the customer saw it, by real SMTP.
    await widget.socket.send(json.dumps({"type": "email_transcript", "client_id": "transcript-1"}))
    done = "I've emailed this conversation to you."
    sent = await widget.wait_for(lambda f: f["type"] == "message" and f["text"] == done)
    assert sent["sender"] == "system"
    transcript = next(m for m in _mails(devmail, 2) if m["subject"].startswith("Your conversation"))
    assert transcript["subject"] == f"Your conversation with billing support ({ticket})"
    assert "You: I want a human" in transcript["text"]
    assert f"I've opened ticket {ticket}" in transcript["text"]
    assert "<td" in transcript["html"]
    await widget.close()

    anonymous = Widget(handoff.ws_url)  # no address to send to: a clear refusal, nothing sent
    await anonymous.connect()
    await anonymous.socket.send(json.dumps({"type": "email_transcript", "client_id": "transcript-2"}))
    refused = await anonymous.wait_for(lambda f: f["type"] == "error")
    assert refused["code"] == "transcript_not_sent" and "client_id" not in refused
    await anonymous.close()
    assert len(devmail.messages()) == 2
