"""The simulated-customer benchmark's judge and customer (bench/simulated_customers.py), on hand-made data: a
judge that passed everything would make its table meaningless."""

from decimal import Decimal
from pathlib import Path

import pytest

from bench.simulated_customers import (
    SCENARIO_DIR,
    Customer,
    CustomerData,
    Scenario,
    ScenarioError,
    Turn,
    goal_met,
    load_scenarios,
    wrong_figures,
)


def farid() -> CustomerData:
    """Demo customer 6's shape: overdue, autopay on, the last automatic payment failed."""
    data = CustomerData(api=None, customer_id=6)  # type: ignore[arg-type]  # never called below
    data.account = {"autopay": True}
    data.balance = {"total_due": "175.00", "past_due": "75.00", "next_due_date": "2026-12-18"}
    data.invoices = [{"number": "INV-2026-000606", "due_date": "2026-12-18", "total": "100.00"}]
    data.latest_lines = [
        {"id": 1, "description": "Premium 75 plan", "charge_type": "plan", "amount": "75.00"},
        {"id": 2, "description": "Late payment fee", "charge_type": "late_fee", "amount": "25.00"},
    ]
    data.all_lines = list(data.latest_lines)
    data.payments = [
        {"id": 9, "amount": "75.00", "received_date": "2026-11-18", "status": "failed",
         "failure_reason": "Card expired: Visa ending 0119"},
        {"id": 8, "amount": "75.00", "received_date": "2026-10-18", "status": "posted",
         "failure_reason": None},
    ]
    data.comparison = {"difference": "25.00"}
    data.methods = {"ways_to_pay": [{"kind": "phone", "instructions": "Call 1-800-555-0199 (24/7)"}]}
    data.figures = {Decimal(v) for v in ("175.00", "75.00", "100.00", "25.00")}
    return data


def met(goal: str, text: str, charge: str | None = None, **kwargs) -> bool:
    return goal_met(goal, charge, text, farid(), handed_over=kwargs.get("handed_over", False),
                    disputes_before=0)


def test_the_shipped_scenario_files_are_valid_and_cover_every_goal():
    for name in ("dev", "frozen"):
        scenarios = load_scenarios(SCENARIO_DIR / f"{name}.yml")
        goals = {turn.goal for scenario in scenarios for turn in scenario.turns if turn.goal}
        assert len(scenarios) >= 40 and len(goals) == 11, name


def test_a_scenario_without_what_its_goal_needs_is_refused(tmp_path: Path):
    path = tmp_path / "bad.yml"
    path.write_text("scenarios:\n  - id: x-1\n    customer: 4\n    turns:\n      - say: hi\n"
                    "        goal: dispute\n        charge: one_time\n")
    with pytest.raises(ScenarioError, match="reason"):
        load_scenarios(path)


def test_balance_needs_the_total_and_the_past_due_part():
    assert met("balance", "Your balance is $175.00. $75.00 of that is past due.")
    assert not met("balance", "Your balance is $175.00.")
    assert not met("balance", "Your next payment of $100.00 is due December 18, 2026.")


def test_due_date_in_words():
    assert met("due_date", "Your next payment of $100.00 is due December 18, 2026.")
    assert not met("due_date", "Your balance is $175.00.")


def test_payment_status_names_the_latest_payment_and_what_happened():
    assert met("payment_status", "The automatic payment of $75.00 failed: Card expired: Visa ending 0119.")
    assert not met("payment_status", "Your payment of $75.00 was received.")


def test_autopay_state_must_be_the_accounts():
    assert met("autopay_state", "Autopay is on: each bill is charged to Visa ending 0119.")
    assert not met("autopay_state", "Autopay is off at the moment. Turn on autopay?")
    assert not met("autopay_state", "Turn on autopay? Each bill will be charged on its due date.")


def test_a_charge_is_explained_with_its_amount():
    assert met("explain_charge", "Late payment fee of $25.00: paid 7 days late.", charge="late_fee")
    assert not met("explain_charge", "Here's how you can pay.", charge="late_fee")


def test_another_account_is_refused_without_any_figure():
    assert met("other_account", "For your privacy I can only discuss your own account.")
    assert not met("other_account", "I can only discuss your own account. Your balance is $175.00.")


def test_a_person_is_met_only_by_a_handover():
    assert met("human", "", handed_over=True)
    assert not met("human", "I can help with that.")


def test_a_figure_not_in_the_customers_data_is_wrong():
    assert wrong_figures("Your balance is $175.00, $75.00 past due.", farid()) == []
    assert wrong_figures("Your balance is $1,175.00.", farid()) == ["$1,175.00"]


def test_the_customer_taps_the_suggestion_of_their_goal_and_gives_up_without_one():
    scenario = Scenario(id="t", customer=6, signed_in=True, turns=(Turn("what's up with my payment"),))
    customer = Customer(scenario, chat=None, data=farid())  # type: ignore[arg-type]
    suggestion = {"type": "message", "sender": "bot", "text": "Did you mean one of these?", "buttons": [
        {"title": "Check my balance", "payload": "/check_balance"},
        {"title": "A payment I made", "payload": "/payment_status"},
        {"title": "Something else", "payload": "/deny"},
    ]}
    assert customer.answer(Turn("x", goal="payment_status"), [suggestion]) == (
        "A payment I made", "/payment_status")
    assert customer.answer(Turn("x", goal="how_to_pay"), [suggestion]) is None
