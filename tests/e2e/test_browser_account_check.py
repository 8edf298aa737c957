"""The account check in the demo page's chat widget, in Debian's chromium, on the shared stack (issue 18).

David (the duplicate installation fee) is signed in in two tabs, i.e. two conversations. Each asks for his
balance: the bot first mentions the duplicate ("Before we start: ... Want me to fix that?") and still answers.
He taps "Yes, fix it" in both tabs one right after the other: the bot fixes it with no specialist within 30
seconds, both tabs state the same new balance, and the backend issued one credit. Expected figures come from
the backend's API.

Nadia's duplicate technician visit is above what the bot may credit: she hears no offer, and when she asks
for a person, Dana sees the finding (with why the bot may not fix it) in the console's account panel."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.support.billing_api import api, money
from tests.support.demo_page import DemoPage, sign_in_to_console
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

DAVID, NADIA = 4, 14
YES = "[data-testid=chat-button]:has-text('Yes, fix it')"


def system_fixes(stack: Stack) -> list[dict]:
    return [
        dispute for dispute in api(stack, f"/customers/{DAVID}/disputes")
        if dispute["status"] == "accepted" and dispute["reason"].startswith("Account check")
    ]


def test_david_s_duplicate_is_fixed_by_the_bot_once_from_two_tabs(stack: Stack, browser, artifacts) -> None:
    [finding] = [f for f in api(stack, f"/customers/{DAVID}/findings")["findings"] if f["bot_may_fix"]]
    assert finding["kind"] == "duplicate_charge"
    before = Decimal(api(stack, f"/customers/{DAVID}/balance")["total_due"])
    after = before - Decimal(finding["amount"])
    fixes_before = len(system_fixes(stack))
    tabs = [DemoPage(browser, stack.handoff_url) for _ in range(2)]
    try:
        for tab in tabs:
            tab.sign_in(DAVID, "David")
            tab.open_chat()
        started = time.monotonic()
        for tab in tabs:
            tab.send("what's my balance?")
        for tab in tabs:
            offer = tab.wait_for_bot_text("Before we start").text_content() or ""
            assert finding["summary"] in offer and "Want me to fix that?" in offer
            tab.wait_for_bot_text(money(before))  # the question is still answered
        for tab in tabs:  # both "yes" at about the same time
            tab.page.locator(YES).click()
        for tab in tabs:
            done = tab.wait_for_bot_text(f"Your balance is now {money(after)}").text_content() or ""
            assert money(Decimal(finding["amount"])) in done
        elapsed = time.monotonic() - started
        assert elapsed < 30, f"{elapsed:.1f} s from the question to the fix"
        tabs[0].page.screenshot(path=str(artifacts / "account-check-david.png"), full_page=True)
        for tab in tabs:
            assert tab.page.locator("[data-testid=chat-status][data-state=queued]").count() == 0  # no person
            assert not tab.errors, tab.errors
        assert Decimal(api(stack, f"/customers/{DAVID}/balance")["total_due"]) == after  # one credit
        assert len(system_fixes(stack)) == fixes_before + 1
        # fixed: nothing left for the bot to mention
        assert not [f for f in api(stack, f"/customers/{DAVID}/findings")["findings"] if f["bot_may_fix"]]
    finally:
        for tab in tabs:
            tab.close()


def test_a_specialist_sees_the_findings_in_the_account_panel(stack: Stack, browser) -> None:
    [finding] = api(stack, f"/customers/{NADIA}/findings")["findings"]
    assert not finding["bot_may_fix"]
    staff = browser.new_context()
    console = staff.new_page()
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_to_console(console, stack.handoff_url, "dana", "dana-demo-pass")
    console.wait_for_selector("[data-testid=console-connection][data-state=connected]")
    nadia = DemoPage(browser, stack.handoff_url)
    try:
        nadia.sign_in(NADIA, "Nadia")
        nadia.open_chat()
        nadia.send("what's my balance?")
        nadia.wait_for_bot_text(money(api(stack, f"/customers/{NADIA}/balance")["total_due"]))
        assert "Before we start" not in nadia.page.inner_text("body")  # nothing the bot may fix
        nadia.send("I want to talk to a person")
        item = console.locator("[data-testid=queue-item]:has-text('Nadia')")
        item.locator("[data-testid=queue-claim]").click(timeout=30_000)
        shown = console.locator("[data-testid=account-finding][data-kind=duplicate_charge]")
        shown.wait_for(timeout=15_000)
        assert shown.get_attribute("data-bot-may-fix") == "false"
        assert finding["summary"] in shown.inner_text()
        assert finding["handover_reasons"][0]["message"] in shown.inner_text()
        console.select_option("[data-testid=resolve-outcome]", "explained")
        console.click("[data-testid=resolve-button]")
        assert not errors and not nadia.errors, (errors, nadia.errors)
    finally:
        nadia.close()
        staff.close()
