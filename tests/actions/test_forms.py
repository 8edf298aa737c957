"""Verification and dispute form validation, and the "which charge?" question."""

import pytest
from rasa_sdk.events import SlotSet

from actions.clients.errors import BackendUnavailable
from actions.forms import ActionAskDisputeLineItemId, ValidateDisputeForm, ValidateSlotMappings, ValidateVerifyIdentityForm
from actions.identity import signed_customer_slot
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import make_tracker, message, responses, slot_events


def form_turn(requested_slot: str, new_slots: dict, *, form: str, slots: dict | None = None, intent: str = "inform",
              text: str = "", entities: list | None = None, metadata: dict | None = None):
    """The tracker a form validation action receives: slots set since the last user message are the candidates."""
    all_slots = {"requested_slot": requested_slot, **(slots or {}), **new_slots}
    extracted = [SlotSet(name, value) for name, value in new_slots.items()]
    tracker = make_tracker(intent=intent, text=text, entities=entities, metadata=metadata, slots=all_slots,
                           active_loop=form)
    tracker.events.extend(extracted)
    return tracker


async def test_account_number_is_normalised(billing, dispatcher, domain):
    tracker = form_turn("account_number", {"account_number": "my account is acc 100004"}, form="verify_identity_form")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["account_number"] == "ACC-100004"
    assert dispatcher.messages == []


async def test_bad_account_number_is_reasked(billing, dispatcher, domain):
    tracker = form_turn("account_number", {"account_number": "hello"}, form="verify_identity_form")
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["account_number"] is None
    assert responses(dispatcher) == ["utter_account_number_invalid"]


async def test_correct_postal_code_verifies_for_the_session(billing, dispatcher, domain):
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "30301"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["identity_verified"] is True
    assert slots["verified_customer_id"] == signed_customer_slot(4, conversation_id="conv-1")
    assert slots["postal_code_or_phone"] == "provided"  # the secret itself is not kept in a slot
    assert message(dispatcher, "utter_verified")["first_name"] == "David"
    assert billing.called("verify") == [{"account_number": "ACC-100004", "postal_code": "30301", "phone_last4": None}]


async def test_phone_last_four_is_sent_as_phone(billing, dispatcher, domain):
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "4321"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["identity_verified"] is True
    assert billing.called("verify")[0]["phone_last4"] == "4321"


async def test_wrong_answer_restarts_with_attempts_left(billing, dispatcher, domain):
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "99999"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events) == {"account_number": None, "postal_code_or_phone": None}
    assert message(dispatcher, "utter_verification_failed")["attempts_remaining"] == 2


async def test_third_failure_locks_and_ends_the_form(billing, dispatcher, domain):
    billing.attempts_remaining = 1
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "99999"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["verification_status"] == "locked"
    assert slots["requested_slot"] is None  # the form stops; action_answer_after_verification hands over
    assert responses(dispatcher) == ["utter_verification_locked"]


async def test_backend_locked_answer_423(billing, dispatcher, domain):
    billing.attempts_remaining = 0
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "30301"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["verification_status"] == "locked"


async def test_backend_down_during_verification_apologises_and_stops(billing, dispatcher, domain):
    billing.fail_with = BackendUnavailable("down")
    tracker = form_turn("postal_code_or_phone", {"postal_code_or_phone": "30301"}, form="verify_identity_form",
                        slots={"account_number": "ACC-100004"})
    events = await ValidateVerifyIdentityForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["verification_status"] == "unavailable"
    assert slot_events(events)["requested_slot"] is None
    assert responses(dispatcher) == ["utter_backend_unavailable"]


async def test_dispute_form_asks_identity_only_of_anonymous_visitors(billing, dispatcher, domain):
    form = ValidateDisputeForm(billing=billing)
    domain_slots = form.domain_slots(domain)
    anonymous = await form.required_slots(domain_slots, dispatcher, make_tracker(intent="dispute_charge"), domain)
    signed_in = await form.required_slots(domain_slots, dispatcher, make_tracker(intent="dispute_charge", metadata=SIGNED_IN), domain)
    assert anonymous[:2] == ["account_number", "postal_code_or_phone"]
    assert signed_in == ["dispute_line_item_id", "dispute_reason", "dispute_confirmed"]


