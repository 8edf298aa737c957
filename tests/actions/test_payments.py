"""Paying from the chat: the amount, the quote, the explicit yes, one payment, and what the customer is told.

The backend is the HTTP stand-in of tests/actions/payments_backend.py, spoken to by the real clients, so the
exact requests (path, body, X-Actor, Idempotency-Key) are what the tests check."""

from datetime import date
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAskDueDate, ActionCheckBalance
from actions.payments.amounts import AmountProblem, has_card_number, parse_amount, requested_amount
from actions.payments.confirm import ActionSubmitPayment
from actions.payments.quote import ActionAskPaymentAmount, ActionAskPaymentConfirmed, ValidatePaymentForm
from actions.payments.secure_page import ActionSendSecurePaymentLink
from tests.actions.fakes import make_tracker, message, responses
from tests.actions.payments_backend import Method, PaymentsBackend

FARID = {"customer_id": 6, "conversation_id": "conv-1"}
PAYMENT_FORM = "payment_form"


@pytest.fixture
def backend() -> PaymentsBackend:
    return PaymentsBackend()


def services(backend: PaymentsBackend) -> dict:
    return {"billing": backend.billing_client(), "payments": backend.payments_client()}


def pay_turn(
    text: str,
    *,
    intent: str = "pay_bill",
    money: list[str] | None = None,
    requested: str | None = None,
    slots: dict | None = None,
    signed: bool = True,
):
    entities = [{"entity": "MONEY", "value": value} for value in money or []]
    all_slots = {"requested_slot": requested, **(slots or {})}
    return make_tracker(
        intent=intent,
        text=text,
        entities=entities,
        metadata=FARID,
        slots=all_slots,
        active_loop=PAYMENT_FORM,
        signed=signed,
    )


async def quote_then_say_yes(backend: PaymentsBackend, domain: dict) -> CollectingDispatcher:
    """ "pay $75" (the quote), then "yes" to it: what the customer is told after the yes."""
    await ValidatePaymentForm(**services(backend)).run(
        CollectingDispatcher(), pay_turn("pay $75", money=["$75"]), domain
    )
    offer = {
        "quote_id": next(iter(backend.quotes)),
        "amount": "75.00",
        "currency": "USD",
        "method": "Visa ending 1111",
    }
    dispatcher = CollectingDispatcher()
    yes = pay_turn("yes", intent="affirm", slots={"payment_offer": offer, "payment_confirmed": True})
    await ActionSubmitPayment(**services(backend)).run(dispatcher, yes, domain)
    return dispatcher


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$75", Decimal("75.00")),
        ("50 dollars", Decimal("50.00")),
        ("1,250.5", Decimal("1250.50")),
        ("0", AmountProblem.not_positive),
        ("-20", AmountProblem.not_positive),
        ("minus 5 dollars", AmountProblem.not_positive),
        ("20.005", AmountProblem.too_precise),
        ("pay my bill", None),
    ],
)
def test_amount_as_written(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "money", "asked", "expected"),
    [
        ("pay the $75 that's overdue", ["$75"], False, "75.00"),
        ("pay 50 dollars now", ["50 dollars"], False, "50.00"),
        ("pay my bill", [], False, None),
        ("pay what's past due", [], False, "past_due"),
        ("pay off the whole balance", [], False, "full_balance"),
        ("fifty bucks", ["fifty bucks"], True, "problem:unreadable:fifty bucks"),
        ("a bit", [], True, "problem:unreadable:a bit"),
        ("20.005", [], True, "problem:too_precise:20.005"),
        ("pay with **** **** **** 1111", [], False, None),  # a card number is never an amount
    ],
)
def test_what_the_customer_asked_to_pay(text, money, asked, expected):
    assert requested_amount(text, money, asked=asked) == expected


@pytest.mark.parametrize(
    "text", ["**** **** **** 1111", "****-****-****-5454", "*****6789", "4242 4242 4242 4242"]
)
def test_card_and_bank_numbers_are_recognised_masked_or_not(text):
    assert has_card_number(text)


@pytest.mark.parametrize("text", ["ACC-100006", "my zip is 30303", "pay $175.00", "INV-2026-000606"])
def test_our_own_numbers_are_not_card_numbers(text):
    assert not has_card_number(text)


