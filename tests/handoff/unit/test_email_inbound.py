"""Inbound email as a conversation (handoff/email/, issue 19), in process: the signed webhook (generic and
Mailgun), parsing and safety, threading, loop protection, the bot's answer and the specialist's reply by
email. Rasa and the backend are fakes; the database, pub/sub and routes are the real ones."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from handoff.assignments import agent_message, claim, resolve
from handoff.clients.backend import BackendError
from handoff.clients.rasa import BotReply
from handoff.conversations import escalation, store
from handoff.conversations.payloads import CSAT_BUTTONS
from handoff.email import bot_reply, mail, threads
from handoff.email import routes as email_routes
from handoff.email.parsing import BadMessage, conversation_text, parse_generic
from handoff.email.signatures import reply_address, sign_generic, sign_mailgun
from handoff.errors import ServiceError, install_error_handlers
from handoff.models import Conversation, Message
from handoff.queue import status as queue_status
from tests.handoff.unit.support import FakeBackend, add_staff, conversation, queued_conversation, texts

SECRET = "dev-email-inbound-secret"
REPLY_SECRET = "dev-email-reply-secret"
DOMAIN = "reply.example.test"
DAVID = "david.kim@example.com"  # customer 4's address on file (FakeBackend.emails_on_file)
ALICE = "alice.moreno@example.com"  # customer 1
REPO = Path(__file__).resolve().parents[3]


class MailBackend(FakeBackend):
    """The fake backend plus what inbound email uses: customers by address on file, and the outbound mail
    API (records each request; the same Idempotency-Key answers the same message, as the backend does)."""

    emails_on_file: ClassVar[dict[str, int]] = {DAVID: 4, ALICE: 1}
    names: ClassVar[dict[int, str]] = {1: "Alice", 4: "David"}

    def __init__(self) -> None:
        super().__init__()
        self.mails: list[dict[str, Any]] = []
        self.mail_error: BackendError | None = None

    async def find_customer_by_email(self, *, address: str, actor: str) -> int | None:
        return self.emails_on_file.get(address.strip().lower())

    async def get_customer(self, *, customer_id: int, actor: str) -> dict[str, Any]:
        return {"customer_id": customer_id, "first_name": self.names[customer_id]}

    async def send_mail(self, *, body: dict[str, Any], idempotency_key: str, actor: str) -> dict[str, Any]:
        if self.mail_error is not None:
            raise self.mail_error
        for earlier in self.mails:
            if earlier["key"] == idempotency_key:
                return earlier["answer"]
        conversation_id = body.get("thread", {}).get("conversation_id", "none")
        answer = {"id": f"mail_{len(self.mails):024d}", "status": "queued",
                  "message_id": f"<conv-{conversation_id}-{len(self.mails):032x}@{DOMAIN}>"}
        self.mails.append({"key": idempotency_key, "actor": actor, "body": body, "answer": answer})
        return answer


@pytest.fixture
def backend() -> MailBackend:
    return MailBackend()


@pytest.fixture
def client(services):
    app = FastAPI()
    app.state.services = services
    app.state.settings = services.settings
    install_error_handlers(app)
    app.include_router(email_routes.router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://handoff.test")


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    monkeypatch.setattr(mail, "RETRY_DELAYS_SECONDS", (0.0, 0.0))


_counter = iter(range(1, 10_000))


def email(**fields: Any) -> dict[str, Any]:
    n = next(_counter)
    return {"from": f"David Kim <{DAVID}>", "to": ["billing@example.test"], "subject": "My bill",
            "text": "What is my balance?",
            "message_id": f"<customer-{n}-{time.time_ns()}@mail.example.com>"} | fields


async def post(client, body: dict[str, Any] | bytes, *, secret: str = SECRET, timestamp: int | None = None,
               signature: str | None = None) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature if signature is not None else sign_generic(
        body=raw, secret=secret, timestamp=timestamp if timestamp is not None else int(time.time()))
    return await client.post("/api/email/inbound/generic", content=raw,
                             headers={"Content-Type": "application/json", "X-Email-Signature": header})


async def settled(services) -> None:
    """The bot turns the webhook started (they run after its answer)."""
    while services.turns.in_flight:
        await asyncio.gather(*list(services.turns.in_flight))


def mails(backend: MailBackend) -> list[dict[str, Any]]:
    return backend.mails


def conversations(services) -> int:
    return services.db.run_sync(lambda session: session.scalar(select(func.count(Conversation.id))))


# --- the webhook, its signature and its refusals ---------------------------------------------------------

async def test_a_customers_email_is_answered_by_the_bot_by_email(services, client, rasa, backend):
    sent = email()
    response = await post(client, sent)
    assert response.status_code == 200
    answer = response.json()
    assert answer["outcome"] == "answering" and answer["seq"] == 1
    await settled(services)
    conversation_id = answer["conversation_id"]
    stored = conversation(services, conversation_id)
    assert (stored.channel, stored.customer_id, stored.customer_name) == ("email", 4, "David")
    assert (stored.email_address, stored.email_subject) == (DAVID, "My bill")
    # The same bot turn as chat: Rasa gets the text with the matched customer's identity.
    assert rasa.sent == [{"conversation_id": conversation_id, "text": "What is my balance?",
                          "customer_id": 4}]
    assert rasa.channels == ["email"]  # an action delivers a document by this reply, not a mail of its own
    assert texts(services, conversation_id) == [("customer", "What is my balance?"),
                                                ("bot", "Your balance is $42.00.")]
    [queued] = mails(backend)
    assert queued["key"] == f"email-bot-reply:{conversation_id}:1"
    assert queued["actor"] == f"bot:{conversation_id}"
    assert queued["body"] == {
        "template": "bot_reply", "customer_id": 4,  # the address on file, never the From header
        "context": {"body_text": "Your balance is $42.00.", "subject": "My bill"},
        "thread": {"conversation_id": conversation_id, "in_reply_to": sent["message_id"]},
    }


@pytest.mark.parametrize("tamper", ["missing", "wrong secret", "stale", "body changed", "malformed"])
async def test_a_bad_signature_is_401_stores_nothing_and_logs_one_warning(services, client, rasa, tamper,
                                                                          caplog):
    body = json.dumps(email()).encode()
    signature = {
        "missing": "",
        "wrong secret": sign_generic(body=body, secret="not-the-secret", timestamp=int(time.time())),
        "stale": sign_generic(body=body, secret=SECRET, timestamp=int(time.time()) - 301),
        "body changed": sign_generic(body=body + b" ", secret=SECRET, timestamp=int(time.time())),
        "malformed": "v1=abc",
    }[tamper]
    with caplog.at_level(logging.WARNING, logger="handoff.email"):
        response = await post(client, body, signature=signature)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert conversations(services) == 0 and rasa.sent == []
    refusals = [record for record in caplog.records if "inbound email refused" in record.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.WARNING
    assert "What is my balance" not in caplog.text  # never the body


async def test_unknown_provider_huge_and_unreadable_bodies_are_refused(services, client, caplog):
    assert (await client.post("/api/email/inbound/sendgrid", content=b"{}")).status_code == 404
    services.settings.email_inbound_max_bytes = 2048
    huge = await post(client, email(text="x" * 5000))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    for body in (b"not json", json.dumps(["a list"]).encode(),
                 json.dumps(email(**{"from": "nobody"})).encode(),
                 json.dumps(email(text=None, subject="", html="<script>only()</script>")).encode()):
        response = await post(client, body)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "bad_message"
    assert conversations(services) == 0
    assert "Traceback" not in caplog.text


async def test_the_mailgun_adapter_checks_mailguns_signature(services, client, rasa):
    timestamp, token = str(int(time.time())), "a" * 50
    fields = {"timestamp": timestamp, "token": token,
              "signature": sign_mailgun(timestamp=timestamp, token=token, secret=SECRET),
              "sender": DAVID, "from": f"David Kim <{DAVID}>", "recipient": "billing@example.test",
              "subject": "Balance", "body-plain": "How much do I owe?\n\n-- \nDavid",
              "Message-Id": "<mg-1@mail.example.com>",
              "message-headers": json.dumps([["Subject", "Balance"], ["X-Mailgun-Spf", "Pass"]])}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post("/api/email/inbound/mailgun", content=urlencode(fields), headers=form)
    assert response.status_code == 200 and response.json()["outcome"] == "answering"
    await settled(services)
    assert rasa.sent[0]["text"] == "How much do I owe?" and rasa.sent[0]["customer_id"] == 4  # signature cut
    forged = fields | {"signature": sign_mailgun(timestamp=timestamp, token=token, secret="other")}
    refused = await client.post("/api/email/inbound/mailgun", content=urlencode(forged), headers=form)
    assert refused.status_code == 401
    # A multipart delivery with an attachment: noted, not stored.
    files = {"attachment-1": ("bill.pdf", b"%PDF-1.4 not stored", "application/pdf")}
    multipart = await client.post("/api/email/inbound/mailgun",
                                  data=fields | {"Message-Id": "<mg-2@mail.example.com>"}, files=files)
    assert multipart.status_code == 200
    last = texts(services, multipart.json()["conversation_id"])
    note = "[Attachments not stored: bill.pdf (application/pdf, 19 bytes)]"
    assert ("customer", f"How much do I owe?\n\n{note}") in last


# --- parsing and safety ----------------------------------------------------------------------------------

def test_html_only_becomes_text_without_scripts_styles_or_quoted_history():
    html = ("<html><head><style>p{color:red}</style><script>fetch('/steal')</script></head><body>"
            "<p>Why is my bill <b>higher</b> this month?</p><img src=x onerror=alert(1)>"
            "<blockquote>On Monday you wrote: old text</blockquote><p>Thanks &amp; regards</p></body></html>")
    parsed = parse_generic(json.dumps(email(text=None, html=html)).encode())
    text = conversation_text(parsed, max_chars=4000)
    assert text == "Why is my bill higher this month?\n\nThanks & regards"
    assert "steal" not in text and "alert" not in text and "color" not in text and "old text" not in text


def test_quoted_replies_are_cut_long_text_is_capped_and_attachments_are_noted():
    reply = ("Yes, that's right.\n\nOn Tue, 1 Dec 2026 at 10:00, Billing <billing@example.test> wrote:\n"
             "> Did you...")
    assert conversation_text(parse_generic(json.dumps(email(text=reply)).encode()), max_chars=100) == \
        "Yes, that's right."
    inline = "Top line\n> quoted\n> more\nBottom line"
    assert conversation_text(parse_generic(json.dumps(email(text=inline)).encode()), max_chars=100) == \
        "Top line\nBottom line"
    long = conversation_text(parse_generic(json.dumps(email(text="word " * 500)).encode()), max_chars=100)
    assert len(long) <= 106 and long.endswith("[...]")
    with_files = parse_generic(json.dumps(email(text="", attachments=[
        {"filename": "card.jpg", "content_type": "image/jpeg", "size": 204800}])).encode())
    assert conversation_text(with_files, max_chars=100) == \
        "My bill\n\n[Attachments not stored: card.jpg (image/jpeg, 200 KB)]"  # the subject stands in
    with pytest.raises(BadMessage):
        parse_generic(json.dumps(email(to=[1, 2])).encode())


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X-Autoreply": "yes"},
    {"List-Id": "<news.example.com>"}, {"X-Auto-Response-Suppress": "All"},
])
async def test_auto_responders_are_stored_but_never_answered(services, client, rasa, backend, headers,
                                                             caplog):
    with caplog.at_level(logging.WARNING, logger="handoff.email"):
        response = await post(client, email(text="I am out of the office until Monday.", headers=headers))
    assert response.status_code == 200
    assert response.json() | {"conversation_id": None} == {
        "outcome": "not_answered", "reason": "auto_reply", "seq": 1, "conversation_id": None}
    await settled(services)
    assert rasa.sent == [] and mails(backend) == []
    [(sender, text)] = texts(services, response.json()["conversation_id"])
    assert sender == "customer" and text.startswith("I am out of the office") and "[Not answered" in text
    assert sum("never answered" in record.getMessage() for record in caplog.records) == 1


async def test_mailer_daemons_and_our_own_addresses_are_never_answered(services, client, rasa):
    bounce = await post(client, email(**{"from": "MAILER-DAEMON@mx.example.com"}))
    own = await post(client, email(**{"from": f"reply+abc.0123456789abcdef@{DOMAIN}"}))
    assert (bounce.json()["reason"], own.json()["reason"]) == ("auto_reply", "own_address")
    await settled(services)
    assert rasa.sent == []


async def test_a_sender_over_the_rate_limit_is_stored_not_answered(services, client, rasa, backend):
    services.settings.email_rate_limit_messages = 3
    outcomes = []
    for _ in range(5):
        outcomes.append((await post(client, email())).json())
        await settled(services)
    assert [answer["outcome"] for answer in outcomes] == ["answering"] * 3 + ["not_answered"] * 2
    assert outcomes[-1]["reason"] == "rate_limited"
    assert len(rasa.sent) == 3 and len(mails(backend)) == 3


async def test_a_webhook_delivered_twice_stores_one_message(services, client, rasa):
    sent = email()
    first = (await post(client, sent)).json()
    again = (await post(client, sent)).json()
    await settled(services)
    assert again == {"outcome": "duplicate", "conversation_id": first["conversation_id"], "seq": first["seq"]}
    assert len(rasa.sent) == 1 and conversations(services) == 1


async def test_an_unknown_or_spoofed_sender_is_an_anonymous_visitor(services, client, rasa):
    stranger = (await post(client, email(**{"from": "someone@elsewhere.example"}))).json()
    spoofed = (await post(client, email(headers={
        "Authentication-Results": "mx.example.test; spf=fail smtp.mailfrom=example.com; dmarc=fail"}))).json()
    two_senders = (await post(client, email(**{"from": f"{DAVID}, other@example.org"}))).json()
    await settled(services)
    for answer in (stranger, spoofed, two_senders):
        assert conversation(services, answer["conversation_id"]).customer_id is None
    assert [sent["customer_id"] for sent in rasa.sent] == [None, None, None]


# --- threading --------------------------------------------------------------------------------------------

async def test_replies_thread_by_signed_address_then_message_id(services, client, backend):
    first = (await post(client, email())).json()
    await settled(services)
    conversation_id = first["conversation_id"]
    by_address = (await post(client, email(to=[reply_address(conversation_id=conversation_id,
                                                             secret=REPLY_SECRET, domain=DOMAIN)]))).json()
    await settled(services)
    our_message_id = mails(backend)[0]["answer"]["message_id"]
    by_reply_to = (await post(client, email(in_reply_to=our_message_id))).json()
    await settled(services)
    by_references = (await post(client, email(references=[our_message_id, "<unknown@x>"]))).json()
    await settled(services)
    answers = (by_address, by_reply_to, by_references)
    assert {answer["conversation_id"] for answer in answers} == {conversation_id}
    assert [by_address["seq"], by_reply_to["seq"], by_references["seq"]] == [3, 5, 7]
    # The bot's next email names the customer's latest message.
    assert mails(backend)[-1]["body"]["thread"]["in_reply_to"].startswith("<customer-")


async def test_a_forged_or_foreign_reply_address_starts_a_new_conversation(services, client, caplog):
    davids = (await post(client, email())).json()["conversation_id"]
    await settled(services)
    forged = f"reply+{davids}.0000000000000000@{DOMAIN}"
    with caplog.at_level(logging.WARNING, logger="handoff.email"):
        by_forgery = (await post(client, email(to=[forged]))).json()
        real_address = reply_address(conversation_id=davids, secret=REPLY_SECRET, domain=DOMAIN)
        by_alice = (await post(client, email(**{"from": ALICE}, to=[real_address]))).json()
        by_stranger = (await post(client, email(**{"from": "x@evil.example"}, to=[real_address]))).json()
    await settled(services)
    assert davids not in {by_forgery["conversation_id"], by_alice["conversation_id"],
                          by_stranger["conversation_id"]}
    assert conversation(services, by_alice["conversation_id"]).customer_id == 1
    assert conversation(services, by_stranger["conversation_id"]).customer_id is None
    assert "wrong signature" in caplog.text and "not that conversation's customer" in caplog.text


# --- what the bot cannot answer, specialists, replies by email ---------------------------------------------

def test_the_not_answered_openings_are_the_bots_own_words():
    domain = (REPO / "domain.yml").read_text()
    for opening in bot_reply.NOT_ANSWERED_OPENINGS[:5]:
        assert opening in domain.replace('\\"', '"'), opening


async def test_an_email_the_bot_cannot_answer_goes_to_the_specialist_queue(services, client, rasa, backend):
    rasa.replies = [BotReply(text="Sorry, I didn't quite get that. Could you say it another way?",
                             buttons=[{"title": "Talk to a person", "payload": "/request_human"}])]
    answer = (await post(client, email(text="Something complicated about my contract"))).json()
    await settled(services)
    conversation_id = answer["conversation_id"]
    stored = conversation(services, conversation_id)
    assert stored.state == "ticket" and stored.escalation_reason == "fallback"  # nobody online: a ticket
    [queued] = mails(backend)
    body = queued["body"]["context"]["body_text"]
    assert body.startswith(bot_reply.PASSED_ON_TEXT) and stored.ticket_number in body
    assert "didn't quite get that" not in body
    [entry] = await queue_status.snapshot(services=services)
    assert (entry["conversation_id"], entry["channel"]) == (conversation_id, "email")


async def test_rasa_unreachable_queues_the_email_for_a_person(services, client, rasa, backend):
    rasa.down = True
    add_staff(services, "dana")  # online: queued, not a ticket
    answer = (await post(client, email())).json()
    await settled(services)
    assert conversation(services, answer["conversation_id"]).state == "queued"
    assert mails(backend)[0]["body"]["context"]["body_text"] == bot_reply.PASSED_ON_TEXT


async def test_an_email_to_a_conversation_with_a_specialist_waits_for_them(services, client, rasa, backend):
    rasa.replies = [BotReply(text="Sorry, I can only help with billing.")]
    dana = add_staff(services, "dana")
    conversation_id = (await post(client, email())).json()["conversation_id"]
    await settled(services)
    assert conversation(services, conversation_id).state == "queued"
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    reply_to = mails(backend)[0]["answer"]["message_id"]
    follow_up = (await post(client, email(text="Any news?", in_reply_to=reply_to))).json()
    await settled(services)
    assert follow_up["outcome"] == "with_specialist" and follow_up["conversation_id"] == conversation_id
    assert len(rasa.sent) == 1  # the follow-up never reached the bot
    # The specialist's reply goes back by email, once per message (a resend is the same email).
    mails_before = len(mails(backend))
    for _ in range(2):
        await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                    text="We refunded the fee.", client_id="dana-1")
    sent = mails(backend)[mails_before:]
    assert len(sent) == 1
    assert sent[0]["body"] == {
        "template": "ticket_reply", "customer_id": 4,
        "context": {"body_text": "We refunded the fee.", "specialist_name": "Dana"},
        "thread": {"conversation_id": conversation_id,
                   "in_reply_to": follow_up_id(services, conversation_id)},
    }
    assert sent[0]["key"] == f"email-agent-reply:{conversation_id}:{texts_count(services, conversation_id)}"
    assert sent[0]["actor"] == "specialist:dana"


def follow_up_id(services, conversation_id: str) -> str:
    found = services.db.run_sync(threads.latest_inbound_message_id, conversation_id=conversation_id)
    assert found is not None
    return found


def texts_count(services, conversation_id: str) -> int:
    return len(texts(services, conversation_id))


async def email_with_dana(services, client, dana: Any) -> str:
    """David's email, which he asked a person about, claimed by Dana."""
    conversation_id = (await post(client, email())).json()["conversation_id"]
    await settled(services)
    await escalation.perform(services=services, conversation_id=conversation_id, reason="request_human",
                             customer_id=4, summary="wants a person")
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    return conversation_id