async def test_dispute_charge_named_at_activation_is_resolved(billing, dispatcher, domain):
    tracker = make_tracker(intent="dispute_charge", text="dispute the late fee", metadata=SIGNED_IN,
                           entities=[{"entity": "charge_name", "value": "late_fee"}], active_loop="dispute_form",
                           slots={"account_currency": "USD"})
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["dispute_line_item_id"] == "32"
    assert slots["dispute_charge_label"] == "Late fee ($5.00, invoice INV-2026-000311)"
    assert slots["requested_slot"] == "dispute_reason"


async def test_ambiguous_charge_keeps_candidates_for_the_question(billing, dispatcher, domain):
    tracker = form_turn("dispute_line_item_id", {}, form="dispute_form", metadata=SIGNED_IN,
                        entities=[{"entity": "MONEY", "value": "$49"}], slots={"account_currency": "USD"})
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
    tracker = form_turn("dispute_line_item_id", {}, form="dispute_form", metadata=SIGNED_IN, intent="check_balance",
                        entities=[{"entity": "MONEY", "value": "$49"}])
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    # nothing validated -> Rasa rejects the form and the interruption rule answers the balance
    assert {k: v for k, v in slot_events(events).items() if k != "requested_slot"} == {}
    assert billing.calls == []


async def test_tapped_charge_button_fills_the_slot(billing, dispatcher, domain):
    tracker = form_turn("dispute_line_item_id", {}, form="dispute_form", metadata=SIGNED_IN,
                        entities=[{"entity": "line_item_id", "value": "43"}], slots={"account_currency": "USD"})
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["dispute_line_item_id"] == "43"


async def test_someone_elses_line_item_is_not_accepted(billing, dispatcher, domain):
    tracker = form_turn("dispute_line_item_id", {}, form="dispute_form", metadata=SIGNED_IN,
                        entities=[{"entity": "line_item_id", "value": "999"}], slots={"account_currency": "USD"})
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert "dispute_line_item_id" not in slots
    assert slots["charge_candidates"]["match"] == "none"


async def test_unclear_answer_to_which_charge_asks_again_with_buttons(billing, dispatcher, domain):
    tracker = form_turn("dispute_line_item_id", {}, form="dispute_form", metadata=SIGNED_IN, text="that one",
                        slots={"account_currency": "USD"})
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    tracker.slots["charge_candidates"] = slot_events(events)["charge_candidates"]
    await ActionAskDisputeLineItemId(billing=billing).run(dispatcher, tracker, domain)
    assert len(message(dispatcher, "utter_charge_unclear")["buttons"]) == 3


@pytest.mark.parametrize("reason", ["no", '/inform{"line_item_id": "30"}'])
async def test_reason_without_words_is_reasked(billing, dispatcher, domain, reason):
    tracker = form_turn("dispute_reason", {"dispute_reason": reason}, form="dispute_form", metadata=SIGNED_IN,
                        slots={"dispute_line_item_id": "43"})
    events = await ValidateDisputeForm(billing=billing).run(dispatcher, tracker, domain)
    assert slot_events(events)["dispute_reason"] is None
    assert responses(dispatcher) == ["utter_dispute_reason_too_short"]


async def test_signed_in_metadata_marks_identity_verified(dispatcher, domain):
    tracker = make_tracker(intent="greet", metadata=SIGNED_IN, slots={"identity_verified": False})
    events = await ValidateSlotMappings().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"identity_verified": True,
                                   "verified_customer_id": signed_customer_slot(4, conversation_id="conv-1")}


async def test_anonymous_message_changes_nothing(dispatcher, domain):
    tracker = make_tracker(intent="greet", slots={"identity_verified": False})
    assert await ValidateSlotMappings().run(dispatcher, tracker, domain) == []