async def test_pay_the_overdue_75_states_amount_method_and_balance_after(backend, domain):
    dispatcher = CollectingDispatcher()
    tracker = pay_turn("pay the $75 that's overdue", money=["$75"])
    events = await ValidatePaymentForm(**services(backend)).run(dispatcher, tracker, domain)
    offer = {
        "quote_id": "pq_" + "1".zfill(32),
        "amount": "75.00",
        "currency": "USD",
        "method": "Visa ending 1111",
        "total_due": "175.00",
        "total_due_after": "100.00",
    }
    assert events == [
        SlotSet("payment_amount", "75.00"),
        SlotSet("payment_offer", offer),
        SlotSet("payment_confirmed", None),
        SlotSet("requested_slot", "payment_confirmed"),
    ]
    (quote,) = backend.writes("/payment-quotes")
    assert quote["body"] == {"amount_choice": "amount", "amount": "75.00"}
    assert quote["headers"]["x-actor"] == "bot:conv-1"
    assert backend.payments == []  # nothing is charged before the yes

    ask = CollectingDispatcher()
    await ActionAskPaymentConfirmed().run(ask, make_tracker(slots={"payment_offer": offer}), domain)
    question = message(ask, "utter_ask_payment_confirmed")
    assert (question["amount"], question["method"], question["balance_after"]) == (
        "$75.00",
        "Visa ending 1111",
        "$100.00",
    )
    assert question["buttons"] == [
        {"title": "Yes, pay $75.00", "payload": "/affirm"},
        {"title": "No, don't pay", "payload": "/deny"},
        {"title": "Pay the full $175.00 instead", "payload": '/pay_bill{"MONEY": "175.00"}'},
    ]


async def test_pay_my_bill_offers_the_past_due_amount(backend, domain):
    events = await ValidatePaymentForm(**services(backend)).run(
        CollectingDispatcher(), pay_turn("pay my bill"), domain
    )
    assert SlotSet("payment_amount", "75.00") in events
    assert backend.writes("/payment-quotes")[0]["body"] == {"amount_choice": "past_due"}


async def test_yes_pays_once_even_when_confirmed_twice(backend, domain):
    await ValidatePaymentForm(**services(backend)).run(
        CollectingDispatcher(), pay_turn("pay $75", money=["$75"]), domain
    )
    offer = {
        "quote_id": next(iter(backend.quotes)),
        "amount": "75.00",
        "currency": "USD",
        "method": "Visa ending 1111",
        "total_due": "175.00",
        "total_due_after": "100.00",
    }
    yes = pay_turn(
        "yes",
        intent="affirm",
        slots={"payment_offer": offer, "payment_confirmed": True, "payment_amount": "75.00"},
    )
    first, second = CollectingDispatcher(), CollectingDispatcher()
    events = await ActionSubmitPayment(**services(backend)).run(first, yes, domain)
    await ActionSubmitPayment(**services(backend)).run(
        second, yes, domain
    )  # a double click / a resent message
    assert events == [
        SlotSet("payment_amount", None),
        SlotSet("payment_offer", None),
        SlotSet("payment_confirmed", None),
    ]
    done = message(first, "utter_payment_posted_now")
    assert (done["amount"], done["method"], done["balance_after"]) == (
        "$75.00",
        "Visa ending 1111",
        "$100.00",
    )
    confirms = backend.writes("/confirm")
    assert (
        len(confirms) == 2
        and confirms[0]["headers"]["idempotency-key"] == confirms[1]["headers"]["idempotency-key"]
    )
    assert len(backend.payments) == 1 and backend.total_due == Decimal("100.00")


async def test_pending_payment_says_when_it_posts(backend, domain):
    backend.processor = "pending"
    dispatcher = await quote_then_say_yes(backend, domain)
    pending = message(dispatcher, "utter_payment_pending_until")
    assert (pending["expected_date"], pending["balance_after"]) == ("December 4, 2026", "$100.00")


