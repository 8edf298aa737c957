"""The foundation's slice in a real browser: the demo page's widget answers a balance question."""

from __future__ import annotations

import pytest

from tests.support.billing_api import api, money
from tests.support.demo_page import DemoPage
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]


def test_balance_question_in_the_demo_page(stack: Stack, browser, artifacts) -> None:
    expected = money(api(stack, "/customers/1/balance")["total_due"])
    demo = DemoPage(browser, stack.handoff_url)
    try:
        demo.sign_in(1, "Alice")
        demo.open_chat()
        demo.send("What's my balance?")
        answer = demo.wait_for_bot_text(expected)
        demo.page.screenshot(path=str(artifacts / "thin-slice-balance.png"), full_page=True)
        assert expected in answer.text_content()
        assert not demo.errors, demo.errors
    finally:
        demo.close()
