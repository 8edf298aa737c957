"""Autopay and paperless switched from the chat (actions/payments/settings.py): the change is stated, made
only after a yes, and a question about autopay's state is answered instead.

The backend is the HTTP stand-in of tests/actions/payments_backend.py, spoken to by the real clients."""

from datetime import date

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.payments.settings import (
    ActionAskSettingConfirmed,
    ActionSubmitSettingChange,
    ValidateAccountSettingForm,
    setting_requested,
)
from tests.actions.fakes import make_tracker, message, responses, user_event
from tests.actions.payments_backend import Method, PaymentsBackend

FARID = {"customer_id": 6, "conversation_id": "conv-1"}


@pytest.fixture
def backend() -> PaymentsBackend:
    return PaymentsBackend()


def services(backend: PaymentsBackend) -> dict:
    return {"billing": backend.billing_client(), "payments": backend.payments_client()}


def setting_turn(intent: str, text: str, *, slots: dict | None = None):
    """The customer's message while the account setting form is active."""
    return make_tracker(
        intent=intent,
        text=text,
        metadata=FARID,
        active_loop="account_setting_form",
        slots={"requested_slot": None, **(slots or {})},
    )


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("change_autopay", "turn autopay back on", {"setting": "autopay", "enable": True}),
        ("change_autopay", "stop the automatic payments", {"setting": "autopay", "enable": False}),
        ("change_autopay", "i don't want autopay any more", {"setting": "autopay", "enable": False}),
        ("change_autopay", "autopay", {"setting": "autopay", "enable": None}),
        ("change_paperless", "go paperless", {"setting": "paperless", "enable": True}),
        ("change_paperless", "stop sending me paper bills", {"setting": "paperless", "enable": True}),
        ("change_paperless", "i want paper bills again", {"setting": "paperless", "enable": False}),
        ("change_paperless", "turn off paperless", {"setting": "paperless", "enable": False}),
        ("check_balance", "what's my balance", None),
    ],
)
def test_which_setting_and_which_way(intent, text, expected):
    assert setting_requested(intent, text) == expected


