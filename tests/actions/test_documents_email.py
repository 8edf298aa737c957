"""actions/documents_email.py: "email me my bill" / the "Email it to me" button -> the PDF emailed to the
address on file (issue 19, "attached to emails when asked"), against the real backend app in process
(migrated, seeded SQLite; the real clients over an ASGI transport). The mail then goes out through real SMTP
(the backend's send loop to the development mail server as a process) and the attached PDF is read back and
compared with the API's figures. A double tap sends one email; the backend down is answered plainly."""

import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.clients.billing import BillingClient
from actions.clients.documents import DocumentsClient
from actions.clients.mail import MailClient
from actions.config import get_settings
from actions.documents import ActionSendDocumentLink
from actions.documents_email import ActionEmailDocument, masked_address
from backend.config import Settings
from backend.database import make_engine
from backend.mail.models import MailMessage
from backend.mail.sender import send_due
from backend.money import format_money
from handoff.email import bot_reply
from handoff.models import Message
from tests.actions.backend_app import seeded_backend_app
from tests.actions.fakes import make_tracker, message, responses
from tests.backend.mail_support import devmail_process

ALICE = {"customer_id": 1, "conversation_id": "conv-1"}


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    token = get_settings().backend_api_token
    app = seeded_backend_app(tmp_path / "backend.db", token=token)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend.test",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def emailer(http: httpx.AsyncClient) -> ActionEmailDocument:
    return ActionEmailDocument(billing=BillingClient(http=http), documents=DocumentsClient(http=http),
                               mail=MailClient(http=http))


async def ask(http: httpx.AsyncClient, domain: dict, text: str, entities: list[dict] | None = None,
              events: list[dict] | None = None) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="email_document", text=text, entities=entities, metadata=ALICE,
                           events=events)
    await emailer(http).run(dispatcher, tracker, domain)
    return dispatcher


def document_mails(database: Path) -> list[MailMessage]:
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        rows = list(session.scalars(select(MailMessage).where(MailMessage.template == "document_copy")))
    engine.dispose()
    return rows


async def test_email_me_my_bill_sends_the_latest_invoice_pdf_once(backend, domain, tmp_path):
    alice = (await backend.get("/api/v1/customers/1")).json()
    latest = (await backend.get("/api/v1/customers/1/invoices")).json()[0]
    dispatcher = await ask(backend, domain, "could you email me my latest bill")
    assert responses(dispatcher) == ["utter_document_emailed"]
    answer = message(dispatcher, "utter_document_emailed")
    assert answer["title"] == f"Invoice {latest['number']}"
    assert answer["address"] == masked_address(alice["email"]) != alice["email"]
    assert answer["address"].endswith("@" + alice["email"].split("@")[1])

    # The "Email it to me" button under the download link names the same document: tapped (twice), no
    # second email.
    link = CollectingDispatcher()
    linker = ActionSendDocumentLink(billing=BillingClient(http=backend),
                                    documents=DocumentsClient(http=backend))
    await linker.run(link, make_tracker(intent="request_document", text="a copy of my last bill",
                                        metadata=ALICE), domain)
    _, button = message(link, "utter_document_link")["buttons"]
    assert button == {"title": "Email it to me",
                      "payload": f'/email_document{{"document_ref":"invoice_pdf:{latest["number"]}"}}'}
    tapped = [{"entity": "document_ref", "value": f"invoice_pdf:{latest['number']}"}]
    for _ in range(2):
        again = await ask(backend, domain, "", entities=tapped)
        assert responses(again) == ["utter_document_already_emailed"]
    (row,) = document_mails(tmp_path / "backend.db")
    assert row.to_address == alice["email"] and row.requested_by == "bot:conv-1"

    # Real SMTP: the send loop delivers it to the development mail server; the PDF is Alice's invoice.
    with devmail_process(tmp_path) as devmail:
        settings = Settings(BACKEND_DATABASE_URL=f"sqlite:///{tmp_path / 'backend.db'}",
                            MAIL_SMTP_PORT=devmail.smtp_port)
        engine = make_engine(settings.backend_database_url)
        report = send_due(sessionmaker(engine), settings=settings)
        engine.dispose()
        assert report.sent == 1
        (mail,) = devmail.wait_for(1, to=alice["email"])
        assert mail["subject"] == f"Your Invoice {latest['number']} (PDF attached)"
        (attached,) = mail["attachments"]
        assert (attached["filename"], attached["content_type"]) == (f"invoice-{latest['number']}.pdf",
                                                                    "application/pdf")
        async with httpx.AsyncClient(base_url=devmail.url, timeout=10) as http:
            pdf = (await http.get(f"/messages/{mail['id']}/attachments/0")).content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert latest["number"] in text
    assert format_money(Decimal(latest["amount_due"])) in text


