"""The foundation's slice in a real browser: the demo page's widget answers a balance question."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]


def test_balance_question_in_the_demo_page(stack: Stack, browser, artifacts) -> None:
    customer_id = 1  # Alice Moreno
    balance = httpx.get(
        f"{stack.backend_url}/api/v1/customers/{customer_id}/balance", headers=stack.backend_headers()
    ).json()
    expected = f"${Decimal(balance['total_due']):,.2f}"

    context = browser.new_context()
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(stack.handoff_url + "/")
    page.select_option("[data-testid=customer-picker]", str(customer_id))
    page.wait_for_function(
        "document.querySelector('[data-testid=signed-in-as]').textContent.includes('Alice')"
    )
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")
    page.fill("[data-testid=chat-input]", "What's my balance?")
    page.click("[data-testid=chat-send]")
    answer = page.wait_for_selector(
        f"[data-testid=chat-message][data-sender=bot] >> text={expected}", timeout=30_000
    )
    page.screenshot(path=str(artifacts / "thin-slice-balance.png"), full_page=True)
    assert expected in answer.text_content()
    assert not page_errors, page_errors
    context.close()
