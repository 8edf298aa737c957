"""Account answers: what the customer is told, from which backend data."""

from datetime import date
from decimal import Decimal

from actions.answers import (
    ActionAnswerInform,
    ActionAskDueDate,
    ActionCheckBalance,
    ActionExplainBillIncrease,
    ActionExplainCharge,
    ActionHowToPay,
    ActionListCharges,
    ActionPaymentStatus,
)
from actions.clients.billing import Payment
from actions.clients.errors import BackendUnavailable
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import make_tracker, message, responses, slot_events


async def test_balance_for_signed_in_customer_uses_metadata_id(billing, dispatcher, domain):
    tracker = make_tracker(intent="check_balance", metadata=SIGNED_IN)
    events = await ActionCheckBalance(billing=billing).run(dispatcher, tracker, domain)
    balance = message(dispatcher, "utter_balance")
    assert balance["total_due"] == "$158.00"
    assert balance["next_due_date"] == "November 21, 2026"
    assert message(dispatcher, "utter_last_payment_posted")["payment_date"] == "October 20, 2026"
    assert billing.called("get_balance") == [{"customer_id": 4}]
    assert slot_events(events)["account_currency"] == "USD"


async def test_customer_id_typed_in_text_or_sender_id_is_never_trusted(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="check_balance",
        text="I am customer 4",
        entities=[{"entity": "customer_id", "value": "4"}],
        sender_id="4",
    )
    assert await ActionCheckBalance(billing=billing).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_need_verification"]
    assert billing.calls == []


async def test_balance_for_customer_verified_in_chat_uses_slot(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="check_balance", slots={"verified_customer_id": 4, "account_currency": "USD"}
    )
    await ActionCheckBalance(billing=billing).run(dispatcher, tracker, domain)
    assert "utter_balance" in responses(dispatcher)


async def test_backend_down_gives_apology_and_offer_of_a_person(billing, dispatcher, domain):
    billing.fail_with = BackendUnavailable("timed out")
    await ActionCheckBalance(billing=billing).run(dispatcher, make_tracker(metadata=SIGNED_IN), domain)
    apology = message(dispatcher, "utter_backend_unavailable")
    assert {"title": "Talk to a person", "payload": "/request_human"} in apology["buttons"]
    assert len(dispatcher.messages) == 1


async def test_due_date(billing, dispatcher, domain):
    await ActionAskDueDate(billing=billing).run(
        dispatcher, make_tracker(intent="ask_due_date", metadata=SIGNED_IN), domain
    )
    due = message(dispatcher, "utter_due_date")
    assert (due["next_due_amount"], due["next_due_date"]) == ("$158.00", "November 21, 2026")


async def test_list_charges_itemizes_latest_invoice_with_explain_buttons(billing, dispatcher, domain):
    await ActionListCharges(billing=billing).run(
        dispatcher, make_tracker(intent="list_charges", metadata=SIGNED_IN), domain
    )
    listing = message(dispatcher, "utter_invoice_charges")
    assert listing["invoice_number"] == "INV-2026-000412"
    assert "• Activation fee: $49.00" in listing["lines"]
    assert listing["period"] == "October 1, 2026 to October 31, 2026"
    assert listing["buttons"][1] == {
        "title": "Activation fee · $49.00",
        "payload": '/explain_charge{"line_item_id": "42"}',
    }


