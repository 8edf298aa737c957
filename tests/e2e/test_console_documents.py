"""In chromium, a specialist who claimed Alice's chat opens the account panel's documents, asks for her latest
invoice's PDF link and the link serves that PDF (real backend and handoff processes, demo seed; no Rasa);
the figures in it are the backend API's."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader

from backend.money import format_money
from tests.e2e import test_console_payments as console_payments
from tests.e2e.test_console_payments import Services, _backend, _claim_next, _waiting_for_a_specialist

# The same real backend + handoff processes and Dana's signed-in console as the payments' console tests.
services = console_payments.services
dana = console_payments.dana

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_a_specialist_downloads_alices_latest_invoice_from_the_account_panel(
    services: Services, dana
) -> None:
    _waiting_for_a_specialist(services, 1, "Alice")
    console, problems = dana
    _claim_next(console, "Alice")
    with _backend(services, "specialist:dana") as api:
        latest = api.get("/api/v1/customers/1/invoices").json()[0]
        invoice = api.get(f"/api/v1/customers/1/invoices/{latest['number']}").json()
    item = console.wait_for_selector(
        f"[data-testid=account-document][data-kind=invoice_pdf][data-document-id={invoice['number']}]")
    item.query_selector("[data-testid=account-document-button]").click()
    opened = console.wait_for_selector("[data-testid=account-document-open]")
    href = opened.get_attribute("href") or ""
    assert href.startswith(f"{services.backend}/documents/") and opened.get_attribute("target") == "_blank"
    pdf = httpx.get(href, timeout=20)  # the browser's GET: no token, no cookie; the signed link is all
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    expected = [format_money(Decimal(line["amount"])) for line in invoice["line_items"]]
    expected += [format_money(Decimal(invoice["total"])), format_money(Decimal(invoice["amount_due"]))]
    assert re.findall(r"-?\$[\d,]+\.\d{2}", text) == expected
    statements = console.locator("[data-testid=account-document][data-kind=statement_pdf]")
    assert statements.count() >= 1
    with _backend(services, "supervisor:sam") as api:
        audit = api.get("/api/v1/audit-log", params={"customer_id": 1}).json()
    made = [(e["actor"], e["action"]) for e in audit]
    assert ("specialist:dana", "write.document.link") in made and ("service:api", "document.download") in made
    assert problems == [], problems
