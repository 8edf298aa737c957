"""Every demo customer's scenario explained in the demo page's chat widget, in Debian's chromium.

(David's duplicate charge, the dispute story, is test_browser_escalation.py.) The figures the bot must
show come from the backend's API over the database the bot reads, never from constants.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.support.billing_api import api, latest_line, money
from tests.support.demo_page import DemoPage
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]


def biggest_change(stack: Stack, customer_id: int) -> list[str]:
    comparison = api(stack, f"/customers/{customer_id}/bill-comparison")
    return [money(comparison["difference"]), money(abs(Decimal(comparison["changes"][0]["difference"])))]


def failed_payment(stack: Stack) -> list[str]:
    failed = next(p for p in api(stack, "/customers/6/payments") if p["status"] == "failed")
    return [failed["failure_reason"], money(failed["amount"])]


def pending_payment(stack: Stack) -> list[str]:
    pending = next(p for p in api(stack, "/customers/5/payments") if p["status"] == "pending")
    return ["pending", money(pending["amount"])]


# customer id, first name, question, what the answer must show
SCENARIOS: list[tuple[int, str, str, Callable[[Stack], list[str]]]] = [
    (
        1, "Alice", "why is there a late payment charge on my bill?",
        lambda stack: [money(latest_line(stack, 1, "late_fee")["amount"])],
    ),
    (2, "Ben", "why did my bill go up?", lambda stack: biggest_change(stack, 2)),
    (
        3, "Carla", "what is the data overage charge?",
        lambda stack: [money(latest_line(stack, 3, "usage")["amount"])],
    ),
    (5, "Elena", "I paid yesterday, did it go through?", pending_payment),
    (6, "Farid", "why did my autopay fail?", failed_payment),
    (
        7, "Grace", "what is the sales tax on my bill?",
        lambda stack: [money(latest_line(stack, 7, "tax")["amount"])],
    ),
    (8, "Hiro", "why did my bill go up by $20?", lambda stack: biggest_change(stack, 8)),
]


@pytest.mark.parametrize(("customer_id", "first_name", "question", "expected"), SCENARIOS,
                         ids=[name for _, name, _, _ in SCENARIOS])
def test_scenario_in_the_demo_page(stack: Stack, browser, artifacts, customer_id, first_name, question,
                                   expected) -> None:
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(customer_id, first_name)
        demo.open_chat()
        demo.send(question)
        for text in expected(stack):
            assert text in demo.wait_for_bot_text(text).text_content()
        demo.page.screenshot(path=str(artifacts / f"scenario-{first_name.lower()}.png"), full_page=True)
        assert not demo.errors, demo.errors
    finally:
        demo.close()


def test_anonymous_visitor_sees_nothing_before_verifying(stack: Stack, browser) -> None:
    total_due = money(api(stack, "/customers/1/balance")["total_due"])
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.open_chat()
        demo.send("what's my balance?")
        demo.wait_for_bot_text("account number")
        demo.send("ACC-100001")
        demo.wait_for_bot_text("postal code")
        assert total_due not in demo.page.inner_text("body")  # nothing shown before verification
        demo.send("94110")
        assert total_due in demo.wait_for_bot_text(total_due).text_content()
        assert not demo.errors, demo.errors
    finally:
        demo.close()