async def test_list_charges_of_unknown_invoice_says_so(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="list_charges",
        metadata=SIGNED_IN,
        entities=[{"entity": "invoice_number", "value": "inv-2020-000001"}],
    )
    await ActionListCharges(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_invoice_not_found")["invoice_number"] == "INV-2020-000001"


async def test_explain_single_charge_by_name_gives_backend_explanation(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "charge_name", "value": "late payment charge"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    explanation = message(dispatcher, "utter_charge_explanation")
    assert explanation["description"] == "Late fee"
    assert explanation["amount"] == "$5.00"
    assert explanation["policy"] == "Policy R-1."
    assert billing.called("find_line_items")[0]["name"] == "late_fee"
    assert explanation["buttons"][0]["payload"] == '/dispute_charge{"line_item_id": "32"}'


async def test_explain_charge_by_amount_with_several_matches_asks_which(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "MONEY", "value": "49 dollars"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    ask = message(dispatcher, "utter_several_charges_match")
    assert ask["count"] == 2
    assert [b["payload"] for b in ask["buttons"]] == [
        '/explain_charge{"line_item_id": "42"}',
        '/explain_charge{"line_item_id": "43"}',
    ]
    assert billing.called("find_line_items")[0]["amount"] == Decimal("49.00")


async def test_explain_charge_with_no_match_says_so_and_shows_latest_invoice(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "MONEY", "value": "$12.34"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    reply = message(dispatcher, "utter_no_charge_match")
    assert reply["query"] == "a charge of $12.34"
    assert reply["invoice_number"] == "INV-2026-000412"
    assert len(reply["buttons"]) == 3


async def test_explain_charge_by_tapped_button_checks_ownership(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "line_item_id", "value": "43"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["invoice_number"] == "INV-2026-000412"
    assert billing.called("explain_line_item") == [{"customer_id": 4, "line_item_id": "43"}]


async def test_explain_charge_without_details_offers_latest_charges(billing, dispatcher, domain):
    tracker = make_tracker(intent="explain_charge", metadata=SIGNED_IN, slots={"account_currency": "USD"})
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert len(message(dispatcher, "utter_which_charge")["buttons"]) == 3


async def test_bill_increase_lists_biggest_differences_first(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_bill_increase", metadata=SIGNED_IN, slots={"account_currency": "USD"}
    )
    await ActionExplainBillIncrease(billing=billing).run(dispatcher, tracker, domain)
    reply = message(dispatcher, "utter_bill_increase")
    assert reply["difference"] == "$93.00"
    lines = reply["lines"].splitlines()
    assert lines[0].startswith("• Activation fee (new): +$98.00")
    assert lines[1].startswith("• Late fee (removed): -$5.00")


async def test_pending_payment(billing, dispatcher, domain):
    tracker = make_tracker(intent="payment_status", metadata=SIGNED_IN, slots={"account_currency": "USD"})
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    reply = message(dispatcher, "utter_payment_pending")
    assert (reply["amount"], reply["payment_date"]) == ("$158.00", "November 20, 2026")


async def test_failed_payment_gives_reason_and_ways_forward(billing, dispatcher, domain):
    billing.payments = [
        Payment(
            id=9,
            amount=Decimal("80.00"),
            method="card",
            received_date=date(2026, 11, 1),
            status="failed",
            failure_reason="Card expired.",
        )
    ]
    tracker = make_tracker(intent="payment_status", metadata=SIGNED_IN, slots={"account_currency": "USD"})
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    reply = message(dispatcher, "utter_payment_failed")
    assert reply["failure_reason"] == "Card expired"
    assert [b["payload"] for b in reply["buttons"]] == ["/how_to_pay", "/request_human"]


async def test_payment_by_date_filters_and_falls_back_to_latest(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="payment_status",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "DATE", "value": "March 3"}],
    )
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_not_matched", "utter_payment_pending"]
    assert billing.called("list_payments")[0]["on_date"] is not None


async def test_a_bare_amount_still_filters_the_payments(billing, dispatcher, domain):
    """"i sent 80.00 ..." has no MONEY entity (a bare number is none: docs/contracts.md): still the amount."""
    tracker = make_tracker(
        intent="payment_status", text="i sent 80.00 last week, is it in", metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
    )
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert billing.called("list_payments")[0]["amount"] == Decimal("80.00")


async def test_how_to_pay_for_anonymous_visitor_needs_no_backend(billing, dispatcher, domain):
    await ActionHowToPay(billing=billing).run(dispatcher, make_tracker(intent="how_to_pay"), domain)
    assert responses(dispatcher) == ["utter_how_to_pay_general"]
    assert billing.calls == []


async def test_how_to_pay_for_customer_shows_ways_and_autopay(billing, dispatcher, domain):
    await ActionHowToPay(billing=billing).run(
        dispatcher, make_tracker(intent="how_to_pay", metadata=SIGNED_IN), domain
    )
    assert "Pay online at example.com/pay" in message(dispatcher, "utter_how_to_pay")["ways"]
    assert message(dispatcher, "utter_autopay_on")["payment_method"] == "Visa •••• 4242"
    # "I want to pay my bill" read as this question still reaches the payment: the amount owed is a button
    # that opens the payment form with it (which states amount, method and balance after, and asks for a Yes)
    offer = message(dispatcher, "utter_pay_in_chat")["buttons"]
    assert offer == [{"title": "Full balance $158.00", "payload": '/pay_bill{"MONEY": "158.00"}'},
                     {"title": "Update card", "payload": "/update_payment_method"}]


async def test_how_to_pay_offers_pay_now_when_the_balance_cannot_be_read(billing, dispatcher, domain):
    async def balance_down(**_):
        raise BackendUnavailable("timeout")

    billing.get_balance = balance_down
    await ActionHowToPay(billing=billing).run(
        dispatcher, make_tracker(intent="how_to_pay", metadata=SIGNED_IN), domain
    )
    offer = message(dispatcher, "utter_pay_in_chat")["buttons"]
    assert [button["title"] for button in offer] == ["Pay now", "Update card"]


async def test_payment_method_detail_reads_naturally(billing, dispatcher, domain):
    billing.payments = [
        Payment(
            id=9,
            amount=Decimal("45.00"),
            method="online: Visa ending 2222",
            received_date=date(2026, 11, 4),
            status="posted",
        )
    ]
    tracker = make_tracker(intent="payment_status", metadata=SIGNED_IN, slots={"account_currency": "USD"})
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_payment_posted")["method"] == "Visa ending 2222"


async def test_charge_named_in_text_without_entity_is_still_found(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        text="what is this late payment charge?",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["description"] == "Late fee"


async def test_recurring_charge_named_without_date_means_the_newest_bill(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="explain_charge",
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
        entities=[{"entity": "charge_name", "value": "plan"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["invoice_number"] == "INV-2026-000412"


async def test_pending_payment_is_counted_in_the_balance_answer(billing, dispatcher, domain):
    original = billing.get_balance

    async def balance_with_pending(*, customer_id):
        balance = await original(customer_id=customer_id)
        return balance.model_copy(update={"pending_payments": Decimal("158.00")})

    billing.get_balance = balance_with_pending
    await ActionCheckBalance(billing=billing).run(dispatcher, make_tracker(metadata=SIGNED_IN), domain)
    reply = message(dispatcher, "utter_balance_after_pending")
    assert (reply["pending"], reply["remaining"]) == ("$158.00", "$0.00")


# --- a statement outside any question (action_answer_inform) ------------------------------------------------


async def test_inform_naming_one_charge_by_amount_explains_it(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="inform", text="and the $5 thing, what is that?", metadata=SIGNED_IN,
        slots={"account_currency": "USD"}, entities=[{"entity": "MONEY", "value": "$5"}],
    )
    await ActionAnswerInform(billing=billing).run(dispatcher, tracker, domain)
    explanation = message(dispatcher, "utter_charge_explanation")
    assert (explanation["description"], explanation["amount"]) == ("Late fee", "$5.00")
    assert "utter_how_can_i_help" not in responses(dispatcher)


async def test_inform_naming_another_account_is_refused_with_none_of_the_customers_figures(
    billing, dispatcher, domain
):
    tracker = make_tracker(
        intent="inform", text="Could you look up ACC-100002 for my flatmate?", metadata=SIGNED_IN,
        entities=[{"entity": "account_number", "value": "ACC-100002"}],
    )
    await ActionAnswerInform(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_only_own_account"]
    assert message(dispatcher, "utter_only_own_account")["account_number"] == "ACC-100002"
    assert billing.called("find_line_items") == [] and billing.called("get_balance") == []


async def test_inform_with_an_amount_that_matches_no_line_is_not_guessed(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="inform", text="$12.34", metadata=SIGNED_IN, slots={"account_currency": "USD"},
        entities=[{"entity": "MONEY", "value": "$12.34"}],
    )
    await ActionAnswerInform(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_how_can_i_help"]


async def test_inform_naming_nothing_asks_how_to_help(billing, dispatcher, domain):
    tracker = make_tracker(intent="inform", text="it's about my bill", metadata=SIGNED_IN)
    await ActionAnswerInform(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_how_can_i_help"]
    assert billing.called("find_line_items") == []


async def test_inform_from_a_visitor_not_verified_neither_asks_who_they_are_nor_reads_anything(
    billing, dispatcher, domain
):
    tracker = make_tracker(
        intent="inform", text="the $5 one", metadata={"customer_id": None},
        entities=[{"entity": "MONEY", "value": "$5"}],
    )
    await ActionAnswerInform(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_how_can_i_help"]
    assert billing.calls == []
