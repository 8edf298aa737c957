"""Documents (docs/contracts.md, "Documents"): the PDFs are read back (pypdf text extraction) and every money
figure in them, in order, is compared with what the API's JSON answers; the signed links refuse what they
must. Runs on SQLite and PostgreSQL like the rest of tests/backend."""
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from backend.config import DEFAULT_DOCUMENTS_LINK_SECRET, Settings
from backend.documents import service
from backend.documents.links import LinkClaims, sign_link
from backend.errors import InvalidInput, NotFound
from backend.money import format_money
from tests.backend.conftest import NOW, STAFF, TODAY

MONEY = re.compile(r"-?\$[\d,]+\.\d{2}")
DEMO_CUSTOMERS = range(1, 9)


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def money(value: str | Decimal) -> str:
    return format_money(Decimal(value))


def download(client, body: dict, customer_id: int) -> tuple[dict, str]:
    created = client.post(f"/api/v1/customers/{customer_id}/documents/links", json=body)
    assert created.status_code == 201, created.text
    link = created.json()
    answer = client.get(link["url"].removeprefix("http://127.0.0.1:8000"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'inline; filename="{link["filename"]}"'
    assert answer.headers["cache-control"] == "no-store"
    return link, pdf_text(answer.content)


def issue_credit(client, customer_id: int, line: dict, invoice_number: str, amount: str, key: str) -> dict:
    body = {"amount": amount, "reason": "Goodwill <credit> & apology", "line_item_id": line["id"]}
    created = client.post(f"/api/v1/customers/{customer_id}/credits", json=body,
                          headers={**STAFF, "Idempotency-Key": key})
    assert created.status_code == 201, created.text
    assert created.json()["invoice_number"] == invoice_number
    return created.json()


@pytest.mark.parametrize("customer_id", DEMO_CUSTOMERS)
def test_every_invoice_pdf_has_the_apis_figures(client, demo, customer_id):
    payments = client.get(f"/api/v1/customers/{customer_id}/payments").json()
    invoices = client.get(f"/api/v1/customers/{customer_id}/invoices").json()
    assert invoices
    for summary in invoices:
        invoice = client.get(f"/api/v1/customers/{customer_id}/invoices/{summary['number']}").json()
        body = {"kind": "invoice_pdf", "invoice_number": invoice["number"]}
        link, text = download(client, body, customer_id)
        assert link["filename"] == f"invoice-{invoice['number']}.pdf"
        paid = [p for p in payments if p["invoice_number"] == invoice["number"] and p["status"] == "posted"]
        expected = [money(line["amount"]) for line in invoice["line_items"]] + [money(invoice["total"])]
        expected += [money(-Decimal(p["amount"])) for p in paid] + [money(invoice["amount_due"])]
        assert MONEY.findall(text) == expected
        for line in invoice["line_items"]:
            assert line["description"] in text
        assert invoice["number"] in text and invoice["status"] in text


def test_the_default_invoice_is_the_latest_and_a_credit_shows_on_it_and_its_memo(client, demo):
    latest = client.get("/api/v1/customers/1/invoices").json()[0]
    invoice = client.get(f"/api/v1/customers/1/invoices/{latest['number']}").json()
    fee = next(line for line in invoice["line_items"] if line["charge_type"] == "late_fee")
    credit = issue_credit(client, 1, fee, invoice["number"], "25.00", "docs-credit-0001")
    after = client.get(f"/api/v1/customers/1/invoices/{latest['number']}").json()
    link, text = download(client, {"kind": "invoice_pdf"}, 1)
    assert link["document_id"] == invoice["number"]
    expected = [money(line["amount"]) for line in after["line_items"]] + [money(after["total"])]
    expected += [money(-Decimal(credit["amount"])), money(after["amount_due"])]
    assert MONEY.findall(text) == expected
    assert after["amount_due"] == "60.00" and f"CM-{credit['id']:06d}" in text
    assert "Goodwill <credit> & apology" in text  # escaped, printed as written

    link, memo = download(client, {"kind": "credit_memo_pdf", "credit_id": credit["id"]}, 1)
    assert link["filename"] == f"credit-memo-CM-{credit['id']:06d}.pdf"
    assert MONEY.findall(memo) == [money(credit["amount"]), money(fee["amount"])]
    assert credit["invoice_number"] in memo and fee["description"] in memo and "ACC-100001" in memo
    listed = client.get("/api/v1/customers/1/documents").json()["documents"]
    assert {"kind": "credit_memo_pdf", "document_id": str(credit["id"])}.items() <= next(
        d for d in listed if d["kind"] == "credit_memo_pdf").items()


def statement_expected(client, customer_id: int, month: str, credits: list[dict]) -> list[str]:
    invoices = [client.get(f"/api/v1/customers/{customer_id}/invoices/{i['number']}").json()
                for i in client.get(f"/api/v1/customers/{customer_id}/invoices").json()]
    invoices = [i for i in reversed(invoices) if i["status"] != "void"]  # oldest first
    payments = sorted(client.get(f"/api/v1/customers/{customer_id}/payments").json(),
                      key=lambda p: (p["received_date"], p["id"]))
    posted = [p for p in payments if p["status"] == "posted"]

    def before(day: str) -> Decimal:
        return (sum((Decimal(i["total"]) for i in invoices if i["issue_date"][:7] < day), Decimal(0))
                - sum((Decimal(p["amount"]) for p in posted if p["received_date"][:7] < day), Decimal(0))
                - sum((Decimal(c["amount"]) for c in credits if c["created_at"][:7] < day), Decimal(0)))

    expected = [money(before(month))]
    for invoice in (i for i in invoices if i["issue_date"][:7] == month):
        expected += [money(line["amount"]) for line in invoice["line_items"]] + [money(invoice["total"])]
    expected += [money(-Decimal(p["amount"])) for p in payments if p["received_date"][:7] == month]
    expected += [money(-Decimal(c["amount"])) for c in credits if c["created_at"][:7] == month]
    after = f"{int(month[:4]) + (month[5:] == '12')}-{int(month[5:]) % 12 + 1:02d}"
    total_due = client.get(f"/api/v1/customers/{customer_id}/balance").json()["total_due"]
    return [*expected, money(before(after)), money(total_due)]


@pytest.mark.parametrize("customer_id", DEMO_CUSTOMERS)
def test_every_monthly_statement_has_the_apis_figures(client, demo, customer_id):
    documents = client.get(f"/api/v1/customers/{customer_id}/documents").json()["documents"]
    months = [d["document_id"] for d in documents if d["kind"] == "statement_pdf"]
    assert months
    for month in months:
        link, text = download(client, {"kind": "statement_pdf", "month": month}, customer_id)
        assert MONEY.findall(text) == statement_expected(client, customer_id, month, credits=[]), month
        assert link["filename"].endswith(f"-{month}.pdf")
    link, _ = download(client, {"kind": "statement_pdf"}, customer_id)
    latest = client.get(f"/api/v1/customers/{customer_id}/invoices").json()[0]
    assert link["document_id"] == latest["issue_date"][:7]


def test_a_statement_lists_the_credits_of_its_month(client, demo):
    invoice = client.get("/api/v1/customers/4/invoices").json()[0]
    detail = client.get(f"/api/v1/customers/4/invoices/{invoice['number']}").json()
    line = detail["line_items"][0]
    credit = issue_credit(client, 4, line, invoice["number"], "10.00", "docs-credit-0002")
    month = credit["created_at"][:7]
    _, text = download(client, {"kind": "statement_pdf", "month": month}, 4)
    assert MONEY.findall(text) == statement_expected(client, 4, month, credits=[credit])
    assert money("-10.00") in text


def token_for(secret: str, *, kind: str, document_id: str, customer_id: int, expires: datetime) -> str:
    return sign_link(secret=secret, claims=LinkClaims(
        kind=kind, document_id=document_id, customer_id=customer_id, expires_at=expires))  # type: ignore[arg-type]


def test_links_refuse_expired_forged_and_other_customers_documents(client, demo, app):
    secret = app.state.settings.documents_link_secret.get_secret_value()
    alice = client.get("/api/v1/customers/1/invoices").json()[0]["number"]
    ben = client.get("/api/v1/customers/2/invoices").json()[0]["number"]
    link = client.post("/api/v1/customers/1/documents/links", json={"kind": "invoice_pdf"}).json()
    assert datetime.fromisoformat(link["expires_at"]) == NOW + timedelta(minutes=15)
    path = link["url"].removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200
    assert client.get(path, headers={"Authorization": ""}).status_code == 200  # the link is the credential

    expired = token_for(secret, kind="invoice_pdf", document_id=alice, customer_id=1, expires=NOW)
    answer = client.get(f"/documents/{expired}")
    assert answer.status_code == 410 and "expired" in answer.text
    assert answer.headers["cache-control"] == "no-store" and b"%PDF" not in answer.content

    payload, _, signature = path.removeprefix("/documents/").partition(".")
    other = token_for("not-the-secret", kind="invoice_pdf", document_id=alice, customer_id=1,
                      expires=NOW + timedelta(minutes=5))
    edited = token_for(secret, kind="invoice_pdf", document_id=alice, customer_id=2,
                       expires=NOW + timedelta(minutes=5)).partition(".")[0] + "." + signature
    bens_invoice_on_alices_link = token_for(secret, kind="invoice_pdf", document_id=ben, customer_id=1,
                                            expires=NOW + timedelta(minutes=5))
    for bad in (other, edited, bens_invoice_on_alices_link, payload + "." + "A" * 43, "nonsense", "a." * 300):
        refused = client.get(f"/documents/{bad}")
        assert refused.status_code == 404, bad
        assert refused.headers["content-type"].startswith("text/plain") and b"%PDF" not in refused.content


def test_link_creation_checks_the_customer_and_the_input(client, demo):
    ben = client.get("/api/v1/customers/2/invoices").json()[0]["number"]
    url = "/api/v1/customers/1/documents/links"
    assert client.post(url, json={"kind": "invoice_pdf", "invoice_number": ben}).status_code == 404
    assert client.post(url, json={"kind": "statement_pdf", "month": "1999-01"}).status_code == 404
    assert client.post(url, json={"kind": "credit_memo_pdf", "credit_id": 999999}).status_code == 404
    assert client.post(url, json={"kind": "credit_memo_pdf"}).status_code == 422
    for body in ({"kind": "receipt_pdf"}, {"kind": "statement_pdf", "month": "2025-13"},
                 {"kind": "invoice_pdf", "invoice_number": "INV-1"}, {}):
        refused = client.post(url, json=body)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input"
    invoice = {"kind": "invoice_pdf"}
    assert client.post("/api/v1/customers/999/documents/links", json=invoice).status_code == 404
    assert client.post(url, json=invoice, headers={"Authorization": "Bearer no"}).status_code == 401
    assert client.get("/api/v1/customers/1/documents", headers={"Authorization": ""}).status_code == 401


def test_links_and_downloads_are_audited(client, demo):
    link = client.post("/api/v1/customers/1/documents/links", json={"kind": "statement_pdf"},
                       headers={"X-Actor": "bot:conv-1"}).json()
    client.get(link["url"].removeprefix("http://127.0.0.1:8000"))
    entries = client.get("/api/v1/audit-log", params={"limit": 20}).json()
    actions = [(e["actor"], e["action"], e["resource"]) for e in entries if e["customer_id"] == 1]
    resource = f"statement_pdf:{link['document_id']}"
    assert ("bot:conv-1", "write.document.link", resource) in actions
    assert ("service:api", "document.download", resource) in actions


def test_render_attachment_for_mail(demo):
    invoice = service.render_attachment(demo, customer_id=3, spec={"kind": "invoice_pdf"}, today=TODAY)
    assert invoice.filename.startswith("invoice-INV-") and invoice.media_type == "application/pdf"
    assert "Carla Jensen" in pdf_text(invoice.content)
    march = {"kind": "statement_pdf", "month": "2026-03"}
    statement = service.render_attachment(demo, customer_id=3, spec=march, today=TODAY)
    assert statement.filename == "statement-ACC-100003-2026-03.pdf"
    again = service.render_attachment(demo, customer_id=3, spec=march, today=TODAY)
    assert statement.content == again.content  # reproducible bytes
    with pytest.raises(InvalidInput):
        service.render_attachment(demo, customer_id=3, spec={"kind": "credit_memo_pdf", "credit_id": "1"},
                                  today=TODAY)
    with pytest.raises(NotFound):
        service.render_attachment(demo, customer_id=3, spec={"kind": "credit_memo_pdf", "credit_id": 10**6},
                                  today=TODAY)


def test_the_link_secret_is_refused_outside_development_while_default_or_placeholder():
    real = {"APP_ENV": "production", "BACKEND_API_TOKEN": "s3", "PAYMENTS_WEBHOOK_SECRET": "w",
            "PAYMENT_PAGE_SECRET": "p", "HANDOFF_API_TOKEN": "h", "EMAIL_REPLY_SECRET": "e"}
    for value in (DEFAULT_DOCUMENTS_LINK_SECRET, "CHANGE_ME-documents-link-secret", ""):
        with pytest.raises(ValidationError, match="DOCUMENTS_LINK_SECRET"):
            Settings(**real, DOCUMENTS_LINK_SECRET=value)
    with pytest.raises(ValidationError, match="DOCUMENTS_LINK_SECRET"):
        Settings(**real)
    assert Settings(**real, DOCUMENTS_LINK_SECRET="real").documents_link_minutes == 15
    development = Settings(APP_ENV="development")
    assert development.documents_link_secret.get_secret_value() == DEFAULT_DOCUMENTS_LINK_SECRET
