"""A ticket answered by email, and the customer's email reply reaching the same conversation in the console
(issue 19), with real processes: the handoff service, the backend (seeded demo data, its outbox and send
loop), the development SMTP server, and the signed inbound webhook. Rasa is the stand-in: once the ticket is
with a specialist, nothing reaches it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from handoff.email.signatures import sign_generic
from tests.backend.mail_support import DevMail, devmail_process
from tests.handoff.access_support import signed_in
from tests.handoff.conftest import REPO_ROOT, rasa_texts, transcript
from tests.support.stack import free_port

DAVID = "david.kim@example.com"  # demo customer 4's address on file
INBOUND_SECRET = "test-email-inbound-secret"
REPLY_SECRET = "test-email-reply-secret"
BACKEND_TOKEN = "test-backend-token"  # what tests/handoff/conftest.py's HandoffProcess sends


@dataclass
class Backend:
    url: str
    processes: list[subprocess.Popen[bytes]]


@pytest.fixture
def devmail(tmp_path: Path) -> Iterator[DevMail]:
    with devmail_process(tmp_path) as server:
        yield server


@pytest.fixture
def backend(tmp_path: Path, devmail: DevMail) -> Iterator[Backend]:
    """The real backend with the demo data, and its mail send loop pointed at the development SMTP server."""
    port = free_port()
    env = {**os.environ, "APP_ENV": "development",
           "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'backend.db'}", "BACKEND_API_TOKEN": BACKEND_TOKEN,
           "EMAIL_REPLY_SECRET": REPLY_SECRET,
           "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": str(devmail.smtp_port)}
    for command in ("migrate", "seed-demo"):
        subprocess.run([sys.executable, "-m", "backend.cli", command], cwd=REPO_ROOT, env=env, check=True,
                       capture_output=True)
    log = open(tmp_path / "backend.log", "ab")  # closed with the processes
    processes = [
        subprocess.Popen([sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                          "--port", str(port)], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "backend.cli", "send-mail", "--interval", "0.2"],
                         cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
    ]
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError("backend did not start: " + (tmp_path / "backend.log").read_text()[-3000:])
            time.sleep(0.2)
        yield Backend(url, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


async def inbound(handoff, message: dict) -> httpx.Response:
    raw = json.dumps(message).encode()
    signature = sign_generic(body=raw, secret=INBOUND_SECRET, timestamp=int(time.time()))
    async with httpx.AsyncClient(base_url=handoff.url, timeout=20) as client:
        return await client.post("/api/email/inbound/generic", content=raw,
                                 headers={"Content-Type": "application/json", "X-Email-Signature": signature})


def mail_to_david_containing(devmail: DevMail, text: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in devmail.messages(DAVID):
            if text in (message.get("text") or ""):
                return message
        time.sleep(0.2)
    raise AssertionError(f"no email to {DAVID} containing {text!r}: {devmail.messages()}")


async def test_a_ticket_answered_by_email_gets_the_customers_email_reply_in_the_console(
        make_handoff, backend, devmail, stand_in):
    handoff = make_handoff(extra_env={
        "BACKEND_URL": backend.url, "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "true",
        "EMAIL_INBOUND_SECRET": INBOUND_SECRET, "EMAIL_REPLY_SECRET": REPLY_SECRET,
    })
    # David emails; the (stand-in) bot passes it to a person; nobody is online: a ticket. The bot's answer
    # is emailed.
    first = await inbound(handoff, {
        "from": f"David Kim <{DAVID}>", "to": "billing@example.test", "subject": "Installation fee",
        "text": "I was charged twice for the installation, I want a human.",
        "message_id": "<first-1@mail.example.com>"})
    assert first.status_code == 200 and first.json()["outcome"] == "answering"
    conversation_id = first.json()["conversation_id"]
    bot_mail = mail_to_david_containing(devmail, "I've passed this to a billing specialist (ticket)")
    assert bot_mail["in_reply_to"] == "<first-1@mail.example.com>"

    # Dana claims the ticket in the console and answers; the answer goes to David by email.
    dana = await signed_in(handoff, "dana")
    queue = await dana.http.get("/api/console/queue")
    [entry] = [item for item in queue.json()["entries"] if item["conversation_id"] == conversation_id]
    assert (entry["state"], entry["channel"]) == ("ticket", "email")
    claimed = await dana.http.post(f"/api/console/conversations/{conversation_id}/claim", json={})
    assert claimed.status_code == 200, claimed.text
    sent = await dana.http.post(f"/api/console/conversations/{conversation_id}/messages",
                                json={"text": "We'll refund the second installation fee.",
                                      "client_id": "d-1"})
    assert sent.status_code == 200, sent.text
    reply_mail = mail_to_david_containing(devmail, "We'll refund the second installation fee.")
    reply_to = reply_mail["headers"]["Reply-To"]
    assert reply_to.startswith(f"reply+{conversation_id}.")

    # David answers that email: the webhook threads it into the same conversation, which Dana has.
    answer = await inbound(handoff, {
        "from": DAVID, "to": [reply_to], "subject": "Re: Installation fee",
        "text": "Thank you, please go ahead.\n\nOn Wed, Dana wrote:\n> We'll refund the second installation "
                "fee.",
        "message_id": "<second-2@mail.example.com>", "in_reply_to": reply_mail["message_id"]})
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "with_specialist"
    assert answer.json()["conversation_id"] == conversation_id
    messages = await transcript(handoff, conversation_id)
    assert [m["text"] for m in messages if m["sender"] == "customer"] == [
        "I was charged twice for the installation, I want a human.", "Thank you, please go ahead."]
    assert rasa_texts(stand_in, conversation_id) == [
        "I was charged twice for the installation, I want a human."]  # the reply never reached the bot
    # Delivered once each: the bot's answer and Dana's reply.
    assert len(devmail.messages(DAVID)) == 2
    await dana.close()