async def test_the_backend_down_leaves_the_specialists_reply_saved_and_says_so(services, client, backend):
    dana = add_staff(services, "dana")
    conversation_id = await email_with_dana(services, client, dana)
    backend.mail_error = BackendError(status_code=503, code="backend_unavailable", message="down")
    with pytest.raises(ServiceError) as refused:
        await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                    text="Checking now.", client_id="dana-2")
    assert refused.value.code == "email_not_sent"
    assert texts(services, conversation_id)[-1] == ("agent", "Checking now.")
    backend.mail_error = None
    await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                text="Checking now.", client_id="dana-2")
    assert mails(backend)[-1]["body"]["context"]["body_text"] == "Checking now."


async def test_a_chat_whose_customer_is_in_the_widget_is_not_emailed(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    services.db.run_sync(store.mark_customer_connected, conversation_id=conversation_id)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                text="Hello David", client_id="dana-3")
    assert mails(backend) == []


async def test_a_chat_ticket_whose_customer_left_the_widget_is_answered_by_email(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)  # David (customer 4), never connected now

    def to_ticket(session: Any) -> None:
        store.update_conversation(session, conversation_id=conversation_id, ticket_number="TCK-0000ABCD")
    services.db.run_sync(to_ticket)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await agent_message.perform(services=services, conversation_id=conversation_id, staff=dana,
                                text="Your refund is on its way.", client_id="dana-4")
    [sent] = mails(backend)
    assert sent["body"]["template"] == "ticket_reply" and sent["body"]["customer_id"] == 4
    assert sent["body"]["context"] == {"body_text": "Your refund is on its way.", "specialist_name": "Dana",
                                       "ticket_number": "TCK-0000ABCD"}
    assert "in_reply_to" not in sent["body"]["thread"]  # no email from the customer yet


