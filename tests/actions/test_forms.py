"""Verification and dispute form validation, and the "which charge?" question."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.clients.billing import LineItem
from actions.clients.errors import BackendUnavailable
from actions.forms import (
    ActionAskDisputeLineItemId,
    HelperSlotsFormValidation,
    ValidateDisputeForm,
    ValidateVerifyIdentityForm,
)
from actions.identity import signed_customer_slot
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import (
    FakeBilling,
    handoff_metadata,
    make_tracker,
    message,
    responses,
    slot_events,
    user_event,
)


def form_turn(
    requested_slot: str,
    new_slots: dict,
    *,
    form: str,
    slots: dict | None = None,
    intent: str = "inform",
    text: str = "",
    entities: list | None = None,
    metadata: dict | None = None,
):
    """The tracker a form validation action receives: slots set since the last user message are the
    candidates."""
    all_slots = {"requested_slot": requested_slot, **(slots or {}), **new_slots}
    extracted = [SlotSet(name, value) for name, value in new_slots.items()]
    tracker = make_tracker(
        intent=intent, text=text, entities=entities, metadata=metadata, slots=all_slots, active_loop=form
    )
    tracker.events.extend(extracted)
    return tracker


def second_answer_turn(text: str, *, intent: str = "inform", **slots: Any) -> Tracker:
    """The verification form has asked for the postal code or phone's last four; David's account number is
    known."""
    return form_turn("postal_code_or_phone", {}, form="verify_identity_form", intent=intent, text=text,
                     slots={"account_number": "ACC-100004", **slots})


async def test_account_number_is_normalised(billing, dispatcher, domain):
    tracker = form_turn("account_number", {}, form="verify_identity_form", text="my account is acc 100004")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["account_number"] == "ACC-100004"
    assert dispatcher.messages == []


async def test_bad_account_number_is_reasked(billing, dispatcher, domain):
    tracker = form_turn("account_number", {}, form="verify_identity_form", text="hello")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["account_number"] is None
    assert responses(dispatcher) == ["utter_account_number_invalid"]


async def test_correct_postal_code_verifies_for_the_session(billing, dispatcher, domain):
    tracker = second_answer_turn("30301")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["identity_verified"] is True
    assert slots["verified_customer_id"] == signed_customer_slot(4, conversation_id="conv-1")
    assert slots["postal_code_or_phone"] == "provided"  # the secret itself is not kept in a slot
    assert message(dispatcher, "utter_verified")["first_name"] == "David"
    assert billing.called("verify") == [
        {"account_number": "ACC-100004", "postal_code": "30301", "phone_last4": None}
    ]


async def test_phone_last_four_is_sent_as_phone(billing, dispatcher, domain):
    tracker = second_answer_turn("4321")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True
    assert billing.called("verify")[0]["phone_last4"] == "4321"


async def test_wrong_answer_asks_again_only_for_the_second_answer(billing, dispatcher, domain):
    tracker = second_answer_turn("99999")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    # the account number is kept: the form's next question is the postal code / phone again
    assert events == [SlotSet("postal_code_or_phone", None), SlotSet("verification_status", "mismatch")]
    assert message(dispatcher, "utter_verification_failed")["attempts_remaining"] == 2


async def test_correct_postal_code_after_a_wrong_one_verifies(billing, dispatcher, domain):
    tracker = second_answer_turn("it's 30301", verification_status="mismatch")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True
    assert billing.called("verify") == [
        {"account_number": "ACC-100004", "postal_code": "30301", "phone_last4": None}
    ]


@pytest.mark.parametrize("earlier", ["ACC-100044", "ACC-100004"])  # a corrected one, or the same again
async def test_account_number_retyped_at_the_second_question_is_taken(billing, dispatcher, domain, earlier):
    tracker = form_turn(
        "postal_code_or_phone",
        {},
        form="verify_identity_form",
        text="sorry, it's ACC-100004",
        slots={"account_number": earlier, "verification_status": "mismatch"},
    )
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [SlotSet("account_number", "ACC-100004")]
    assert billing.calls == [] and dispatcher.messages == []


@pytest.mark.parametrize("text", ["ACC100004 / 30301", "acc 100004, zip 30301"])
async def test_both_answers_again_at_the_second_question_verify(billing, dispatcher, domain, text):
    # a customer who answers every question with the same line must not be asked the same question forever
    tracker = second_answer_turn(text)
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True
    assert billing.called("verify") == [
        {"account_number": "ACC-100004", "postal_code": "30301", "phone_last4": None}
    ]


@pytest.mark.parametrize(
    ("text", "sent_as"),
    [
        ("the last four are 4321", {"phone_last4": "4321", "postal_code": None}),
        ("it's 4321 I think", {"phone_last4": "4321", "postal_code": None}),
        ("my number is (415) 555-4321", {"phone_last4": "4321", "postal_code": None}),
        ("zip code 30301", {"phone_last4": None, "postal_code": "30301"}),
    ],
)
async def test_answer_inside_a_sentence_is_read(billing, dispatcher, domain, text, sent_as):
    tracker = second_answer_turn(text)
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True
    assert billing.called("verify") == [{"account_number": "ACC-100004", **sent_as}]


@pytest.mark.parametrize("text", ["I think it's 482", "hang on, let me look", "ACC 4821 77"])
async def test_unreadable_answer_is_reasked_without_costing_an_attempt(billing, dispatcher, domain, text):
    tracker = second_answer_turn(text)
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [SlotSet("postal_code_or_phone", None)]
    assert responses(dispatcher) == ["utter_postal_code_or_phone_invalid"]
    assert billing.calls == []


async def test_answer_read_even_when_nlu_took_it_for_a_question(billing, dispatcher, domain):
    tracker = second_answer_turn("the last 4 digits are 4321", intent="ask_due_date")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True


async def test_question_during_verification_is_left_to_the_interruption_rules(billing, dispatcher, domain):
    tracker = second_answer_turn("how much do I owe?", intent="check_balance")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == []  # nothing extracted: Rasa rejects the form and a rule answers
    assert billing.calls == [] and dispatcher.messages == []


@pytest.mark.parametrize(
    "text", ["ACC-100004, zip 30301", "my account number is 100004 and the postcode is 30301",
             "ACC100004 / 30301", "ACC 100004 / 30301"]
)
async def test_account_number_and_postal_code_in_one_message(billing, dispatcher, domain, text):
    tracker = form_turn("account_number", {}, form="verify_identity_form", text=text)
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert (slots["account_number"], slots["identity_verified"]) == ("ACC-100004", True)
    assert billing.called("verify") == [
        {"account_number": "ACC-100004", "postal_code": "30301", "phone_last4": None}
    ]


async def test_third_failure_locks_and_ends_the_form(billing, dispatcher, domain):
    billing.attempts_remaining = 1
    tracker = second_answer_turn("99999")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["verification_status"] == "locked"
    assert slots["requested_slot"] is None  # the form stops; action_answer_after_verification hands over
    assert responses(dispatcher) == ["utter_verification_locked"]


async def test_backend_locked_answer_423(billing, dispatcher, domain):
    billing.attempts_remaining = 0
    tracker = second_answer_turn("30301")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["verification_status"] == "locked"


async def test_backend_down_during_verification_apologises_and_stops(billing, dispatcher, domain):
    billing.fail_with = BackendUnavailable("down")
    tracker = second_answer_turn("30301")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["verification_status"] == "unavailable"
    assert slot_events(events)["requested_slot"] is None
    assert responses(dispatcher) == ["utter_backend_unavailable"]


async def test_dispute_form_asks_identity_only_of_anonymous_visitors(billing, dispatcher, domain):
    form = ValidateDisputeForm(billing=billing)
    domain_slots = form.domain_slots(domain)
    anonymous = await form.required_slots(
        domain_slots, dispatcher, make_tracker(intent="dispute_charge"), domain
    )
    signed_in = await form.required_slots(
        domain_slots, dispatcher, make_tracker(intent="dispute_charge", metadata=SIGNED_IN), domain
    )
    assert anonymous[:2] == ["account_number", "postal_code_or_phone"]
    assert signed_in == ["dispute_line_item_id", "dispute_reason", "dispute_confirmed"]


async def test_dispute_charge_named_at_activation_is_resolved(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="dispute_charge",
        text="dispute the late fee",
        metadata=SIGNED_IN,
        entities=[{"entity": "charge_name", "value": "late_fee"}],
        active_loop="dispute_form",
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["dispute_line_item_id"] == "32"
    assert slots["dispute_charge_label"] == "Late fee ($5.00, invoice INV-2026-000311)"
    assert slots["requested_slot"] == "dispute_reason"


async def test_ambiguous_charge_keeps_candidates_for_the_question(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_line_item_id",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        entities=[{"entity": "MONEY", "value": "$49"}],
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert "dispute_line_item_id" not in slots
    assert slots["charge_candidates"]["match"] == "several"
    assert [item["id"] for item in slots["charge_candidates"]["items"]] == [42, 43]

    ask_dispatcher = type(dispatcher)()
    tracker.slots["charge_candidates"] = slots["charge_candidates"]
    await ActionAskDisputeLineItemId(billing=billing).run(ask_dispatcher, tracker, domain)
    ask = message(ask_dispatcher, "utter_several_charges_match")
    assert ask["buttons"][0]["payload"] == '/inform{"line_item_id": "42"}'


async def test_balance_question_inside_dispute_form_is_not_taken_as_the_charge(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_line_item_id",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        intent="check_balance",
        entities=[{"entity": "MONEY", "value": "$49"}],
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    # nothing validated -> Rasa rejects the form and the interruption rule answers the balance
    assert {k: v for k, v in slot_events(events).items() if k != "requested_slot"} == {}
    assert billing.calls == []


async def test_tapped_charge_button_fills_the_slot(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_line_item_id",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        entities=[{"entity": "line_item_id", "value": "43"}],
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["dispute_line_item_id"] == "43"


async def test_someone_elses_line_item_is_not_accepted(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_line_item_id",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        entities=[{"entity": "line_item_id", "value": "999"}],
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert "dispute_line_item_id" not in slots
    assert slots["charge_candidates"]["match"] == "none"


async def test_unclear_answer_to_which_charge_asks_again_with_buttons(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_line_item_id",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        text="that one",
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    tracker.slots["charge_candidates"] = slot_events(events)["charge_candidates"]
    await ActionAskDisputeLineItemId(billing=billing).run(dispatcher, tracker, domain)
    buttons = message(dispatcher, "utter_charge_unclear")["buttons"]
    assert len(buttons) == 4  # the three lines, then a way to a person for a charge not on this bill
    assert buttons[-1] == {"title": "Talk to a person", "payload": "/request_human"}


@pytest.mark.parametrize("reason", ["no", '/inform{"line_item_id": "30"}'])
async def test_reason_without_words_is_reasked(billing, dispatcher, domain, reason):
    tracker = form_turn(
        "dispute_reason",
        {"dispute_reason": reason},
        form="dispute_form",
        metadata=SIGNED_IN,
        slots={"dispute_line_item_id": "43"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["dispute_reason"] is None
    assert responses(dispatcher) == ["utter_dispute_reason_too_short"]


async def test_reason_the_nlu_took_for_a_payment_question_is_the_reason(billing, dispatcher, domain):
    tracker = form_turn(
        "dispute_reason",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        intent="payment_status",
        text="I already paid for the activation in September",
        slots={"dispute_line_item_id": "43"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("dispute_reason", "I already paid for the activation in September"),
        SlotSet("requested_slot", "dispute_confirmed"),
    ]
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("check_balance", "what do I owe right now?"),
        ("ask_due_date", "when is the bill due"),
        ("request_human", "agent"),
    ],
)
async def test_a_new_question_while_asked_for_the_reason_is_an_interruption(
    billing, dispatcher, domain, intent, text
):
    tracker = form_turn(
        "dispute_reason",
        {},
        form="dispute_form",
        metadata=SIGNED_IN,
        intent=intent,
        text=text,
        slots={"dispute_line_item_id": "43"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    # nothing extracted (the question stays asked): Rasa rejects the form and a rule answers the question
    assert events == [SlotSet("requested_slot", "dispute_reason")]


async def test_reason_given_in_the_first_message_is_not_asked_again(billing, dispatcher, domain):
    text = "I was charged twice for the activation fee"
    tracker = make_tracker(
        intent="dispute_charge",
        text=text,
        metadata=SIGNED_IN,
        active_loop="dispute_form",
        entities=[{"entity": "charge_name", "value": "one_time"}],
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["dispute_reason"] == text
    assert slots["charge_candidates"]["match"] == "several"  # which of the two lines is still asked
    assert slots["requested_slot"] == "dispute_line_item_id"


async def test_first_message_that_only_names_the_charge_leaves_the_reason_to_ask(billing, dispatcher, domain):
    tracker = make_tracker(
        intent="dispute_charge",
        text="I'd like to dispute the late fee",
        metadata=SIGNED_IN,
        entities=[{"entity": "charge_name", "value": "late_fee"}],
        active_loop="dispute_form",
        slots={"account_currency": "USD"},
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert "dispute_reason" not in slots
    assert slots["requested_slot"] == "dispute_reason"


# --- rasa-sdk's public hooks: a tiny form, an inline tracker, the exact events (as rasa-sdk's own tests) ---

TINY_DOMAIN: DomainDict = {
    "slots": {
        name: {"type": "any", "mappings": [{"type": "custom"}]} for name in ("size", "size_unit", "colour")
    },
    "forms": {"tiny_form": {"required_slots": ["size"]}},
}


class TinyFormSlots:
    """Asks `size` ("10 cm"); reading it also notes `size_unit`, a slot the form itself never asks for."""

    def name(self) -> str:
        return "validate_tiny_form"

    async def extract_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number, _, unit = str(tracker.latest_message.get("text")).partition(" ")
        return {"size": number, "size_unit": unit} if unit else {"size": number}

    async def validate_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"size": int(value)}


class TinyForm(TinyFormSlots, HelperSlotsFormValidation):
    helper_slots = ("size_unit",)


class PlainTinyForm(TinyFormSlots, FormValidationAction):
    """The same form on rasa-sdk's class alone."""


