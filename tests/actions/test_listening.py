"""Answers that follow what the customer actually asked: another account, autopay, a category, a credit."""

from datetime import date
from decimal import Decimal

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.answers import (
    ActionAskDueDate,
    ActionCheckBalance,
    ActionExplainCharge,
    ActionHowToPay,
    ActionPaymentStatus,
    asks_about_autopay,
)
from actions.base import asks_for_a_person
from actions.clients.billing import LineItem, Payment
from actions.dialogue import ActionSubmitDispute
from actions.forms import ValidateDisputeForm
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import FakeBilling, make_tracker, message, responses

LATEST = "INV-2026-000412"


def _line(id_: int, description: str, charge_type: str, amount: str) -> LineItem:
    return LineItem(id=id_, description=description, charge_type=charge_type, amount=Decimal(amount),
                    quantity=Decimal("1"), unit_rate=Decimal(amount), period_start=date(2026, 10, 1),
                    period_end=date(2026, 10, 31), policy_rule="R-1")


@pytest.fixture
def billing() -> FakeBilling:
    """David's latest bill, plus three taxes and fees and a credit for unused plan days."""
    fake = FakeBilling()
    fake.invoices[LATEST].line_items += [
        _line(44, "State sales tax", "tax", "5.00"),
        _line(45, "Federal Universal Service Fund fee", "tax", "2.04"),
        _line(46, "911 emergency service fee", "tax", "0.75"),
        _line(47, "Basic plan, unused days credited", "proration", "-22.50"),
    ]
    return fake


def asking(intent: str, text: str, entities: list | None = None):
    return make_tracker(
        intent=intent, text=text, entities=entities, metadata=SIGNED_IN, slots={"account_currency": "USD"}
    )


# --- another account number -------------------------------------------------------------------------------


async def test_question_about_another_account_is_refused_plainly(billing, dispatcher, domain):
    tracker = asking(
        "check_balance",
        "what's the balance on ACC-100005?",
        entities=[{"entity": "account_number", "value": "ACC-100005"}],
    )
    events = await ActionCheckBalance(billing=billing).run(dispatcher, tracker, domain)
    assert events == []
    assert [(m["response"], m.get("account_number")) for m in dispatcher.messages] == [
        ("utter_only_own_account", "ACC-100005")
    ]
    assert billing.called("get_balance") == []  # none of the customer's own figures were even fetched


async def test_account_number_written_without_entity_is_noticed_too(billing, dispatcher, domain):
    await ActionExplainCharge(billing=billing).run(
        dispatcher, asking("explain_charge", "and on acc 100123?"), domain
    )
    assert responses(dispatcher) == ["utter_only_own_account"]


