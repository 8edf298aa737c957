"""'Email me this conversation' in Debian's chromium (issue 19): the signed-in customer's button sends the
widget's email_transcript frame; the handoff service asks the backend (here the stand-in) for one transcript
email and the chat confirms it; the panel stays accessible with the button."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.handoff.test_widget_browser import browser, open_chat, send  # noqa: F401 (fixture)
from tests.support.axe import blocking_violations


@pytest.mark.browser
def test_the_customer_gets_the_conversation_by_email_once_per_press(handoff, browser, stand_in):  # noqa: F811
    page, errors = open_chat(browser, handoff.url)
    send(page, "show me the menu")
    page.wait_for_selector("[data-testid=chat-button]")
    button = page.locator("[data-testid=chat-email-transcript]")
    expect(button).to_be_visible()
    expect(button).to_have_text("Email me this conversation")
    assert blocking_violations(page) == []
    button.click()
    expect(button).to_be_disabled()  # one request per press
    confirmation = page.locator("[data-testid=chat-message][data-sender=system]",
                                has_text="I've emailed this conversation to you.")
    expect(confirmation).to_have_count(1)
    requests = [call for call in stand_in.backend_calls
                if call["path"] == "/api/v1/mail/messages" and call["body"]["template"] == "transcript"]
    assert len(requests) == 1
    body = requests[0]["body"]
    assert body["customer_id"] == 4 and "to" not in body
    lines = [(line["speaker"], line["text"]) for line in body["context"]["lines"]]
    assert ("customer", "show me the menu") in lines
    assert not [e for e in errors if "Uncaught" in e], errors