class TinyFormAskingColour(TinyForm):
    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [*domain_slots, "colour"]  # not the domain's list: the form action sets requested_slot itself


def tiny_form_turn(text: str, **slots: Any) -> Tracker:
    return Tracker(
        "default",
        {"requested_slot": "size", "size": None, "size_unit": None, "colour": None, **slots},
        {"text": text, "intent": {"name": "inform", "confidence": 1.0}, "entities": []},
        [],
        False,
        None,
        {"name": "tiny_form", "validate": True, "rejected": False},
        "action_listen",
    )


async def test_rasa_sdk_alone_passes_on_only_the_slots_the_form_asks_for(dispatcher):
    # why HelperSlotsFormValidation exists: if a rasa-sdk upgrade passes helper slots on, this fails and it
    # can go
    events = await PlainTinyForm().run(dispatcher, tiny_form_turn("10 cm"), TINY_DOMAIN)
    assert events == [SlotSet("size", 10)]


async def test_a_helper_slot_set_by_an_extraction_is_passed_on_ahead_of_the_validated_slots(dispatcher):
    events = await TinyForm().run(dispatcher, tiny_form_turn("10 cm"), TINY_DOMAIN)
    assert events == [SlotSet("size_unit", "cm"), SlotSet("size", 10)]
    assert dispatcher.messages == []


