"""The supervisor's reports and the console's pages in Debian's chromium, against a real handoff process:
the figures by outcome with how they are computed, charts, a CSV download, the readable audit log, and
axe-core finding no serious or critical violation on the queue, a conversation, the supervisor and the
trainer pages."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.handoff.access_support import queued_chat, signed_in
from tests.handoff.conftest import BILLING_ACTIVITY, FIXED_BACKEND_ANSWERS, Widget, customer_token
from tests.support.axe import blocking_violations
from tests.support.browser import chromium
from tests.support.demo_page import sign_in_to_console


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def in_thread(work: Any) -> Any:
    """Run an async set-up outside the sync Playwright's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


async def a_day_of_chats(handoff: Any) -> None:
    """One chat the bot answered (contained and resolved) and one dispute Dana resolved, rated 5."""
    answered = Widget(handoff.ws_url, customer_token(1, "Alice"))
    await answered.connect()
    await answered.send("what is my balance?")
    await answered.wait_for(lambda f: f["type"] == "message" and f["text"] == "Echo: what is my balance?")
    await answered.close()
    widget = await queued_chat(handoff)
    dana = await signed_in(handoff, "dana")
    path = f"/api/console/conversations/{widget.conversation_id}"
    assert (await dana.post(path + "/claim")).status_code == 200
    for _ in range(3):  # three looks in a row: one folded line in the audit log
        assert (await dana.http.get(path)).status_code == 200
    assert (await dana.post(path + "/resolve", {"outcome": "explained"})).status_code == 200
    await widget.wait_for(lambda f: f["type"] == "message" and "rate" in f.get("text", ""))
    await widget.send("5", payload='/rate_chat{"csat_score":"5"}')
    await widget.wait_for(lambda f: f["type"] == "message" and f.get("text") == "Thanks for your rating!")
    await widget.close()
    await dana.close()


async def queued_and_gone(handoff: Any) -> None:
    """A queued chat whose customer closed the page (it stays queued for the abandon grace period)."""
    widget = await queued_chat(handoff)
    await widget.close()


def console_page(browser: Browser, url: str, username: str) -> Page:
    page = browser.new_context(accept_downloads=True).new_page()
    sign_in_to_console(page, url, username, f"{username}-demo-pass")
    expect(page.locator("[data-testid=app-view]")).to_be_visible()
    return page


def part(page: Page, test_id: str) -> Any:
    return page.locator(f"[data-testid={test_id}]")