async def test_autopay_on_states_the_next_automatic_payment_then_turns_it_on(backend, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateAccountSettingForm(**services(backend)).run(
        dispatcher, setting_turn("change_autopay", "turn autopay back on"), domain
    )
    change = {
        "setting": "autopay",
        "enable": True,
        "method": "Visa ending 1111",
        "next_amount": "$100.00",
        "next_date": "December 17, 2026",
        "email": "farid@example.com",
    }
    assert events == [SlotSet("setting_change", change), SlotSet("requested_slot", "setting_confirmed")]
    assert dispatcher.messages == [] and backend.writes() == []

    ask = CollectingDispatcher()
    await ActionAskSettingConfirmed().run(ask, make_tracker(slots={"setting_change": change}), domain)
    question = message(ask, "utter_ask_autopay_on_confirmed")
    assert (question["next_date"], question["next_amount"], question["method"]) == (
        "December 17, 2026",
        "$100.00",
        "Visa ending 1111",
    )

    done = CollectingDispatcher()
    yes = setting_turn(
        "affirm",
        "yes",
        slots={"setting_change": change, "setting_confirmed": True},
    )
    assert await ActionSubmitSettingChange(**services(backend)).run(done, yes, domain) == [
        SlotSet("setting_change", None),
        SlotSet("setting_confirmed", None),
    ]
    assert message(done, "utter_autopay_turned_on")["next_date"] == "December 17, 2026"
    (put,) = backend.writes("/autopay")
    assert put["body"] == {"enabled": True} and put["headers"]["idempotency-key"].startswith("chat-")
    assert backend.autopay is True


async def test_autopay_already_on_changes_nothing(backend, domain):
    backend.autopay = True
    dispatcher = CollectingDispatcher()
    events = await ValidateAccountSettingForm(**services(backend)).run(
        dispatcher, setting_turn("change_autopay", "turn on autopay"), domain
    )
    assert message(dispatcher, "utter_autopay_already")["state"] == "on"
    assert events[-1] == SlotSet("requested_slot", None)
    assert backend.writes() == []


async def test_a_question_about_autopay_is_answered_with_its_state_and_changes_nothing(backend, domain):
    backend.autopay = True
    dispatcher = CollectingDispatcher()
    events = await ValidateAccountSettingForm(**services(backend)).run(
        dispatcher,
        setting_turn("change_autopay", "does my bill get paid automatically?"),
        domain,
    )
    assert responses(dispatcher)[0] == "utter_autopay_on"
    assert "utter_autopay_already" not in responses(dispatcher)
    assert events[-1] == SlotSet("requested_slot", None)
    assert backend.writes() == []


async def test_a_question_asked_before_verifying_is_still_one_in_the_turn_that_verifies(backend, domain):
    """The verifying turn's extraction runs before the identity slots are validated, so the customer is still
    unknown there: the question is read from the opening message all the same, and validated (answered)
    once the same turn has verified the customer."""
    form = ValidateAccountSettingForm(**services(backend))
    verifying = make_tracker(
        intent="inform", text="ACC-100006 zip 30303", metadata={"customer_id": None},
        active_loop="account_setting_form", slots={"requested_slot": "postal_code_or_phone"},
        events=[user_event("change_autopay", text="does my bill get paid automatically or do i pay myself")],
    )
    assert await form.extract_setting_change(CollectingDispatcher(), verifying, domain) == {
        "setting_change": {"setting": "autopay", "enable": True, "question": True}
    }
    backend.autopay = True
    dispatcher = CollectingDispatcher()
    verified = setting_turn("inform", "ACC-100006 zip 30303")
    value = {"setting": "autopay", "enable": True, "question": True}
    assert await form.validate_setting_change(value, dispatcher, verified, domain) == {
        "setting_change": {"stop": "answered"}
    }
    assert responses(dispatcher)[0] == "utter_autopay_on"
    assert backend.writes() == []


@pytest.mark.parametrize("text", ["So is autopay even switched on right now or not?", "ok, and is it on?"])
async def test_a_question_after_an_opener_is_still_a_question(backend, domain, text):
    tracker = setting_turn("change_autopay", text)
    extracted = await ValidateAccountSettingForm(**services(backend)).extract_setting_change(
        CollectingDispatcher(), tracker, domain
    )
    assert extracted["setting_change"]["question"] is True


async def test_a_request_is_not_a_question(backend, domain):
    tracker = setting_turn("change_autopay", "autopay on please")
    extracted = await ValidateAccountSettingForm(**services(backend)).extract_setting_change(
        CollectingDispatcher(), tracker, domain
    )
    assert extracted == {"setting_change": {"setting": "autopay", "enable": True}}


async def test_autopay_cannot_go_on_with_an_expired_card(backend, domain):
    backend.methods = [Method(12, "Visa", "0119", date(2026, 11, 30))]
    dispatcher = CollectingDispatcher()
    await ValidateAccountSettingForm(**services(backend)).run(
        dispatcher, setting_turn("change_autopay", "put autopay back on"), domain
    )
    assert responses(dispatcher) == ["utter_autopay_needs_valid_method", "utter_secure_payment_link"]
    assert backend.writes("/autopay") == []


async def test_paperless_without_a_direction_goes_the_other_way_and_needs_a_yes(backend, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateAccountSettingForm(**services(backend)).run(
        dispatcher, setting_turn("change_paperless", "paperless billing"), domain
    )
    change = events[0]["value"]
    assert (change["setting"], change["enable"]) == ("paperless", True)
    declined = CollectingDispatcher()
    no = setting_turn(
        "deny",
        "no",
        slots={"setting_change": change, "setting_confirmed": False},
    )
    await ActionSubmitSettingChange(**services(backend)).run(declined, no, domain)
    assert responses(declined) == ["utter_setting_unchanged"]
    assert backend.writes() == [] and backend.paperless is False