async def test_a_helper_slot_set_on_an_earlier_turn_is_not_passed_on_again(dispatcher):
    events = await TinyForm().run(dispatcher, tiny_form_turn("12", size_unit="cm"), TINY_DOMAIN)
    assert events == [SlotSet("size", 12)]


async def test_the_next_requested_slot_follows_the_helper_and_validated_slots(dispatcher):
    events = await TinyFormAskingColour().run(dispatcher, tiny_form_turn("10 cm"), TINY_DOMAIN)
    assert events == [SlotSet("size_unit", "cm"), SlotSet("size", 10), SlotSet("requested_slot", "colour")]


def signed_in_dispute_turn(
    text: str, *, intent: str, entities: list[dict[str, Any]], requested_slot: str | None, **slots: Any
) -> Tracker:
    """What Rasa sends validate_dispute_form: David's message through the handoff service, the form active."""
    turn = user_event(intent, text=text, entities=entities, metadata=handoff_metadata("conv-1", 4))
    return Tracker(
        "conv-1",
        {"requested_slot": requested_slot, **slots},
        {**turn["parse_data"], "metadata": turn["metadata"]},
        [turn],
        False,
        None,
        {"name": "dispute_form", "validate": True, "rejected": False},
        "action_listen",
    )


async def test_dispute_form_events_for_a_charge_named_at_activation(billing, dispatcher, domain):
    tracker = signed_in_dispute_turn(
        "dispute the late fee",
        intent="dispute_charge",
        requested_slot=None,
        entities=[{"entity": "charge_name", "value": "late_fee"}],
        account_currency="USD",
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("dispute_charge_label", "Late fee ($5.00, invoice INV-2026-000311)"),
        SlotSet("charge_candidates", None),
        SlotSet("account_currency", "USD"),
        SlotSet("dispute_line_item_id", "32"),
        SlotSet("requested_slot", "dispute_reason"),
    ]
    assert billing.called("get_customer") == [] and dispatcher.messages == []


