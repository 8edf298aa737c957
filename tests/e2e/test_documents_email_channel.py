"""The email channel answers a document request with the document attached (issue 19: documents "attached to
emails when asked"), with the shared real stack (handoff, Rasa with the trained model, actions, backend):
Alice emails the signed inbound webhook asking for her latest bill; the bot's reply email carries the invoice
PDF (its figures compared with the API's) as well as the link, and lists no "Email it to me" option. Asked by
email to email her statement, she gets that one reply with the statement attached, not a second mail."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from handoff.email.signatures import sign_generic
from tests.e2e.documents_email_support import attached_pdf_text, queued_mails
from tests.support.billing_api import api, money
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALICE = 1
DEV_INBOUND_SECRET = "dev-email-inbound-secret"  # the handoff's development default (docs/contracts.md)


def email_from_alice(stack: Stack, *, subject: str, text: str) -> str:
    """Alice's email to the signed inbound webhook, as a mail provider forwards it; the new conversation."""
    alice = api(stack, f"/customers/{ALICE}")
    body = json.dumps({
        "from": f"Alice Moreno <{alice['email']}>", "to": ["billing@example.test"], "subject": subject,
        "text": text, "message_id": f"<alice-{time.time_ns()}@mail.example.com>",
    }).encode()
    secret = stack.env.get("EMAIL_INBOUND_SECRET", DEV_INBOUND_SECRET)
    answer = httpx.post(f"{stack.handoff_url}/api/email/inbound/generic", content=body, timeout=30,
                        headers={"Content-Type": "application/json",
                                 "X-Email-Signature": sign_generic(body=body, secret=secret,
                                                                   timestamp=int(time.time()))})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "answering"
    conversation_id: str = answer.json()["conversation_id"]
    return conversation_id


def test_alices_email_asking_for_her_bill_is_answered_with_the_pdf_attached(stack: Stack) -> None:
    alice = api(stack, f"/customers/{ALICE}")
    latest = api(stack, f"/customers/{ALICE}/invoices")[0]
    invoice = api(stack, f"/customers/{ALICE}/invoices/{latest['number']}")
    conversation_id = email_from_alice(stack, subject="My bill",
                                       text="Could you give me a PDF copy of my latest invoice?")

    (reply,) = queued_mails(stack, template="bot_reply", conversation_id=conversation_id, timeout=90)
    assert reply.to_address == alice["email"] and "My bill" in reply.subject
    assert f"Download Invoice {invoice['number']} (PDF): {stack.backend_url}/documents/" in reply.body_text
    assert "Email it to me" not in reply.body_text
    filename, text = attached_pdf_text(reply)
    assert filename == f"invoice-{invoice['number']}.pdf"
    assert invoice["number"] in text
    assert money(invoice["amount_due"]) in re.findall(r"-?\$[\d,]+\.\d{2}", text)


def test_alices_email_asking_to_email_her_statement_is_one_reply_with_the_statement(stack: Stack) -> None:
    """email_document by email: the reply carries the statement; the bot mails no document_copy besides."""
    alice = api(stack, f"/customers/{ALICE}")
    statement = next(d for d in api(stack, f"/customers/{ALICE}/documents")["documents"]
                     if d["kind"] == "statement_pdf")
    conversation_id = email_from_alice(stack, subject="Statement",
                                       text="Hello, please email me my latest statement. Thanks, Alice")

    (reply,) = queued_mails(stack, template="bot_reply", conversation_id=conversation_id, timeout=90)
    assert reply.to_address == alice["email"]
    assert f"Download {statement['title']} (PDF): {stack.backend_url}/documents/" in reply.body_text
    assert "Email it to me" not in reply.body_text and "I've emailed" not in reply.body_text
    filename, text = attached_pdf_text(reply)
    assert filename.endswith(f"-{statement['document_id']}.pdf")
    assert statement["title"] in text and alice["account"]["account_number"] in text
    separate = [row for row in queued_mails(stack, template="document_copy", customer_id=ALICE, count=0)
                if row.requested_by == f"bot:{conversation_id}"]
    assert separate == []
