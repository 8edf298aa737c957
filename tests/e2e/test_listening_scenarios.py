"""A bot that listens (issue 13, item 5), in real conversations through the handoff WebSocket over the shared
stack. Every figure and sentence expected comes from the backend's API over the same database the bot
reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_demo_scenarios import ask
from tests.e2e.test_payments_chat import buttons
from tests.support.billing_api import api, money
from tests.support.chat import ChatClient, customer_token
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ALICE, BEN, FARID, GRACE = 1, 2, 6, 7


def latest_lines(stack: Stack, customer_id: int) -> list[dict[str, Any]]:
    latest = api(stack, f"/customers/{customer_id}/invoices")[0]
    return api(stack, f"/customers/{customer_id}/invoices/{latest['number']}")["line_items"]


def explanation(stack: Stack, customer_id: int, line: dict[str, Any]) -> dict[str, Any]:
    return api(stack, f"/customers/{customer_id}/line-items/{line['id']}/explanation")


async def test_question_about_a_category_explains_every_line_of_it(stack: Stack) -> None:
    taxes = [line for line in latest_lines(stack, GRACE) if line["charge_type"] == "tax"]
    (answer,) = await ask(stack, GRACE, "What are these taxes and fees on my bill?")
    assert len(taxes) == 3
    for line in taxes:
        assert explanation(stack, GRACE, line)["summary"] in answer


async def test_one_fee_asked_about_is_explained_alone(stack: Stack) -> None:
    lines = {line["description"]: line for line in latest_lines(stack, GRACE)}
    (answer,) = await ask(stack, GRACE, "What is the Universal Service Fund fee?")
    assert explanation(stack, GRACE, lines["Federal Universal Service Fund fee"])["summary"] in answer
    assert explanation(stack, GRACE, lines["State sales tax"])["summary"] not in answer


async def test_installment_line_says_which_installment_of_how_many(stack: Stack) -> None:
    router = next(line for line in latest_lines(stack, GRACE) if line["charge_type"] == "equipment")
    facts = explanation(stack, GRACE, router)["facts"]
    (answer,) = await ask(stack, GRACE, "what is the router charge?")
    assert f"Installment {facts['installment_number']} of {facts['installments_total']}" in answer


async def explained_after_any_clarification(stack: Stack, customer_id: int, question: str) -> str:
    """The bot's answer to `question`; when the model is unsure ("Did you mean ...?"), the customer taps the
    explain-a-charge suggestion, which is answered from the same words. Whether a borderline message is
    classified outright moves with training (seed, CPU); what must not move is that a credit is explained,
    not disputed or misread."""
    chat = ChatClient(stack.chat_ws_url, token=customer_token(
        secret=stack.env["CUSTOMER_JWT_SECRET"], customer_id=customer_id))
    await chat.connect()
    try:
        reply = await chat.say(question)
        answer = " ".join(ChatClient.texts(reply))
        if "Did you mean" not in answer:
            return answer
        offered = buttons(reply)
        tap = next((b for b in offered if b["payload"].startswith("/explain_charge")), None)
        assert tap is not None, f"explaining a charge was not among the suggestions: {offered}"
        return " ".join(ChatClient.texts(await chat.say(tap["title"], payload=tap["payload"])))
    finally:
        await chat.close()


async def test_a_credit_asked_about_is_explained(stack: Stack) -> None:
    credit = next(line for line in latest_lines(stack, BEN) if float(line["amount"]) < 0)
    answer = await explained_after_any_clarification(stack, BEN, "what is this credit on my bill?")
    assert f"-{money(credit['amount'].lstrip('-'))}" in answer
    assert explanation(stack, BEN, credit)["summary"] in answer


async def test_autopay_question_is_told_the_state_and_the_failed_payment(stack: Stack) -> None:
    failed = next(p for p in api(stack, "/customers/6/payments") if p["status"] == "failed")
    (answer,) = await ask(stack, FARID, "does my bill get paid automatically?")
    assert "Autopay is on" in answer
    assert money(failed["amount"]) in answer and failed["failure_reason"].rstrip(".") in answer


async def test_autopay_question_asked_before_verifying_is_answered_once_verified(stack: Stack) -> None:
    """The question is in the opening message; the turn that verifies the visitor must still answer it (it
    used to ask "Which would you like to change?")."""
    _, verified = await ask(
        stack, None, "does my bill get paid automatically, or do I have to pay it myself?",
        "ACC-100007, postal code 80202",
    )
    assert "Autopay is on" in verified
    assert "Which would you like to change" not in verified and "Turn off autopay?" not in verified


async def test_signed_in_customer_asking_about_another_account_gets_none_of_their_figures(
    stack: Stack,
) -> None:
    balance = api(stack, "/customers/1/balance")
    (answer,) = await ask(stack, ALICE, "what's the balance on account ACC-100005?")
    assert "only discuss your own account" in answer and "ACC-100005" in answer
    assert money(balance["total_due"]) not in answer


async def test_verification_listens_and_an_unreadable_answer_costs_no_attempt(stack: Stack) -> None:
    balance = api(stack, "/customers/1/balance")
    _, _, unreadable, wrong, right = await ask(
        stack, None, "what's my balance?", "ACC-100001", "I think it's 941", "99999", "the last four are 4821"
    )
    assert "postal code" in unreadable.lower() and "tries left" not in unreadable
    assert "2 tries left" in wrong  # the unreadable answer did not reach the backend
    assert "What's your account number" not in wrong and "What's the postal code" in wrong
    assert money(balance["total_due"]) in right