def test_the_bots_buttons_become_words_to_reply_with_and_links_stay_links():
    replies = [store_message("Which charge?", [{"title": "Installation fee", "payload": "/x"},
                                               {"title": "Something else", "payload": "/y"}]),
               store_message("Pay securely here:", [{"title": "Secure page", "url": "https://pay.example/abc"}])]
    assert bot_reply.email_text(replies) == (
        "Which charge?\nYou can reply with: Installation fee / Something else\n\n"
        "Pay securely here:\nSecure page: https://pay.example/abc")
    assert not bot_reply.could_not_answer(replies)
    assert bot_reply.could_not_answer([store_message(bot_reply.NOT_ANSWERED_OPENINGS[0] + " Try again.", [])])


def store_message(text: str, buttons: list[dict[str, str]]) -> Message:
    return Message(sender="bot", text=text, buttons=buttons)


async def test_mailguns_own_failed_spf_check_makes_the_sender_anonymous(services, client, rasa):
    timestamp, token = str(int(time.time())), "b" * 50
    fields = {"timestamp": timestamp, "token": token,
              "signature": sign_mailgun(timestamp=timestamp, token=token, secret=SECRET),
              "from": DAVID, "recipient": "billing@example.test", "subject": "Balance",
              "body-plain": "What is my balance?", "Message-Id": "<mg-spoof@mail.example.com>",
              "X-Mailgun-Spf": "Fail"}
    response = await client.post("/api/email/inbound/mailgun", data=fields)
    assert response.status_code == 200
    await settled(services)
    assert conversation(services, response.json()["conversation_id"]).customer_id is None
    assert rasa.sent[0]["customer_id"] is None


