"""The widget and the console in Debian's chromium: the JS speaks the protocol and renders safely."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import chromium
from tests.support.demo_page import pick_demo_customer, sign_in_to_console


@pytest.fixture
def page():
    with chromium() as browser:
        context = browser.new_context()
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        yield page, context, errors


@pytest.mark.browser
def test_widget_and_console_in_a_browser(handoff, page):
    page, context, errors = page
    page.goto(handoff.url + "/")
    pick_demo_customer(page, 4, "David")
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.fill("[data-testid=chat-input]", "<b>hi</b> card 4111 1111 1111 1111")
    page.click("[data-testid=chat-send]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=customer][data-status=sent]")
    echo = page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo:")
    assert echo.text_content() == "Echo: <b>hi</b> card **** **** **** 1111"  # shown as text, not markup
    assert page.locator("[data-testid=chat-message] b").count() == 0

    console = context.new_page()
    sign_in_to_console(console, handoff.url, "dana", "dana-demo-pass")
    console.wait_for_selector("[data-testid=console-connection][data-state=connected]")

    page.fill("[data-testid=chat-input]", "I want to dispute this")
    page.click("[data-testid=chat-send]")
    page.wait_for_selector("[data-testid=chat-status][data-state=queued]")
    assert "number 1" in page.text_content("[data-testid=chat-queue-position]")

    console.wait_for_selector("[data-testid=queue-item][data-reason=dispute]")
    console.click("[data-testid=queue-claim]")
    console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
    console.wait_for_selector("[data-testid=account-invoice]")
    assert "Installation fee" in console.text_content("[data-testid=context-line-item]")
    page.wait_for_selector(
        "[data-testid=chat-message][data-sender=system] >> text=Dana from Billing has joined"
    )
    console.fill("[data-testid=agent-input]", "Hello David")
    console.click("[data-testid=agent-send]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=agent] >> text=Hello David")
    page.fill("[data-testid=chat-input]", "thanks Dana")
    page.click("[data-testid=chat-send]")
    console.wait_for_selector("[data-testid=transcript-message][data-sender=customer] >> text=thanks Dana")
    console.select_option("[data-testid=resolve-outcome]", "explained")
    console.click("[data-testid=resolve-button]")
    page.wait_for_selector("[data-testid=chat-button] >> text=5")
    page.click("[data-testid=chat-button] >> text=5")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Thanks for your rating!")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


@pytest.mark.browser
def test_a_stale_button_is_refused_politely_and_not_resent(handoff, page, stand_in):
    page, _context, errors = page
    page.goto(handoff.url + "/")
    pick_demo_customer(page, 4, "David")
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.fill("[data-testid=chat-input]", "show me the menu")
    page.click("[data-testid=chat-send]")
    fee = page.locator("[data-testid=chat-button]:has-text('Activation fee')")
    fee.wait_for()
    fee.click()
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: /explain_charge")
    expect(fee).to_be_disabled()  # that question is answered: the button is stale
    # An older widget (another tab) may still send it: refused politely, and the widget drops it.
    page.evaluate("window.acmeChatWidget.send('Activation fee', '/explain_charge{\"line_item_id\": \"42\"}')")
    expect(page.locator("[data-testid=chat-notice]")).to_contain_text("isn't available any more")
    expect(page.locator("[data-testid=chat-message][data-sender=customer]")).to_have_count(2)
    outboxes = page.evaluate(
        "Object.keys(localStorage).map(k => JSON.parse(localStorage.getItem(k)).outbox || [])"
    )
    assert outboxes and all(outbox == [] for outbox in outboxes), outboxes  # a reconnect does not resend it
    page.reload()  # the chat stays open across the reload
    pick_demo_customer(page, 4, "David")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.wait_for_selector("[data-testid=chat-message][data-sender=bot] >> text=Echo: /explain_charge")
    texts = [m["message"] for m in stand_in.rasa_messages]
    assert texts == ["show me the menu", '/explain_charge{"line_item_id": "42"}']
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
