"""Issue 19's "Done when", by email with `make run`'s processes: the specialist's email reply is read on the
development mail server's page, and "Reply as the customer" there lands in the same conversation in the
console (devmail forwards reply-domain mail to the handoff's signed inbound webhook, like a mail provider),
where Dana's console (chromium) shows the conversation's channel."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.backend.mail_support import DevMail, devmail_process
from tests.handoff.access_support import signed_in
from tests.handoff.conftest import HandoffProcess, rasa_texts, transcript
from tests.handoff.test_email_real import (  # noqa: F401 (the real backend fixture, reused)
    DAVID,
    INBOUND_SECRET,
    REPLY_SECRET,
    backend,
    inbound,
    mail_to_david_containing,
)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.stack import free_port


@pytest.fixture
def handoff_port() -> int:
    return free_port()


@pytest.fixture
def devmail(tmp_path: Path, handoff_port: int) -> Iterator[DevMail]:
    """Forwards reply-domain mail to the handoff the test starts on handoff_port (as $HANDOFF_URL would)."""
    env = {"APP_ENV": "development", "EMAIL_INBOUND_SECRET": INBOUND_SECRET,
           "DEVMAIL_INBOUND_URL": f"http://127.0.0.1:{handoff_port}/api/email/inbound/generic"}
    with devmail_process(tmp_path, env=env) as server:
        yield server


async def test_the_customer_answers_the_specialists_email_from_the_devmail_page(
        stand_in, backend, devmail, handoff_port, tmp_path):  # noqa: F811
    handoff = HandoffProcess(database_url=f"sqlite:///{tmp_path / 'handoff.db'}", stand_in=stand_in,
                             workdir=tmp_path, extra_env={
                                 "BACKEND_URL": backend.url, "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "true",
                                 "EMAIL_INBOUND_SECRET": INBOUND_SECRET, "EMAIL_REPLY_SECRET": REPLY_SECRET})
    handoff.port, handoff.url = handoff_port, f"http://127.0.0.1:{handoff_port}"
    handoff.cli("migrate")
    handoff.cli("seed-demo")
    handoff.start()
    stand_in.handoff_url = handoff.url
    try:
        first = await inbound(handoff, {
            "from": f"David Kim <{DAVID}>", "to": "billing@example.test", "subject": "Installation fee",
            "text": "I was charged twice for the installation, I want a human.",
            "message_id": "<first-1@mail.example.com>"})
        assert first.status_code == 200, first.text
        conversation_id = first.json()["conversation_id"]
        mail_to_david_containing(devmail, "I've passed this to a billing specialist (ticket)")
        dana = await signed_in(handoff, "dana")
        claimed = await dana.http.post(f"/api/console/conversations/{conversation_id}/claim", json={})
        assert claimed.status_code == 200, claimed.text
        sent = await dana.http.post(f"/api/console/conversations/{conversation_id}/messages",
                                    json={"text": "We'll refund the second installation fee.",
                                          "client_id": "d-1"})
        assert sent.status_code == 200, sent.text
        reply_mail = mail_to_david_containing(devmail, "We'll refund the second installation fee.")
        assert reply_mail["headers"]["Reply-To"].startswith(f"reply+{conversation_id}.")

        # David reads it on the devmail page and answers with its form.
        async with httpx.AsyncClient(base_url=devmail.url, timeout=10) as page_client:
            page = await page_client.get(f"/messages/{reply_mail['id']}")
            assert "Reply as the customer" in page.text
            answered = await page_client.post(f"/messages/{reply_mail['id']}/reply",
                                              data={"text": "Thank you, please go ahead."},
                                              headers={"Origin": devmail.url})
        assert answered.status_code == 303

        deadline = time.monotonic() + 20
        while True:
            messages = await transcript(handoff, conversation_id)
            customer = [m["text"] for m in messages if m["sender"] == "customer"]
            if len(customer) == 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert customer == ["I was charged twice for the installation, I want a human.",
                            "Thank you, please go ahead."]  # same conversation, quoted history cut
        [forwarded] = [m for m in devmail.messages() if m["in_reply_to"] == reply_mail["message_id"]]
        assert forwarded["forwarded"]["status"] == 200
        assert '"outcome":"with_specialist"' in forwarded["forwarded"]["answer"]
        assert rasa_texts(stand_in, conversation_id) == [
            "I was charged twice for the installation, I want a human."]
        await dana.close()
        # Dana's console (chromium) says the channel in her list and in the conversation view.
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page()
            await page.goto(f"{handoff.url}/console")
            await page.fill("[data-testid=login-username]", "dana")
            await page.fill("[data-testid=login-password]", "dana-demo-pass")
            await page.click("[data-testid=login-submit]")
            mine = page.locator(f"[data-testid=my-chats] li[data-conversation-id='{conversation_id}']")
            await expect(mine).to_have_attribute("data-channel", "email", timeout=20_000)
            await mine.locator("[data-testid=my-chat-open]").click()
            await expect(page.locator("[data-testid=conversation-channel]")).to_have_text("Email · ")
            await expect(page.locator("[data-testid=conversation-view]")).to_have_attribute(
                "data-channel", "email")
            await browser.close()
    finally:
        handoff.stop()