async def test_a_document_the_bot_offers_to_email_is_attached_to_its_reply(services, client, rasa, backend):
    rasa.replies = [BotReply(text="Here's your Invoice INV-2026-000104 as a PDF.", buttons=[
        {"title": "Download Invoice INV-2026-000104 (PDF)", "url": "https://backend.example/documents/t.s"},
        {"title": "Email it to me",
         "payload": '/email_document{"document_ref":"invoice_pdf:INV-2026-000104"}'},
        {"title": "Talk to a person", "payload": "/request_human"}])]
    await post(client, email(text="Could I have a copy of my last bill?"))
    await settled(services)
    [queued] = mails(backend)
    assert queued["body"]["attachments"] == [{"kind": "invoice_pdf", "invoice_number": "INV-2026-000104"}]
    assert queued["body"]["context"]["body_text"] == (
        "Here's your Invoice INV-2026-000104 as a PDF.\nYou can reply with: Talk to a person\n"
        "Download Invoice INV-2026-000104 (PDF): https://backend.example/documents/t.s")

    # An anonymous sender gets the link only; a document the backend refuses (gone) leaves the answer as text.
    await post(client, email(**{"from": "someone@elsewhere.example"}, text="copy of my bill"))
    await settled(services)
    assert "attachments" not in mails(backend)[1]["body"]
    refused = backend.send_mail

    async def refuse_attachments(*, body: dict[str, Any], idempotency_key: str, actor: str) -> dict[str, Any]:
        if "attachments" in body:
            raise BackendError(status_code=404, code="not_found", message="No such document.")
        return await refused(body=body, idempotency_key=idempotency_key, actor=actor)

    backend.send_mail = refuse_attachments  # type: ignore[method-assign]
    await post(client, email(text="my statement please"))
    await settled(services)
    assert len(mails(backend)) == 3 and "attachments" not in mails(backend)[2]["body"]


