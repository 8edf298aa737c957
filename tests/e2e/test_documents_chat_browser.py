"""A customer asks for their last bill in the demo page's chat widget (Debian's chromium, the shared real
stack: handoff, Rasa with the trained model, action server, backend) and downloads it from the bot's link
button (issue 19), then has it emailed with "Email it to me" (a double tap: one email, the PDF attached). The
PDFs' figures are compared with the backend API's, never with constants."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.documents_email_support import attached_pdf_text, queued_mails
from tests.support.billing_api import api, money
from tests.support.demo_page import DemoPage
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ALICE = 1
BOT_TIMEOUT_MS = 60_000  # a turn through Rasa and the action server on a loaded 2-core machine


def test_alice_asks_for_her_last_bill_and_downloads_it(stack: Stack, browser, artifacts) -> None:
    latest = api(stack, f"/customers/{ALICE}/invoices")[0]
    invoice = api(stack, f"/customers/{ALICE}/invoices/{latest['number']}")
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(ALICE, "Alice")
        demo.open_chat()
        demo.send("Could you give me a PDF copy of my latest invoice?")
        link = demo.page.locator("[data-testid=chat-link-button]").last
        expect(link).to_have_text(f"Download Invoice {invoice['number']} (PDF)", timeout=BOT_TIMEOUT_MS)
        href = link.get_attribute("href") or ""
        assert href.startswith(f"{stack.backend_url}/documents/")
        with demo.context.expect_page() as opened:
            link.click()  # the widget opens links in a new tab
        opened.value.close()
        demo.page.screenshot(path=str(artifacts / "documents-alice-last-bill.png"), full_page=True)
        pdf = demo.context.request.get(href)  # what the browser downloads: no token, no cookie
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["cache-control"] == "no-store"
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
        expected = [money(line["amount"]) for line in invoice["line_items"]] + [money(invoice["total"])]
        expected += [money(p["amount"]).replace("$", "-$") for p in api(stack, f"/customers/{ALICE}/payments")
                     if p["invoice_number"] == invoice["number"] and p["status"] == "posted"]
        expected.append(money(invoice["amount_due"]))
        assert re.findall(r"-?\$[\d,]+\.\d{2}", text) == expected
        assert Decimal(invoice["total"]) > 0 and invoice["number"] in text

        # "Email it to me" next to the link, tapped twice: one email with the PDF to the address on file.
        email_it = demo.page.locator("[data-testid=chat-button]", has_text="Email it to me").last
        email_it.dblclick()
        alice = api(stack, f"/customers/{ALICE}")
        masked = alice["email"][0] + "***@" + alice["email"].split("@")[1]
        done = demo.page.locator("[data-testid=chat-message][data-sender=bot]",
                                 has_text=f"emailed your Invoice {invoice['number']}").last
        expect(done).to_contain_text(masked, timeout=BOT_TIMEOUT_MS)
        assert alice["email"] not in (demo.page.text_content("body") or "")
        (mail,) = queued_mails(stack, template="document_copy", customer_id=ALICE)
        assert mail.to_address == alice["email"] and mail.requested_by.startswith("bot:")
        filename, attached = attached_pdf_text(mail)
        assert filename == f"invoice-{invoice['number']}.pdf"
        assert re.findall(r"-?\$[\d,]+\.\d{2}", attached) == expected
        assert not demo.errors, demo.errors
    finally:
        demo.close()