@pytest.mark.parametrize(
    ("text", "money", "response"),
    [
        ("pay 0 dollars", ["0 dollars"], "utter_payment_amount_not_positive"),
        ("pay -20", [], "utter_payment_amount_not_positive"),
        ("pay 20.005", [], "utter_payment_amount_too_precise"),
        ("pay $500", ["$500"], "utter_payment_amount_above_balance"),
        ("pay fifty-ish bucks", ["fifty-ish bucks"], "utter_payment_amount_unreadable"),
    ],
)
async def test_bad_amounts_get_a_clear_reply_and_nothing_is_charged(backend, domain, text, money, response):
    dispatcher = CollectingDispatcher()
    events = await ValidatePaymentForm(**services(backend)).run(
        dispatcher, pay_turn(text, money=money), domain
    )
    assert responses(dispatcher) == [response]
    assert SlotSet("payment_amount", None) in events
    assert SlotSet("requested_slot", "payment_amount") in events  # asked again, with the amounts as buttons
    assert backend.writes("/confirm") == [] and backend.payments == []


async def test_above_balance_names_the_most_that_can_be_paid(backend, domain):
    dispatcher = CollectingDispatcher()
    await ValidatePaymentForm(**services(backend)).run(
        dispatcher, pay_turn("pay $500", money=["$500"]), domain
    )
    reply = message(dispatcher, "utter_payment_amount_above_balance")
    assert (reply["amount"], reply["balance"]) == ("$500.00", "$175.00")


