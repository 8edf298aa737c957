"""actions/documents.py: "a copy of my bill" / "the March statement" -> a download link button, against the
real backend app in process (migrated and seeded SQLite, the real clients over an ASGI transport): the link
the customer gets serves that PDF, made as bot:<conversation>; nothing found, another customer's invoice,
the backend down and an unverified visitor are answered plainly."""

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.clients.billing import BillingClient
from actions.clients.documents import DocumentsClient
from actions.config import get_settings
from actions.documents import ActionSendDocumentLink, wanted_invoice, wanted_kind, wanted_month
from backend.config import Settings
from backend.database import Database, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.seed.demo import seed_demo
from tests.actions.fakes import make_tracker, message, responses

ALICE = {"customer_id": 1, "conversation_id": "conv-1"}
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    upgrade(engine=engine)
    with Session(engine) as session:
        seed_demo(session, today=date.today())
        session.commit()
    engine.dispose()
    settings = Settings(APP_ENV="development", BACKEND_DATABASE_URL=url,
                        BACKEND_API_TOKEN=get_settings().backend_api_token,
                        PAYMENT_PAGE_BASE_URL="http://backend.test")
    app = create_app(settings=settings, database=Database(url))
    token = settings.backend_api_token.get_secret_value()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend.test",
                                 headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


def action(http: httpx.AsyncClient) -> ActionSendDocumentLink:
    return ActionSendDocumentLink(billing=BillingClient(http=http), documents=DocumentsClient(http=http))


async def ask(http: httpx.AsyncClient, text: str, domain: dict, **tracker: object) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    turn = make_tracker(intent="request_document", text=text, **{"metadata": ALICE, **tracker})  # type: ignore[arg-type]
    await action(http).run(dispatcher, turn, domain)
    return dispatcher


async def open_link(http: httpx.AsyncClient, dispatcher: CollectingDispatcher) -> tuple[dict, httpx.Response]:
    answer = message(dispatcher, "utter_document_link")
    button = answer["buttons"][0]
    pdf = await http.get(button["url"].removeprefix("http://backend.test"), headers={"Authorization": ""})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    return answer, pdf


async def test_a_copy_of_the_last_bill_is_a_link_to_the_latest_invoice_pdf(backend, domain):
    dispatcher = await ask(backend, "could I get a copy of my most recent bill please", domain)
    assert responses(dispatcher) == ["utter_document_link"]
    latest = (await backend.get("/api/v1/customers/1/invoices")).json()[0]
    answer, pdf = await open_link(backend, dispatcher)
    assert answer["title"] == f"Invoice {latest['number']}" and 1 <= answer["minutes"] <= 15
    assert answer["buttons"][0]["title"] == f"Download Invoice {latest['number']} (PDF)"
    assert pdf.headers["content-disposition"] == f'inline; filename="invoice-{latest["number"]}.pdf"'
    audit = (await backend.get("/api/v1/audit-log", params={"customer_id": 1})).json()
    assert ("bot:conv-1", "write.document.link") in [(e["actor"], e["action"]) for e in audit]


async def test_a_statement_for_a_named_month(backend, domain):
    documents = (await backend.get("/api/v1/customers/1/documents")).json()["documents"]
    month = next(d["document_id"] for d in documents if d["kind"] == "statement_pdf")  # the newest
    name = MONTH_NAMES[int(month[5:]) - 1]
    dispatcher = await ask(backend, f"I need the statement for {name}", domain)
    answer, pdf = await open_link(backend, dispatcher)
    assert answer["title"] == f"Statement for {name} {month[:4]}"
    assert pdf.headers["content-disposition"].endswith(f'-{month}.pdf"')
    dispatcher = await ask(backend, f"statement {month} please", domain)
    assert message(dispatcher, "utter_document_link")["title"] == f"Statement for {name} {month[:4]}"


async def test_nothing_found_another_customers_invoice_and_no_backend(backend, domain):
    dispatcher = await ask(backend, "statement for March 1999", domain)
    assert responses(dispatcher) == ["utter_document_not_found"]
    assert message(dispatcher, "utter_document_not_found")["period"] == " for March 1999"
    bens = (await backend.get("/api/v1/customers/2/invoices")).json()[0]["number"]
    dispatcher = await ask(backend, f"a copy of invoice {bens}", domain)
    assert responses(dispatcher) == ["utter_document_not_found"]  # Ben's invoice is not Alice's
    down = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    dispatcher = CollectingDispatcher()
    turn = make_tracker(intent="request_document", text="my bill as a pdf", metadata=ALICE)
    await action(down).run(dispatcher, turn, domain)
    assert responses(dispatcher) == ["utter_document_unavailable"]
    assert message(dispatcher, "utter_document_unavailable")["buttons"]


async def test_an_unverified_visitor_gets_no_link(backend, domain):
    dispatcher = await ask(backend, "a copy of my bill", domain, metadata={"customer_id": None})
    assert "utter_document_link" not in responses(dispatcher)
    audit = (await backend.get("/api/v1/audit-log")).json()
    assert not [e for e in audit if e["action"] == "write.document.link"]


@pytest.mark.parametrize(("text", "month"), [
    ("statement for October", (10, None)), ("the oct 2025 statement", (10, 2025)),
    ("statement 2025-10", (10, 2025)), ("bill for May", (5, None)), ("may I have a copy of my bill", None),
    ("may 2026 invoice", (5, 2026)), ("a copy of my bill", None), ("september's statement", (9, None)),
])
def test_the_month_named(text, month):
    assert wanted_month(text) == month


def test_the_kind_and_invoice_named():
    assert wanted_kind("my Statement please") == "statement_pdf"
    assert wanted_kind("the credit memo for my refund") == "credit_memo_pdf"
    assert wanted_kind("a copy of my bill") == "invoice_pdf"
    assert wanted_invoice("copy of inv-2026-000106 please") == "INV-2026-000106"
    assert wanted_invoice("copy of my bill") is None