async def test_a_named_statement_nothing_found_and_the_backend_down(backend, domain, tmp_path):
    documents = (await backend.get("/api/v1/customers/1/documents")).json()["documents"]
    month = next(d["document_id"] for d in documents if d["kind"] == "statement_pdf")
    dispatcher = await ask(backend, domain, f"please email me the statement {month}")
    assert message(dispatcher, "utter_document_emailed")["title"].startswith("Statement for ")
    (row,) = document_mails(tmp_path / "backend.db")
    assert row.attachments[0]["filename"].endswith(f"-{month}.pdf")

    # "send that to my email" after a statement's link: that statement, not the latest bill
    older = next(d for d in documents if d["kind"] == "statement_pdf" and d["document_id"] != month)
    shown = {"event": "bot", "text": "Here's your statement as a PDF.", "data": {"buttons": [
        {"title": "Download", "url": "http://backend.test/documents/x"},
        {"title": "Email it to me",
         "payload": f'/email_document{{"document_ref":"statement_pdf:{older["document_id"]}"}}'}]}}
    dispatcher = await ask(backend, domain, "can you send that to my email", events=[shown])
    assert message(dispatcher, "utter_document_emailed")["title"] == older["title"]
    dispatcher = await ask(backend, domain, "email me my latest bill", events=[shown])  # words name one
    assert message(dispatcher, "utter_document_emailed")["title"].startswith("Invoice ")
    assert len(document_mails(tmp_path / "backend.db")) == 3

    dispatcher = await ask(backend, domain, "email me the statement for March 1999")
    assert responses(dispatcher) == ["utter_document_not_found"]
    bens = (await backend.get("/api/v1/customers/2/invoices")).json()[0]["number"]
    dispatcher = await ask(backend, domain, "", entities=[{"entity": "document_ref",
                                                           "value": f"invoice_pdf:{bens}"}])
    assert responses(dispatcher) == ["utter_document_not_found"]  # Ben's invoice is not Alice's
    assert len(document_mails(tmp_path / "backend.db")) == 3

    down = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    dispatcher = await ask(down, domain, "email me my bill")
    assert responses(dispatcher) == ["utter_document_email_unavailable"]


async def test_on_the_email_channel_the_answer_carries_the_document_and_no_mail_of_its_own(
        backend, domain, tmp_path):
    """By email the bot's reply is the email, and the handoff service attaches the document of its "Email it
    to me" button (handoff/email/bot_reply.py): a document_copy as well would be a second email."""
    documents = (await backend.get("/api/v1/customers/1/documents")).json()["documents"]
    statement = next(d for d in documents if d["kind"] == "statement_pdf")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="email_document", text="email me my statement",
                           metadata={**ALICE, "channel": "email"})
    await emailer(backend).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_document_link"]
    answer = message(dispatcher, "utter_document_link")
    assert answer["title"] == statement["title"]
    download, _ = answer["buttons"]
    assert "/documents/" in download["url"]
    reply = Message(sender="bot", text="Here's your statement.", buttons=answer["buttons"])
    assert bot_reply.attachments_of([reply]) == [{"kind": "statement_pdf", "month": statement["document_id"]}]
    assert document_mails(tmp_path / "backend.db") == []

    # the same words in the chat: the PDF is mailed, and the chat says so
    await ask(backend, domain, "email me my statement")
    (row,) = document_mails(tmp_path / "backend.db")
    assert row.attachments[0]["filename"].endswith(f"-{statement['document_id']}.pdf")


def test_the_address_is_masked():
    assert masked_address("alice.moreno@example.com") == "a***@example.com"
    assert masked_address("broken") == "the address on your account"
