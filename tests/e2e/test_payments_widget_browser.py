"""Payments through the demo page's chat widget in Debian's chromium, on the shared real stack (widget,
handoff, Rasa with the trained model, action server, backend with the simulated processor) (issue 16):

- Farid asks to update his card, opens the bot's secure-page button, saves a new card and pays his past due;
  the chat shows the page's summary and the bot, told by the handoff service, offers autopay: he turns it on;
- Alice asks about her late fee and takes the one-time waiver the bot offers with the explanation;
- Carla promises to pay her bill by a date within policy.

Expected figures come from the backend's API over the database the bot reads, never from constants."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.support.billing_api import api, latest_line, money
from tests.support.demo_page import DemoPage
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

ALICE, CARLA, FARID = 1, 3, 6
GOOD_CARD = "4242 4242 4242 4242"
BOT_TIMEOUT_MS = 60_000  # a turn through Rasa and the action server on a loaded 2-core machine


def tap(demo: DemoPage, title: str) -> None:
    """The live button with this title (answered questions' buttons are disabled)."""
    button = demo.page.locator("[data-testid=chat-button]:not([disabled])", has_text=title).last
    expect(button).to_be_visible(timeout=BOT_TIMEOUT_MS)
    button.click()


def bot_says(demo: DemoPage, text: str) -> str:
    return demo.wait_for_bot_text(text, timeout_ms=BOT_TIMEOUT_MS).text_content() or ""


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def test_farid_updates_his_card_from_the_chat_pays_and_turns_autopay_on(stack: Stack, browser, artifacts):
    # On the shared stack test_payments_chat may already have paid Farid's past due: then he pays the balance.
    balance = api(stack, f"/customers/{FARID}/balance")
    choice, due = ("past_due", balance["past_due"]) if Decimal(balance["past_due"]) > 0 else (
        "full_balance", balance["total_due"])
    paying = money(due)
    assert Decimal(due) > 0
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(FARID, "Farid")
        demo.open_chat()
        demo.send("My card expired, I need to put a new one on")
        link = demo.page.locator("[data-testid=chat-link-button]").last
        expect(link).to_have_text("Open the secure payment page", timeout=BOT_TIMEOUT_MS)
        with demo.context.expect_page() as opened:
            link.click()  # a new tab, as the widget opens links
        page = opened.value
        page.wait_for_selector("#card-number")
        page.check(f"input[value={choice}]")
        page.set_checked("#autopay", False)  # decided in the chat afterwards
        page.fill("#card-number", GOOD_CARD)
        page.fill("#card-expiry", "12/34")
        page.fill("#card-cvc", "123")
        page.click("#submit")
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)
        page.close()

        # the page's summary arrives in the chat, then the bot's follow-up (Rasa was told)
        summary = demo.page.locator("[data-testid=chat-message][data-sender=system]").last
        expect(summary).to_contain_text("Visa ending 4242", timeout=30_000)
        expect(summary).to_contain_text(paying)
        bot_says(demo, "Would you like autopay on")
        tap(demo, "Turn on autopay")
        question = bot_says(demo, "Turn on autopay?")
        assert "Visa ending 4242" in question
        tap(demo, "Yes, turn autopay on")
        done = bot_says(demo, "Autopay is on.")
        demo.page.screenshot(path=str(artifacts / "payments-farid-widget.png"), full_page=True)
        assert not demo.errors, demo.errors
    finally:
        demo.close()
    methods = api(stack, f"/customers/{FARID}/payment-methods")
    assert methods["autopay"] is True and "Visa ending 4242" in done
    assert [m["last4"] for m in methods["on_file"] if m["is_default"]] == ["4242"]
    assert api(stack, f"/customers/{FARID}/balance")["past_due"] == "0.00"
    paid = [p for p in api(stack, f"/customers/{FARID}/payments") if p.get("source") == "secure_page"]
    assert [(money(p["amount"]), p["status"]) for p in paid] == [(paying, "posted")]  # one payment


def test_alice_takes_the_late_fee_waiver_offered_with_the_explanation(stack: Stack, browser):
    fee = latest_line(stack, ALICE, "late_fee")
    waiver = api(stack, f"/customers/{ALICE}/arrangement-options")["late_fee_waiver"]
    assert waiver["eligible"] and str(waiver["line_item_id"]) == str(fee["id"]), waiver
    before = Decimal(api(stack, f"/customers/{ALICE}/balance")["total_due"])
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(ALICE, "Alice")
        demo.open_chat()
        demo.send("why is there a late payment charge on my bill?")
        assert "waive it once" in bot_says(demo, "first late fee in 12 months")
        tap(demo, f"Yes, waive the {money(fee['amount'])} fee")  # the offer's yes: applied at once
        after = before - Decimal(fee["amount"])
        done = bot_says(demo, "late fee is waived")
        assert money(after) in done, done
        assert not demo.errors, demo.errors
    finally:
        demo.close()
    assert Decimal(api(stack, f"/customers/{ALICE}/balance")["total_due"]) == after
    waivers = [a for a in api(stack, f"/customers/{ALICE}/arrangements") if a["kind"] == "late_fee_waiver"]
    assert [(w["status"], str(w["line_item_id"])) for w in waivers] == [("applied", str(fee["id"]))]
    assert not api(stack, f"/customers/{ALICE}/arrangement-options")["late_fee_waiver"]["eligible"]


def test_carla_promises_to_pay_by_a_date_within_policy(stack: Stack, browser):
    promise = api(stack, f"/customers/{CARLA}/arrangement-options")["promise_to_pay"]
    assert promise["eligible"], promise
    pay_by = min(date.fromisoformat(promise["earliest_date"]) + timedelta(days=7),
                 date.fromisoformat(promise["latest_date"]))
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(CARLA, "Carla")
        demo.open_chat()
        demo.send(f"let me pay my bill on {pay_by:%B} {pay_by.day}")
        question = bot_says(demo, long_date(pay_by))
        assert money(promise["minimum_amount"]) in question
        assert api(stack, f"/customers/{CARLA}/arrangements") == []  # nothing before the yes
        tap(demo, "Yes, set it up")
        assert long_date(pay_by) in bot_says(demo, "Done: your promise to pay")
        assert not demo.errors, demo.errors
    finally:
        demo.close()
    (made,) = api(stack, f"/customers/{CARLA}/arrangements")
    assert (made["kind"], made["status"], made["pay_by"]) == ("promise_to_pay", "active", pay_by.isoformat())