async def test_own_account_number_in_the_question_is_answered(billing, dispatcher, domain):
    tracker = asking(
        "check_balance",
        "balance of ACC-100004 please",
        entities=[{"entity": "account_number", "value": "ACC-100004"}],
    )
    await ActionCheckBalance(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_balance")["total_due"] == "$158.00"


# --- autopay ------------------------------------------------------------------------------------------------


async def test_does_it_come_out_automatically_is_told_the_autopay_state(billing, dispatcher, domain):
    tracker = asking("payment_status", "does the payment come out automatically every month")
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert [(m["response"], m.get("payment_method")) for m in dispatcher.messages] == [
        ("utter_autopay_on", "Visa •••• 4242")
    ]


@pytest.mark.parametrize(("text", "asks"), [
    ("will the money leave my bank on its own or do I have to pay it myself?", True),
    ("does it come out of my account by itself each month", True),
    ("do I need to pay manually every month?", True),
    ("so I must make the payment by hand, yes?", True),
    ("how do I pay manually?", False),  # how to pay, not whether it pays itself
    ("I paid it myself yesterday, did it arrive?", False),
    ("is autopay on", True),
])
def test_asks_about_autopay(text, asks):
    assert asks_about_autopay(text) is asks


async def test_autopay_off_is_said_so(billing, dispatcher, domain):
    billing.autopay = False
    await ActionPaymentStatus(billing=billing).run(
        dispatcher, asking("payment_status", "is autopay set up?"), domain
    )
    assert responses(dispatcher) == ["utter_autopay_off"]


async def test_autopay_on_but_the_last_automatic_payment_failed(billing, dispatcher, domain):
    billing.payments = [
        Payment(
            id=9,
            amount=Decimal("75.00"),
            method="autopay: Visa ending 0119",
            received_date=date(2026, 11, 6),
            status="failed",
            failure_reason="Card expired: Visa ending 0119",
        ),
    ]
    await ActionPaymentStatus(billing=billing).run(
        dispatcher, asking("payment_status", "isn't it on direct debit?"), domain
    )
    assert responses(dispatcher) == ["utter_autopay_on", "utter_autopay_last_payment_failed"]
    failed = message(dispatcher, "utter_autopay_last_payment_failed")
    assert (failed["amount"], failed["payment_date"], failed["failure_reason"]) == (
        "$75.00",
        "November 6, 2026",
        "Card expired: Visa ending 0119",
    )


async def test_due_date_question_that_mentions_autopay_gets_both(billing, dispatcher, domain):
    await ActionAskDueDate(billing=billing).run(
        dispatcher, asking("ask_due_date", "when will the automatic payment be taken"), domain
    )
    assert responses(dispatcher) == ["utter_due_date", "utter_autopay_on"]


async def test_payment_question_without_autopay_words_is_answered_as_before(billing, dispatcher, domain):
    await ActionPaymentStatus(billing=billing).run(
        dispatcher, asking("payment_status", "did my payment go through"), domain
    )
    assert responses(dispatcher) == ["utter_payment_pending"]

async def test_did_my_autopay_payment_go_through_gets_the_payment_then_the_state(billing, dispatcher, domain):
    await ActionPaymentStatus(billing=billing).run(
        dispatcher, asking("payment_status", "did my last autopay payment go through on time?"), domain
    )
    assert [(m["response"], m.get("payment_method")) for m in dispatcher.messages] == [
        ("utter_payment_pending", None), ("utter_autopay_on", "Visa •••• 4242")
    ]


async def test_failed_automatic_payment_asked_about_is_told_once(billing, dispatcher, domain):
    billing.payments = [
        Payment(id=9, amount=Decimal("75.00"), method="autopay: Visa ending 0119",
                received_date=date(2026, 11, 6), status="failed", failure_reason="Card expired"),
    ]
    await ActionPaymentStatus(billing=billing).run(
        dispatcher, asking("payment_status", "why did the direct debit fail"), domain
    )
    assert responses(dispatcher) == ["utter_payment_failed", "utter_autopay_on"]
    assert message(dispatcher, "utter_payment_failed")["failure_reason"] == "Card expired"


# --- a category, one named fee, a credit ----------------------------------------------------------------


async def test_question_about_a_category_explains_every_line_of_it(billing, dispatcher, domain):
    tracker = asking(
        "explain_charge",
        "what are all these taxes and fees?",
        entities=[{"entity": "charge_name", "value": "tax"}],
    )
    events = await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert events == []
    [sent] = dispatcher.messages
    assert (sent["response"], sent["category"], sent["invoice_number"], sent["total"]) == (
        "utter_charge_group_explanation",
        "tax and fee",
        LATEST,
        "$7.79",
    )
    assert sent["lines"].split("\n") == [
        "• State sales tax is a tax charge. 1 x $5.00 = $5.00.",
        "• Federal Universal Service Fund fee is a tax charge. 1 x $2.04 = $2.04.",
        "• 911 emergency service fee is a tax charge. 1 x $0.75 = $0.75.",
    ]
    assert [call["line_item_id"] for call in billing.called("explain_line_item")] == [44, 45, 46]


async def test_one_fee_named_by_its_words_is_explained_alone(billing, dispatcher, domain):
    await ActionExplainCharge(billing=billing).run(
        dispatcher, asking("explain_charge", "What is the Universal Service Fund fee?"), domain
    )
    assert responses(dispatcher) == ["utter_charge_explanation"]
    explained = message(dispatcher, "utter_charge_explanation")
    assert (explained["description"], explained["amount"]) == ("Federal Universal Service Fund fee", "$2.04")


async def test_one_tax_asked_in_the_singular_is_not_a_category(billing, dispatcher, domain):
    tracker = asking(
        "explain_charge", "what's the sales tax", entities=[{"entity": "charge_name", "value": "tax"}]
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["description"] == "State sales tax"


async def test_a_credit_asked_about_is_explained(billing, dispatcher, domain):
    await ActionExplainCharge(billing=billing).run(
        dispatcher, asking("explain_charge", "why is there a credit on my bill?"), domain
    )
    explained = message(dispatcher, "utter_charge_explanation")
    assert (explained["description"], explained["amount"]) == ("Basic plan, unused days credited", "-$22.50")
    assert responses(dispatcher) == ["utter_charge_explanation"]


async def test_a_credit_named_when_disputing_ends_the_form_and_is_explained(
    billing, handoff, dispatcher, domain
):
    tracker = make_tracker(
        intent="dispute_charge",
        text="I want to dispute this $22.50 credit",
        metadata=SIGNED_IN,
        entities=[{"entity": "MONEY", "value": "$22.50"}],
        active_loop="dispute_form",
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    credit = {"match": "credit", "line_item_id": "47"}
    assert events == [
        SlotSet("charge_candidates", credit),
        SlotSet("account_currency", "USD"),
        SlotSet("requested_slot", None),
    ]  # the form ends at once

    tracker.slots["charge_candidates"] = credit
    events = await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    explained = message(dispatcher, "utter_charge_explanation")
    assert (explained["description"], explained["amount"]) == ("Basic plan, unused days credited", "-$22.50")
    assert [b["title"] for b in explained["buttons"]] == ["That's clear, thanks", "Talk to a person"]
    assert billing.called("open_dispute") == [] and handoff.requests == []
    assert SlotSet("charge_candidates", None) in events


@pytest.mark.parametrize(("text", "entity", "description"), [
    # a charge named in a "why" question
    ("I paid everything in October so why is there a late payment charge?", ("charge_name", "late_fee"),
     "Late fee"),
    # an amount no payment has, of one line of the latest bill, named as a line
    ("There's a $5 line on my new bill. Is that a fee you charge because the card payment didn't work?",
     ("MONEY", "$5"), "State sales tax"),
])
async def test_a_line_asked_about_in_a_payment_message_is_explained(billing, dispatcher, domain, text, entity,
                                                                     description):
    tracker = asking("payment_status", text, entities=[{"entity": entity[0], "value": entity[1]}])
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_charge_explanation"]
    assert message(dispatcher, "utter_charge_explanation")["description"] == description


async def test_line_pointed_at_without_a_word_of_paying_is_explained(billing, dispatcher, domain):
    tracker = asking(
        "payment_status",
        "the $60 one, is that just my plan?",
        entities=[{"entity": "MONEY", "value": "$60"}, {"entity": "charge_name", "value": "plan"}],
    )
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_charge_explanation"]
    assert message(dispatcher, "utter_charge_explanation")["description"] == "Unlimited plan"
    assert billing.called("list_payments") == []


async def test_the_question_sentence_amount_wins_over_a_charge_named_before_it(billing, dispatcher, domain):
    tracker = asking(
        "explain_charge",
        "The total is way up!! My plan is 60 a month and I changed nothing. So what is this 22.50 on it?",
        entities=[{"entity": "charge_name", "value": "plan"}],
    )
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    explained = message(dispatcher, "utter_charge_explanation")
    assert explained["description"] == "Basic plan, unused days credited"


async def test_one_sentence_naming_a_charge_and_an_amount_is_resolved_as_before(billing, dispatcher, domain):
    tracker = asking("explain_charge", "what is the $60 plan charge", entities=[
        {"entity": "MONEY", "value": "$60"}, {"entity": "charge_name", "value": "plan"}])
    await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["description"] == "Unlimited plan"
    assert billing.called("get_invoice") == []  # no second look at the bill for a one-sentence question


@pytest.mark.parametrize("text", [
    "I sent $5 yesterday, did it go through?",  # how a payment went
    "I sent $5 yesterday for the bill",  # no line named
])
async def test_an_amount_no_payment_has_is_still_a_payment_question(billing, dispatcher, domain, text):
    tracker = asking("payment_status", text, entities=[{"entity": "MONEY", "value": "$5"}])
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_not_matched", "utter_payment_pending"]


@pytest.mark.parametrize("text", ["has the money for my plan gone out yet?", "is my plan settled?"])
async def test_named_charge_without_an_amount_or_with_money_words_is_a_payment_question(
    billing, dispatcher, domain, text
):
    tracker = asking("payment_status", text, entities=[{"entity": "charge_name", "value": "plan"}])
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_pending"]


async def test_payment_for_a_named_charge_is_still_a_payment_question(billing, dispatcher, domain):
    tracker = asking(
        "payment_status",
        "did my payment for the activation fee go through",
        entities=[{"entity": "charge_name", "value": "one_time"}],
    )
    await ActionPaymentStatus(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_pending"]


async def test_autopay_question_taken_for_how_to_pay_is_told_the_autopay_state(billing, dispatcher, domain):
    billing.payments = [
        Payment(
            id=9,
            amount=Decimal("75.00"),
            method="autopay: Visa ending 0119",
            received_date=date(2026, 11, 6),
            status="failed",
            failure_reason="Card expired: Visa ending 0119",
        ),
    ]
    events = await ActionHowToPay(billing=billing).run(
        dispatcher, asking("how_to_pay", "does my bill get paid automatically?"), domain
    )
    assert events == []
    assert responses(dispatcher) == ["utter_autopay_on", "utter_autopay_last_payment_failed"]


@pytest.mark.parametrize(("active_loop", "then"), [
    (None, [FollowupAction("verify_identity_form")]),
    ("verify_identity_form", []),  # the form asking already verifies; the answer follows it
])
async def test_an_unverified_visitor_asking_whether_the_bill_is_paid_automatically_is_verified_first(
        billing, dispatcher, domain, active_loop, then):
    tracker = make_tracker(intent="how_to_pay", text="does my bill get paid automatically?",
                           active_loop=active_loop)
    events = await ActionHowToPay(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_autopay_verify_first"]
    assert events == then
    assert billing.calls == []


async def test_how_to_pay_without_autopay_words_lists_the_ways_to_pay(billing, dispatcher, domain):
    await ActionHowToPay(billing=billing).run(
        dispatcher, asking("how_to_pay", "how can I pay my bill"), domain
    )
    # then the offer to pay here (issue 16): Pay now / Update card
    assert responses(dispatcher) == ["utter_how_to_pay", "utter_autopay_on", "utter_pay_in_chat"]


# --- a question answered, then the person the customer asked for -----------------------------------


async def test_question_that_also_asks_for_a_person_is_answered_then_handed_over(billing, dispatcher,
                                                                                 domain):
    tracker = asking(
        "explain_charge",
        "what is the unlimited plan charge? it looks wrong to me, can I speak to someone about it",
        entities=[{"entity": "charge_name", "value": "plan"}],
    )
    events = await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_charge_explanation"]
    assert events[-1] == FollowupAction("action_escalate_to_human")


async def test_question_without_a_person_asked_for_is_not_handed_over(billing, dispatcher, domain):
    tracker = asking("explain_charge", "what is the unlimited plan charge?",
                     entities=[{"entity": "charge_name", "value": "plan"}])
    events = await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_charge_explanation"]
    assert FollowupAction("action_escalate_to_human") not in events


@pytest.mark.parametrize(("text", "asks"), [
    ("I want to talk to a person from billing about it", True),
    ("please put me through to someone", True),
    ("is there a real human I can ask", True),
    ("i'd like to speak with your billing team", True),
    ("I don't want to talk to a person, just explain the fee", False),
    ("what is this charge", False),
    ("/request_human", False),
    ("the person who set up my account said it was free", False),
    ("could somebody call me back this afternoon", True),
    ("i'd like to book a callback for friday", True),
    ("ugh, just get me a real person", True),
    ("please don't call me back, email is fine", False),
    ("my callback number is on the account", False),
    ("how do I get me a copy of the bill", False),
    ("I want that money back. Who can I talk to about a refund?", True),
    ("who do I speak with about my bill", True),
    ("who can I pay at the store", False),
])
def test_asks_for_a_person(text, asks):
    assert asks_for_a_person(text) is asks