@pytest.mark.browser
def test_supervisor_reads_the_days_figures_by_outcome_downloads_a_table_and_the_audit_log(handoff, browser,
                                                                                       monkeypatch):
    # Dana issued the dispute's credit and took the payment (the backend's by_issuer and by_actor)
    monkeypatch.setitem(FIXED_BACKEND_ANSWERS, ("GET", "/reports/billing-activity"), {
        **BILLING_ACTIVITY,
        "credits": {**BILLING_ACTIVITY["credits"], "by_issuer": [
            {"issued_by": "specialist:dana", "currency": "USD", "count": 1, "amount": "49.99"},
            {"issued_by": "bot:rasa", "currency": "USD", "count": 1, "amount": "1050.00"}]},
        "payments": {**BILLING_ACTIVITY["payments"], "by_actor": [
            {"actor": "specialist:dana", "currency": "USD", "count": 1, "amount": "85.00"}]}})
    in_thread(lambda: a_day_of_chats(handoff))
    page = console_page(browser, handoff.url, "sam")
    page.click("[data-testid=nav-supervisor]")
    expect(part(page, "supervisor-view")).to_be_visible()
    expect(part(page, "figure-conversations-value")).to_have_text("2")
    expect(part(page, "figure-containment-value")).to_have_text("50%")
    expect(part(page, "figure-resolution-value")).to_have_text("100%")
    expect(part(page, "figure-bot-resolution-value")).to_have_text("50%")
    expect(part(page, "figure-csat-value")).to_have_text("5 / 5")
    expect(part(page, "definition-resolution")).to_contain_text("the customer did not rate it 1 or 2")
    expect(part(page, "definition-containment")).to_contain_text("no escalation")
    expect(part(page, "escalations-row")).to_have_text(["Dispute1"])
    expect(part(page, "specialists-row")).to_have_count(1)
    expect(part(page, "specialists-row").first).to_contain_text("Dana")
    # credits issued, credited, payments taken, paid in chat
    dana = part(page, "specialists-row").first.locator("td")
    assert [dana.nth(n).inner_text() for n in range(6, 10)] == ["1", "$49.99", "1", "$85.00"]
    with page.expect_download() as download:
        page.click("[data-testid=csv-specialists]")
    people = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [(p["username"], p["conversations"], p["credits_issued_count"], p["credits_issued_amount"],
             p["payments_taken_count"], p["payments_taken_amount"]) for p in people] == [
        ("dana", "1", "1", "49.99 USD", "1", "85.00 USD")]
    # per team: Dana's dispute waited in the disputes queue; the other teams had no escalated chat
    expect(part(page, "teams-row")).to_have_count(3)
    expect(part(page, "teams-row").nth(0)).to_contain_text("Disputes1100%")
    expect(part(page, "teams-row").nth(1)).to_contain_text("Payments0—")
    expect(part(page, "chart-teams").locator("[data-testid=chart-bar][data-value='1']")).to_have_count(1)
    with page.expect_download() as download:
        page.click("[data-testid=csv-teams]")
    teams = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [(t["team"], t["conversations"], t["resolved"], t["csat_average"]) for t in teams] == [
        ("disputes", "1", "1", "5.0"), ("payments", "0", "0", ""), ("general", "0", "0", "")]
    expect(part(page, "chart-csat").locator("[data-testid=chart-bar]")).to_have_count(5)
    expect(part(page, "chart-csat").locator("[data-testid=chart-bar][data-value='1']")).to_have_count(1)
    expect(part(page, "credits-row")).to_have_text(["Dispute accepted1$49.99", "Goodwill1$1,050.00"])
    expect(part(page, "chart-credits").locator("[data-testid=chart-bar]")).to_have_count(2)
    expect(part(page, "payments-row")).to_have_text(["By a specialistposted1$85.00"])
    expect(part(page, "billing-error")).to_be_hidden()

    with page.expect_download() as download:
        page.click("[data-testid=csv-credits]")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows == [["reason", "currency", "count", "amount"], ["dispute", "USD", "1", "49.99"],
                    ["goodwill", "USD", "1", "1050.00"]]

    views = part(page, "audit-entry").filter(has_text="Opened the chat")
    folded = views.filter(has_text="Dana").locator("[data-testid=audit-count]")
    expect(folded).to_have_text(" \u00d7 3")  # a multiplication sign
    expect(views.first.locator("[data-testid=audit-target]")).to_contain_text("David (chat ")
    expect(views.first.locator("[data-testid=audit-target]")).not_to_contain_text("specialist:")

    page.click("[data-testid=report-7-days]")
    expect(part(page, "chart-by-day").locator("[data-testid=chart-bar]")).to_have_count(7)
    assert blocking_violations(page, include="[data-testid=supervisor-view]") == []
    page.context.close()


@pytest.mark.browser
def test_the_queue_a_conversation_and_the_trainer_page_have_no_serious_accessibility_violations(
        handoff, browser):
    in_thread(lambda: queued_and_gone(handoff))
    page = console_page(browser, handoff.url, "dana")
    expect(part(page, "queue-item")).to_have_count(1)
    assert blocking_violations(page) == [], "queue"
    part(page, "queue-item").first.locator("[data-testid=queue-claim]").click()
    expect(part(page, "conversation-view")).to_be_visible()
    expect(part(page, "transcript-message").first).to_be_visible()
    assert blocking_violations(page) == [], "conversation"
    page.context.close()

    trainer = console_page(browser, handoff.url, "tess")
    expect(part(trainer, "trainer-view")).to_be_visible()
    assert blocking_violations(trainer) == [], "trainer page"
    trainer.context.close()