async def test_dispute_form_looks_the_currency_up_once_and_passes_it_on(dispatcher, domain):
    billing = FakeBilling(currency="EUR")
    tracker = signed_in_dispute_turn(
        "/inform",
        intent="inform",
        requested_slot="dispute_line_item_id",
        entities=[{"entity": "line_item_id", "value": "42"}],
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("dispute_charge_label", "Activation fee (€49.00, invoice INV-2026-000412)"),
        SlotSet("charge_candidates", None),
        SlotSet("account_currency", "EUR"),
        SlotSet("dispute_line_item_id", "42"),
        SlotSet("requested_slot", "dispute_reason"),
    ]
    assert billing.called("get_customer") == [{"customer_id": 4}]


async def test_dispute_form_ends_at_once_when_a_credit_is_named(billing, dispatcher, domain):
    billing.invoices["INV-2026-000412"].line_items.append(
        LineItem(
            id=47,
            description="Basic plan, unused days credited",
            charge_type="proration",
            amount=Decimal("-22.50"),
            quantity=Decimal("1"),
            unit_rate=Decimal("-22.50"),
            period_start=date(2026, 10, 1),
            period_end=date(2026, 10, 31),
            policy_rule="R-1",
        )
    )
    tracker = signed_in_dispute_turn(
        "/inform",
        intent="inform",
        requested_slot="dispute_line_item_id",
        entities=[{"entity": "line_item_id", "value": "47"}],
        account_currency="USD",
    )
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    # the slots the form asks for are none: the form ends and action_submit_dispute explains the credit
    assert events == [
        SlotSet("charge_candidates", {"match": "credit", "line_item_id": "47"}),
        SlotSet("account_currency", "USD"),
        SlotSet("requested_slot", None),
    ]


async def test_dispute_form_passes_a_failed_lookup_on_to_the_question(billing, dispatcher, domain):
    billing.fail_with = BackendUnavailable("down")
    tracker = signed_in_dispute_turn(
        "/inform",
        intent="inform",
        requested_slot="dispute_line_item_id",
        entities=[{"entity": "line_item_id", "value": "42"}],
        account_currency="USD",
    )
    events: list[EventType] = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("charge_candidates", {"match": "error"}),
        SlotSet("requested_slot", "dispute_line_item_id"),
    ]
    assert dispatcher.messages == []  # action_ask_dispute_line_item_id apologises