def test_only_well_formed_document_buttons_become_attachments():
    def offered(*payloads: str) -> list[dict[str, Any]]:
        buttons = [{"title": "t", "payload": p} for p in payloads]
        return bot_reply.attachments_of([store_message("x", buttons)])

    assert offered('/email_document{"document_ref":"statement_pdf:2026-03"}',
                   '/email_document{"document_ref":"credit_memo_pdf:12"}',
                   '/email_document{"document_ref":"statement_pdf:2026-03"}') == [
        {"kind": "statement_pdf", "month": "2026-03"}, {"kind": "credit_memo_pdf", "credit_id": 12}]
    assert offered('/email_document{"document_ref":"credit_memo_pdf:x"}', "/email_document{broken",
                   '/email_document{"document_ref":"passwords:1"}', '/email_document["a"]', "/pay_bill") == []


async def test_a_resolved_email_conversation_asks_for_the_rating_by_email_and_a_reply_answers_it(
        services, client, rasa, backend):
    dana = add_staff(services, "dana")
    conversation_id = await email_with_dana(services, client, dana)
    rasa.resolve_replies = [BotReply(text="Welcome back! How would you rate your chat with Dana?",
                                     buttons=CSAT_BUTTONS)]
    await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="explained")
    asked = mails(backend)[-1]
    assert asked["key"].startswith(f"email-resolved:{conversation_id}:")
    assert asked["body"]["template"] == "bot_reply" and asked["body"]["customer_id"] == 4
    assert asked["body"]["context"]["body_text"] == (
        "Welcome back! How would you rate your chat with Dana?\nYou can reply with: 1 / 2 / 3 / 4 / 5")

    rasa.replies = [BotReply(text="Thanks for your feedback!")]
    reply = await post(client, email(text="4/5 - quick answer\n\nOn Monday Billing wrote:\n> rate us",
                                     in_reply_to=asked["answer"]["message_id"]))
    await settled(services)
    assert reply.json()["conversation_id"] == conversation_id
    assert conversation(services, conversation_id).csat_score == 4
    assert rasa.sent[-1]["text"] == '/rate_chat{"csat_score":"4"}'  # the button's payload, as in chat
    assert mails(backend)[-1]["body"]["context"]["body_text"] == "Thanks for your feedback!"
    # Once per conversation: a second score, or a number that is not a score, is an ordinary message.
    for text in ("5", "5 dollars were charged twice"):
        await post(client, email(text=text, in_reply_to=asked["answer"]["message_id"]))
        await settled(services)
        assert rasa.sent[-1]["text"] == text
    assert conversation(services, conversation_id).csat_score == 4


async def test_a_chat_resolved_with_the_customer_in_the_widget_is_not_emailed(services, backend):
    dana = add_staff(services, "dana")
    conversation_id = queued_conversation(services)
    services.db.run_sync(store.mark_customer_connected, conversation_id=conversation_id)
    await claim.perform(services=services, conversation_id=conversation_id, staff=dana)
    await resolve.perform(services=services, conversation_id=conversation_id, staff=dana, outcome="explained")
    assert mails(backend) == []
