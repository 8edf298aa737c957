"""handoff/email/outbound.py (issue 19): a chat that becomes a ticket sends the ticket number by email through
the backend's mail API: verified customers at the address on file, anonymous visitors only at an address they
gave; once per ticket; a mail problem never undoes the ticket. The backend is the fake (its mail API records
requests and replays a key); the backend's own SMTP delivery: tests/backend/test_mail_delivery.py."""

from __future__ import annotations

import logging

import pytest

from handoff.clients.backend import BackendError
from handoff.conversations import escalation, store
from tests.handoff.unit.support import TICKET_CONTACT, add_staff, conversation, new_conversation, texts


async def _escalate(services, conversation_id, *, customer_id: int | None = 4):
    return await escalation.perform(services=services, conversation_id=conversation_id,
                                    reason="request_human", customer_id=customer_id, summary="wants a person")


async def test_a_verified_customer_gets_one_acknowledgement_at_the_address_on_file(services, backend):
    conversation_id = new_conversation(services)
    escalated = await _escalate(services, conversation_id)
    ticket = conversation(services, conversation_id).ticket_number
    assert escalated.answer["ticket_number"] == ticket
    assert backend.mails == [{
        "key": f"ticket-ack:{conversation_id}:{ticket}", "actor": f"bot:{conversation_id}",
        "body": {"template": "ticket_ack", "customer_id": 4, "context": {"ticket_number": ticket},
                 "thread": {"conversation_id": conversation_id}},
        "answer": backend.mails[0]["answer"],
    }]
    assert "to" not in backend.mails[0]["body"]  # the backend resolves the address on file
    assert texts(services, conversation_id)[-1] == ("system",
                                                    f"I've also emailed you the ticket number {ticket}.")

    await _escalate(services, conversation_id)  # the action server retries: the same ticket, no second email
    assert len(backend.mails) == 1
    assert [text for _sender, text in texts(services, conversation_id)].count(
        f"I've also emailed you the ticket number {ticket}.") == 1


async def test_an_anonymous_visitor_without_an_address_keeps_todays_text(services, backend):
    conversation_id = new_conversation(services, customer_id=None, name=None)
    await _escalate(services, conversation_id, customer_id=None)
    assert backend.mails == []
    sender, text = texts(services, conversation_id)[-1]
    assert sender == "system" and text.endswith(TICKET_CONTACT)


async def test_an_anonymous_visitor_who_gave_an_address_gets_it_there(services, backend):
    conversation_id = new_conversation(services, customer_id=None, name=None)

    def give_address(session) -> None:
        store.get_conversation(session, conversation_id=conversation_id).email_address = "visitor@example.org"

    services.db.run_sync(give_address)
    await _escalate(services, conversation_id, customer_id=None)
    assert [mail["body"].get("to") for mail in backend.mails] == ["visitor@example.org"]
    assert "customer_id" not in backend.mails[0]["body"]


async def test_no_acknowledgement_when_queued_or_for_an_email_conversation(services, backend):
    add_staff(services, "dana")
    queued = new_conversation(services)
    await _escalate(services, queued)
    assert conversation(services, queued).state == "queued"

    def logout(session) -> None:
        from handoff.models import StaffUser
        for user in session.query(StaffUser).all():
            user.last_seen_at = None

    services.db.run_sync(logout)
    by_email = new_conversation(services)

    def email_channel(session) -> None:
        store.get_conversation(session, conversation_id=by_email).channel = "email"

    services.db.run_sync(email_channel)
    await _escalate(services, by_email)
    assert conversation(services, by_email).state == "ticket"
    assert backend.mails == []  # its own email reply carries the ticket text (handoff/email/bot_reply.py)


@pytest.mark.parametrize("status_code", [422, 404])
async def test_a_refused_email_leaves_the_ticket_and_says_nothing_about_email(services, backend, caplog,
                                                                            status_code):
    backend.mail_error = BackendError(status_code=status_code, code="invalid_input", message="no")
    conversation_id = new_conversation(services)
    with caplog.at_level(logging.WARNING):
        escalated = await _escalate(services, conversation_id)
    assert escalated.answer["state"] == "ticket"
    sender, text = texts(services, conversation_id)[-1]
    assert sender == "system" and text.endswith(TICKET_CONTACT)
    assert not any(record.levelno >= logging.ERROR for record in caplog.records)
    assert any("acknowledgement email not queued" in record.getMessage() for record in caplog.records)


async def test_email_me_this_conversation_sends_the_customer_visible_transcript(services, backend):
    from handoff.email import outbound

    conversation_id = new_conversation(services)  # verified David; the bot said hello

    def chat(session) -> None:
        store.append_message(session, conversation_id=conversation_id, sender="customer",
                             text="Why <b>$75</b>?")
        store.append_message(session, conversation_id=conversation_id, sender="agent", text="Let me check.",
                             agent_name="Dana")

    services.db.run_sync(chat)
    await outbound.email_transcript(services=services, conversation_id=conversation_id, client_id="c-1")
    await outbound.email_transcript(services=services, conversation_id=conversation_id, client_id="c-1")
    [request] = [mail for mail in backend.mails if mail["body"]["template"] == "transcript"]
    body = request["body"]
    assert body["customer_id"] == 4 and "to" not in body
    assert [(line["speaker"], line["text"]) for line in body["context"]["lines"]] == [
        ("bot", "Hi! How can I help?"), ("customer", "Why <b>$75</b>?"), ("specialist", "Let me check.")]
    assert request["key"].startswith(f"transcript:{conversation_id}:") and len(request["key"]) <= 128
    assert texts(services, conversation_id)[-1] == ("system", outbound.TRANSCRIPT_SENT_TEXT)
    assert [t for _s, t in texts(services, conversation_id)].count(outbound.TRANSCRIPT_SENT_TEXT) == 1

    for number in range(2, 10):  # a few more presses: at most TRANSCRIPT_LIMIT emails per conversation
        try:
            await outbound.email_transcript(services=services, conversation_id=conversation_id,
                                            client_id=f"c-{number}")
        except outbound.TranscriptRefused as refused:
            assert refused.message == "This conversation has already been emailed to you."
    transcripts = [m for m in backend.mails if m["body"]["template"] == "transcript"]
    assert len(transcripts) == outbound.TRANSCRIPT_LIMIT


async def test_no_transcript_for_an_anonymous_visitor_or_when_the_backend_refuses(services, backend):
    from handoff.email import outbound

    anonymous = new_conversation(services, customer_id=None, name=None)
    with pytest.raises(outbound.TranscriptRefused, match="confirmed your account"):
        await outbound.email_transcript(services=services, conversation_id=anonymous, client_id="a-1")
    backend.mail_error = BackendError(status_code=422, code="invalid_input", message="no")
    verified = new_conversation(services)
    with pytest.raises(outbound.TranscriptRefused, match="couldn't send the email now"):
        await outbound.email_transcript(services=services, conversation_id=verified, client_id="v-1")
    assert backend.mails == []
    assert texts(services, verified)[-1][0] == "bot"  # nothing claims an email went out
