"""After-form actions, escalation with its context package, fallbacks, the return from a human."""

import pytest
from rasa_sdk.events import SlotSet

from actions.clients.errors import BackendUnavailable, HandoffUnavailable
from actions.clients.handoff import EscalationResult
from actions.dialogue import (
    ActionAnswerAfterVerification,
    ActionEscalateToHuman,
    ActionHandleFallback,
    ActionHandoffResolved,
    ActionSubmitDispute,
)
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import (
    FakeAccountCheck,
    bot_event,
    make_tracker,
    message,
    responses,
    slot_events,
    user_event,
)

DISPUTE_SLOTS = {
    "dispute_line_item_id": "43",
    "dispute_reason": "I was charged the activation fee twice",
    "dispute_confirmed": True,
    "dispute_charge_label": "Activation fee ($49.00, invoice INV-2026-000412)",
    "account_currency": "USD",
    "identity_verified": True,
}


def after_verification(billing, handoff) -> ActionAnswerAfterVerification:
    """The action with an account check that finds nothing (the offer: test_account_check_actions.py)."""
    return ActionAnswerAfterVerification(billing=billing, handoff=handoff, account_check=FakeAccountCheck())


async def test_question_asked_before_verification_is_answered_after_it(billing, handoff, dispatcher, domain):
    earlier = [
        user_event("ask_due_date", text="when is my bill due?"),
        user_event("inform", text="ACC-100004"),
    ]
    tracker = make_tracker(
        intent="inform",
        text="30301",
        events=earlier,
        slots={"verified_customer_id": 4, "verification_status": "verified"},
    )
    await after_verification(billing, handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_due_date"]


async def test_charge_named_before_verification_is_still_used(billing, handoff, dispatcher, domain):
    earlier = [
        user_event(
            "explain_charge",
            text="what is the late fee",
            entities=[{"entity": "charge_name", "value": "late_fee"}],
        )
    ]
    tracker = make_tracker(
        intent="inform",
        text="30301",
        events=earlier,
        slots={"verified_customer_id": 4, "account_currency": "USD"},
    )
    await after_verification(billing, handoff).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_charge_explanation")["description"] == "Late fee"


async def test_whether_the_bill_is_paid_automatically_is_answered_after_verification(
        billing, handoff, dispatcher, domain):
    earlier = [user_event("how_to_pay", text="does my bill get paid automatically or do I pay it myself?")]
    tracker = make_tracker(intent="inform", text="ACC-100004, 30301", events=earlier,
                           slots={"verified_customer_id": 4, "verification_status": "verified"})
    await after_verification(billing, handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_autopay_on"]


async def test_how_to_pay_answered_during_verification_does_not_replace_the_question(
        billing, handoff, dispatcher, domain):
    # "how can I pay?" was answered for anyone at once; the balance needed the account
    earlier = [user_event("check_balance", text="what do I owe?"),
               user_event("how_to_pay", text="and how can I pay it?")]
    tracker = make_tracker(intent="inform", text="ACC-100004, 30301", events=earlier,
                           slots={"verified_customer_id": 4, "verification_status": "verified",
                                  "account_currency": "USD"})
    await after_verification(billing, handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_balance"


async def test_locked_verification_escalates_with_reason(billing, handoff, dispatcher, domain):
    tracker = make_tracker(intent="inform", text="11111", slots={"verification_status": "locked"})
    events = await after_verification(billing, handoff).run(
        dispatcher, tracker, domain
    )
    [request] = handoff.requests
    assert request.reason == "verification_locked"
    assert request.customer_id is None
    assert "verification is locked" in request.summary
    assert message(dispatcher, "utter_handoff_queued")["position"] == 2
    assert slot_events(events)["verification_status"] is None


IDENTITY_RESET = [
    SlotSet(name, None) for name in ("verification_status", "account_number", "postal_code_or_phone")
]
DISPUTE_RESET = [
    SlotSet(name, None)
    for name in (
        "dispute_line_item_id",
        "dispute_reason",
        "dispute_confirmed",
        "dispute_charge_label",
        "charge_candidates",
    )
]


@pytest.mark.parametrize(
    ("action", "also_reset"),
    [
        (ActionAnswerAfterVerification, []),
        (ActionSubmitDispute, DISPUTE_RESET),
    ],
)
async def test_after_an_outage_stopped_verification_the_form_is_forgotten_quietly(
    billing, handoff, dispatcher, domain, action, also_reset
):
    tracker = make_tracker(intent="inform", text="30301", slots={"verification_status": "unavailable"})
    events = await action(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    # the apology and the offer of a person came with the failure
    assert events == IDENTITY_RESET + also_reset
    assert dispatcher.messages == [] and handoff.requests == [] and billing.calls == []


async def test_locked_verification_in_the_dispute_form_escalates_and_forgets_the_dispute(
    billing, handoff, dispatcher, domain
):
    tracker = make_tracker(intent="inform", text="11111", slots={"verification_status": "locked"})
    events = await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert [request.reason for request in handoff.requests] == ["verification_locked"]
    assert events == [SlotSet("handoff_state", "queued"), *IDENTITY_RESET, *DISPUTE_RESET]
    assert billing.called("open_dispute") == []


async def test_confirmed_dispute_is_opened_and_escalated_with_context(billing, handoff, dispatcher, domain):
    earlier = [
        user_event("list_charges", metadata=SIGNED_IN),
        user_event("dispute_charge", text="I was charged twice", metadata=SIGNED_IN),
    ]
    tracker = make_tracker(
        intent="affirm",
        metadata=SIGNED_IN,
        slots=dict(DISPUTE_SLOTS, postal_code_or_phone="provided"),
        events=earlier,
    )
    events = await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)

    [opened] = billing.called("open_dispute")
    assert opened == {
        "customer_id": 4,
        "line_item_id": 43,
        "reason": "I was charged the activation fee twice",
        "conversation_id": "conv-1",
    }
    assert message(dispatcher, "utter_dispute_opened")["dispute_id"] == 900
    [request] = handoff.requests
    assert request.reason == "dispute"
    assert (request.conversation_id, request.customer_id, request.dispute_id) == ("conv-1", 4, 900)
    assert request.line_item["id"] == 43 and request.line_item["amount"] == "49.00"
    assert request.explanation["summary"] == "Activation fee is a one time charge."
    assert "postal_code_or_phone" not in request.slots
    assert request.slots["dispute_reason"] == "I was charged the activation fee twice"
    assert (
        "Activation fee" in request.summary
        and "$49.00" in request.summary
        and "Dispute 900" in request.summary
    )
    assert "signed in on the website" in request.summary
    assert not request.summary.startswith("Customer 4")  # a person, not an internal label (issue 17)
    assert message(dispatcher, "utter_handoff_queued")["wait"] == "about 3 minutes"
    slots = slot_events(events)
    assert slots["dispute_id"] == 900 and slots["handoff_state"] == "queued"
    assert slots["dispute_line_item_id"] is None  # ready for another dispute


async def test_declined_dispute_opens_nothing(billing, handoff, dispatcher, domain):
    tracker = make_tracker(
        intent="deny", metadata=SIGNED_IN, slots=dict(DISPUTE_SLOTS, dispute_confirmed=False)
    )
    await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_dispute_cancelled"]
    assert billing.called("open_dispute") == [] and handoff.requests == []


async def test_already_open_dispute_is_named_and_still_handed_over(billing, handoff, dispatcher, domain):
    await billing.open_dispute(customer_id=4, line_item_id=43, reason="earlier")
    billing.open_dispute_conflict = True
    tracker = make_tracker(intent="affirm", metadata=SIGNED_IN, slots=DISPUTE_SLOTS)
    await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_dispute_already_open")["dispute_id"] == 900
    assert handoff.requests[0].dispute_id == 900


async def test_backend_down_when_opening_dispute(billing, handoff, dispatcher, domain):
    billing.fail_with = BackendUnavailable("down")
    tracker = make_tracker(intent="affirm", metadata=SIGNED_IN, slots=DISPUTE_SLOTS)
    await ActionSubmitDispute(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_backend_unavailable"]


async def test_request_human_escalates_with_customer_and_topics(handoff, dispatcher, domain):
    earlier = [user_event("check_balance", metadata=SIGNED_IN)]
    tracker = make_tracker(
        intent="request_human", metadata=SIGNED_IN, events=earlier, slots={"identity_verified": True}
    )
    events = await ActionEscalateToHuman(handoff=handoff).run(dispatcher, tracker, domain)
    [request] = handoff.requests
    assert (request.reason, request.customer_id) == ("request_human", 4)
    assert "their balance" in request.summary
    assert slot_events(events) == {"handoff_state": "queued"}


STORY_TAKEN_FOR_A_PERSON = (
    "My son borrowed my phone for the weekend and now there is an overage line on the bill and I'd like to "
    "sort it out with him tonight. How is that overage worked out?"
)
UNSURE_PERSON_RANKING = [("request_human", 0.43), ("explain_charge", 0.26), ("check_balance", 0.09)]


async def test_an_unsure_request_for_a_person_with_no_words_for_one_asks_what_was_meant(
    handoff, dispatcher, domain
):
    tracker = make_tracker(intent="request_human", text=STORY_TAKEN_FOR_A_PERSON, confidence=0.43,
                           ranking=UNSURE_PERSON_RANKING,
                           entities=[{"entity": "charge_name", "value": "usage"}])
    events = await ActionEscalateToHuman(handoff=handoff).run(dispatcher, tracker, domain)
    assert (events, handoff.requests) == ([], [])
    ask = message(dispatcher, "utter_ask_clarification")
    assert [button["payload"] for button in ask["buttons"]] == [
        '/request_human{"charge_name": "usage"}', '/explain_charge{"charge_name": "usage"}', "/deny"
    ]


@pytest.mark.parametrize(("text", "confidence"), [
    (STORY_TAKEN_FOR_A_PERSON, 0.93),  # sure: the NLU's word is taken
    (STORY_TAKEN_FOR_A_PERSON + " Or can I talk to someone about it?", 0.43),  # asked for in words
    ("/request_human", 0.43),  # a button
])
async def test_a_sure_or_worded_request_for_a_person_is_handed_over(handoff, dispatcher, domain, text,
                                                                     confidence):
    tracker = make_tracker(intent="request_human", text=text, confidence=confidence,
                           ranking=UNSURE_PERSON_RANKING)
    events = await ActionEscalateToHuman(handoff=handoff).run(dispatcher, tracker, domain)
    assert [request.reason for request in handoff.requests] == ["request_human"]
    assert slot_events(events) == {"handoff_state": "queued"}


async def test_person_requested_after_an_outage_is_escalated_as_backend_unavailable(
    handoff, dispatcher, domain
):
    earlier = [user_event("check_balance"), bot_event("utter_backend_unavailable")]
    tracker = make_tracker(intent="request_human", text="/request_human", events=earlier)
    await ActionEscalateToHuman(handoff=handoff).run(dispatcher, tracker, domain)
    assert handoff.requests[0].reason == "backend_unavailable"


async def test_no_specialist_online_gives_ticket(handoff, dispatcher, domain):
    contact = "A billing specialist will email you at the address on your account within one business day."
    handoff.result = EscalationResult(state="ticket", ticket_number="T-1042", contact=contact)
    await ActionEscalateToHuman(handoff=handoff).run(dispatcher, make_tracker(intent="request_human"), domain)
    ticket = message(dispatcher, "utter_handoff_ticket")
    assert (ticket["ticket_number"], ticket["contact"]) == ("T-1042", contact)
    # {contact} ends the response: without the handoff's sentence the bot still says a whole one
    handoff.result = EscalationResult(state="ticket", ticket_number="T-1043", contact=None)
    await ActionEscalateToHuman(handoff=handoff).run(dispatcher, make_tracker(intent="request_human"), domain)
    fallback = [m for m in dispatcher.messages if m.get("response") == "utter_handoff_ticket"][-1]
    assert fallback["contact"] == "A billing specialist will contact you using the details on your account."


async def test_handoff_down_gets_apology_not_silence(handoff, dispatcher, domain):
    handoff.fail_with = HandoffUnavailable("down")
    events = await ActionEscalateToHuman(handoff=handoff).run(
        dispatcher, make_tracker(intent="request_human"), domain
    )
    assert responses(dispatcher) == ["utter_handoff_unavailable"]
    assert slot_events(events) == {"handoff_state": "failed"}


async def test_first_fallback_asks_to_rephrase(handoff, dispatcher, domain):
    tracker = make_tracker(intent="nlu_fallback", text="blorp", events=[user_event("greet")])
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_default"]
    assert handoff.requests == []


async def test_second_fallback_in_a_row_escalates(handoff, dispatcher, domain):
    tracker = make_tracker(
        intent="nlu_fallback", text="zzz qqq", events=[user_event("nlu_fallback", text="blorp")]
    )
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_fallback_handover", "utter_handoff_queued"]
    assert handoff.requests[0].reason == "fallback"
    assert "zzz qqq" in handoff.requests[0].summary


async def test_second_fallback_inside_a_form_ends_the_form_before_handover(handoff, dispatcher, domain):
    tracker = make_tracker(
        intent="nlu_fallback",
        events=[user_event("nlu_fallback")],
        active_loop="dispute_form",
        slots={"requested_slot": "dispute_line_item_id"},
    )
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}
    assert handoff.requests[0].reason == "fallback"


async def test_an_unsure_message_asking_for_a_call_back_is_handed_over_not_clarified(
    billing, handoff, dispatcher, domain
):
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "goodbye", "confidence": 0.39},
               {"name": "request_human", "confidence": 0.36}]
    tracker = make_tracker(intent="nlu_fallback", text="could somebody call me back",
                           events=[user_event("greet")], metadata=SIGNED_IN)
    tracker.latest_message["intent_ranking"] = ranking
    events = await ActionHandleFallback(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_queued"]
    [request] = handoff.requests
    assert (request.reason, request.customer_id) == ("request_human", 4)
    assert slot_events(events) == {"handoff_state": "queued"}


async def test_fallbacks_separated_by_an_understood_message_do_not_escalate(handoff, dispatcher, domain):
    earlier = [user_event("nlu_fallback"), user_event("check_balance")]
    await ActionHandleFallback(handoff=handoff).run(
        dispatcher, make_tracker(intent="nlu_fallback", events=earlier), domain
    )
    assert handoff.requests == []


async def test_handoff_resolved_welcomes_back_and_asks_rating(dispatcher, domain):
    tracker = make_tracker(
        intent="EXTERNAL_handoff_resolved",
        entities=[
            {"entity": "handoff_outcome", "value": "credit_issued"},
            {"entity": "agent_name", "value": "Dana"},
        ],
    )
    events = await ActionHandoffResolved().run(dispatcher, tracker, domain)
    assert message(dispatcher, "utter_welcome_back_from_agent")["agent_name"] == "Dana"
    csat = message(dispatcher, "utter_ask_csat")
    assert [b["payload"] for b in csat["buttons"]] == [
        f'/rate_chat{{"csat_score":"{n}"}}' for n in range(1, 6)
    ]
    assert slot_events(events) == {"handoff_state": "resolved", "handoff_outcome": "credit_issued"}


@pytest.mark.parametrize(("text", "queued"), [
    ("can you check ACC-100002 for me? my brother can't sign in", False),  # refused, not queued
    ("I'd like to speak to someone about my mum's account ACC-100002", True),  # a person, asked for in words
])
async def test_another_account_in_what_was_taken_for_a_person_request(
    billing, handoff, dispatcher, domain, text, queued
):
    tracker = make_tracker(
        intent="request_human", text=text, metadata=SIGNED_IN,
        entities=[{"entity": "account_number", "value": "ACC-100002"}],
    )
    await ActionEscalateToHuman(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert [r.reason for r in handoff.requests] == (["request_human"] if queued else [])
    assert ("utter_only_own_account" in responses(dispatcher)) is not queued