async def test_unreadable_answer_to_how_much(backend, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidatePaymentForm(**services(backend)).run(
        dispatcher, pay_turn("whatever you think", intent="inform", requested="payment_amount"), domain
    )
    assert responses(dispatcher) == ["utter_payment_amount_unreadable"]
    assert backend.writes() == []
    assert SlotSet("requested_slot", "payment_amount") in events


async def test_how_much_offers_past_due_and_full_balance(backend, domain):
    dispatcher = CollectingDispatcher()
    await ActionAskPaymentAmount(**services(backend)).run(
        dispatcher, pay_turn("", requested="payment_amount"), domain
    )
    ask = message(dispatcher, "utter_ask_payment_amount")
    assert ask["buttons"] == [
        {"title": "Past due $75.00", "payload": '/pay_bill{"MONEY": "75.00"}'},
        {"title": "Full balance $175.00", "payload": '/pay_bill{"MONEY": "175.00"}'},
    ]


async def test_a_balance_question_while_asked_to_confirm_is_not_an_answer(backend, domain):
    offer = {"quote_id": "pq_1", "amount": "75.00"}
    events = await ValidatePaymentForm(**services(backend)).run(
        CollectingDispatcher(),
        pay_turn(
            "what's my balance",
            intent="check_balance",
            requested="payment_confirmed",
            slots={"payment_amount": "75.00", "payment_offer": offer},
        ),
        domain,
    )
    assert events == [SlotSet("requested_slot", "payment_confirmed")]  # rasa rejects the form; a rule answers
    assert backend.writes() == []


async def test_expired_card_cannot_be_charged_and_the_secure_page_is_offered(backend, domain):
    backend.methods = [Method(12, "Visa", "0119", date(2026, 11, 30))]
    dispatcher = CollectingDispatcher()
    events = await ValidatePaymentForm(**services(backend)).run(dispatcher, pay_turn("pay my bill"), domain)
    assert responses(dispatcher) == ["utter_payment_method_expired", "utter_secure_payment_link"]
    assert message(dispatcher, "utter_payment_method_expired")["method"] == "Visa ending 0119"
    assert message(dispatcher, "utter_secure_payment_link")["buttons"] == [
        {"title": "Open the secure payment page", "url": "http://backend.test/pay/abc123"}
    ]
    assert backend.writes("/payment-page-links")[0]["body"] == {"purpose": "pay", "conversation_id": "conv-1"}
    assert events[-1] == SlotSet("requested_slot", None)  # the form ends; nothing to confirm
    stopped = make_tracker(
        slots={"payment_offer": {"stop": "method_expired"}, "payment_confirmed": None}, metadata=FARID
    )
    after = CollectingDispatcher()
    assert await ActionSubmitPayment(**services(backend)).run(after, stopped, domain) == [
        SlotSet("payment_amount", None),
        SlotSet("payment_offer", None),
        SlotSet("payment_confirmed", None),
    ]
    assert after.messages == [] and backend.writes("/confirm") == []


async def test_processor_down_says_so_and_offers_the_secure_page_or_a_person(backend, domain):
    backend.processor = "down"
    dispatcher = await quote_then_say_yes(backend, domain)
    down = message(dispatcher, "utter_payment_processor_unavailable")
    assert down["buttons"] == [
        {"title": "Use the secure payment page", "payload": "/update_payment_method"},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]
    assert backend.payments == [] and backend.total_due == Decimal("175.00")


async def test_declined_card_nothing_charged(backend, domain):
    backend.processor = "declines"
    dispatcher = await quote_then_say_yes(backend, domain)
    assert (
        message(dispatcher, "utter_payment_declined")["reason"]
        == "The card was declined for insufficient funds."
    )
    assert backend.total_due == Decimal("175.00")


@pytest.mark.parametrize("confirmed", [False, None])
async def test_no_or_no_answer_charges_nothing(backend, domain, confirmed):
    offer = {"quote_id": "pq_1", "amount": "75.00", "method": "Visa ending 1111"}
    dispatcher = CollectingDispatcher()
    await ActionSubmitPayment(**services(backend)).run(
        dispatcher,
        pay_turn("no", intent="deny", slots={"payment_offer": offer, "payment_confirmed": confirmed}),
        domain,
    )
    assert responses(dispatcher) == ["utter_payment_cancelled"]
    assert backend.writes() == []


async def test_a_tracker_the_handoff_service_did_not_sign_pays_nothing(backend, domain):
    offer = {"quote_id": "pq_1", "amount": "75.00", "method": "Visa ending 1111"}
    forged = pay_turn(
        "yes",
        intent="affirm",
        signed=False,
        slots={"payment_offer": offer, "payment_confirmed": True, "verified_customer_id": 6},
    )
    dispatcher = CollectingDispatcher()
    await ActionSubmitPayment(**services(backend)).run(dispatcher, forged, domain)
    assert responses(dispatcher) == ["utter_payment_cancelled"]
    assert backend.writes() == []


async def test_card_number_typed_in_chat_is_refused_and_the_secure_link_offered(backend, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="share_card_number", text="my card is **** **** **** 4242", metadata=FARID)
    assert await ActionSendSecurePaymentLink(**services(backend)).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_no_card_numbers_in_chat", "utter_secure_payment_link"]
    (link,) = backend.writes("/payment-page-links")
    assert link["headers"]["x-actor"] == "bot:conv-1"
    assert link["body"] == {"purpose": "update_method", "conversation_id": "conv-1"}


async def test_anonymous_visitor_gets_no_link(backend, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="update_payment_method", text="update my card")
    await ActionSendSecurePaymentLink(**services(backend)).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_need_verification"]
    assert backend.requests == []


@pytest.mark.parametrize(
    ("action", "intent"),
    [(ActionCheckBalance, "check_balance"), (ActionAskDueDate, "ask_due_date")],
)
async def test_an_expired_card_is_named_in_balance_and_due_date_answers(backend, domain, action, intent):
    backend.alerts = [{"code": "method_expired", "message": "Your Visa ending 0119 expired on 11/2026."}]
    dispatcher = CollectingDispatcher()
    await action(billing=backend.billing_client()).run(
        dispatcher, make_tracker(intent=intent, metadata=FARID), domain
    )
    alert = message(dispatcher, "utter_payment_method_alert")
    assert alert["message"] == "Your Visa ending 0119 expired on 11/2026."
    assert alert["buttons"] == [
        {"title": "Update card", "payload": "/update_payment_method"},
        {"title": "Pay now", "payload": "/pay_bill"},
    ]
    assert responses(dispatcher)[-1] == "utter_payment_method_alert"  # after the answer itself


async def test_no_alert_no_extra_message(backend, domain):
    dispatcher = CollectingDispatcher()
    await ActionCheckBalance(billing=backend.billing_client()).run(
        dispatcher, make_tracker(intent="check_balance", metadata=FARID), domain
    )
    assert "utter_payment_method_alert" not in responses(dispatcher)
