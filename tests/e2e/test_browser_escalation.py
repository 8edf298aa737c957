"""The whole escalation story in two real browsers, over the real stack.

A customer (David Kim, charged twice for the installation) disputes the charge with the bot; Dana, a
specialist, sees the chat appear in her queue, claims it, sees the context and the account, chats, accepts
the dispute with a credit and resolves; the customer sees every step and rates the chat. The backend's
balance has dropped by the credit.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.support.demo_page import pick_demo_customer, sign_in_to_console
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

DAVID = 4


def balance(stack: Stack) -> Decimal:
    response = httpx.get(
        f"{stack.backend_url}/api/v1/customers/{DAVID}/balance", headers=stack.backend_headers()
    )
    return Decimal(response.json()["total_due"])


def test_dispute_is_settled_by_a_specialist_in_two_browsers(stack: Stack, browser, artifacts) -> None:
    before = balance(stack)
    errors: list[str] = []

    staff = browser.new_context()
    console = staff.new_page()
    console.on("pageerror", lambda error: errors.append(f"console: {error}"))
    sign_in_to_console(console, stack.handoff_url, "dana", "dana-demo-pass")
    console.wait_for_selector("[data-testid=console-connection][data-state=connected]")

    visitor = browser.new_context()
    page = visitor.new_page()
    page.on("pageerror", lambda error: errors.append(f"widget: {error}"))
    page.goto(stack.handoff_url + "/")
    pick_demo_customer(page, DAVID, "David")
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")

    def bot_says(fragment: str, timeout: int = 30_000):
        return page.wait_for_selector(
            f"[data-testid=chat-message][data-sender=bot] >> text={fragment}", timeout=timeout
        )

    page.fill("[data-testid=chat-input]", "I was charged twice for the installation")
    page.click("[data-testid=chat-send]")
    # Two identical lines: the bot asks which one with buttons (or goes straight on). The first message
    # already says what is wrong, so the bot does not ask for a reason but to confirm.
    page.wait_for_selector(
        "[data-testid=chat-button]:has-text('Installation'), "
        "[data-testid=chat-button]:has-text('Yes, open it')",
        timeout=30_000,
    )
    if page.locator("[data-testid=chat-button]:has-text('Installation')").count():
        page.locator("[data-testid=chat-button]:has-text('Installation')").first.click()
    page.wait_for_selector("[data-testid=chat-button]:has-text('Yes, open it')", timeout=30_000)
    assert not page.locator("[data-testid=chat-message][data-sender=bot]:has-text('wrong with')").count()
    page.locator("[data-testid=chat-button]:has-text('Yes, open it')").last.click()
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]", timeout=30_000)
    assert "1" in page.text_content("[data-testid=chat-queue-position]")

    console.wait_for_selector("[data-testid=queue-item][data-reason=dispute]", timeout=30_000)
    console.click("[data-testid=queue-claim]")
    console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
    console.wait_for_selector("[data-testid=account-invoice]")
    assert "Installation" in console.text_content("[data-testid=context-line-item]")
    assert console.text_content("[data-testid=context-dispute-id]").strip()
    assert "charged twice" in console.text_content("[data-testid=conversation-transcript]")

    page.wait_for_selector(
        "[data-testid=chat-message][data-sender=system] >> text=Dana from Billing has joined"
    )
    console.fill(
        "[data-testid=agent-input]", "Hi David, I can see the installation fee twice. Let me fix that."
    )
    console.click("[data-testid=agent-send]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=agent] >> text=Let me fix that")
    page.fill("[data-testid=chat-input]", "thank you Dana")
    page.click("[data-testid=chat-send]")
    console.wait_for_selector("[data-testid=transcript-message][data-sender=customer] >> text=thank you Dana")

    console.fill("[data-testid=settle-credit-amount]", "49.00")
    console.fill("[data-testid=settle-note]", "Duplicate installation fee on order ORD-55012")
    console.click("[data-testid=settle-accept-button]")
    console.wait_for_selector("[data-testid=settle-result]:has-text('49.00')", timeout=15_000)
    console.screenshot(path=str(artifacts / "escalation-console.png"), full_page=True)
    console.select_option("[data-testid=resolve-outcome]", "credit_issued")
    console.click("[data-testid=resolve-button]")

    page.wait_for_selector("[data-testid=chat-button] >> text=5", timeout=30_000)
    page.click("[data-testid=chat-button] >> text=5")
    bot_says("Thanks")
    page.screenshot(path=str(artifacts / "escalation-customer.png"), full_page=True)

    assert balance(stack) == before - Decimal("49.00")
    assert not errors, errors
    staff.close()
    visitor.close()
