"""The signed-in identity, set once per Rasa session by action_session_start (actions/session_start.py, issue
20) from the assertion of the message that starts the session, and the fallback for a session Rasa started
without one (action_answer_after_verification).

Trackers are built inline as rasa-sdk's own tests do (Rasa passes the starting message's metadata in the slot
`session_started_metadata`); the events the actions return are asserted exactly."""

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionCheckBalance
from actions.config import get_settings
from actions.conversation import current_customer_id
from actions.dialogue import ActionAnswerAfterVerification
from actions.identity import signed_customer_slot
from actions.session_start import ActionSessionStart
from handoff.clients.identity_assertion import mint_identity_assertion
from tests.actions.fakes import FakeAccountCheck, handoff_metadata, make_tracker, responses, user_event

STARTED = SessionStarted()
LISTEN = ActionExecuted("action_listen")
OTHER_KEY = "another-key-of-at-least-thirty-two-bytes"


def session_start(metadata: dict[str, Any] | None, *, sender_id: str = "conv-1") -> Tracker:
    """The tracker Rasa sends to action_session_start: the new message is not in it yet, its metadata is."""
    slots = {"session_started_metadata": metadata} if metadata is not None else {}
    return Tracker(sender_id, slots, {}, [], False, None, {}, "action_listen")


async def start(tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert dispatcher.messages == []  # the session starts silently, as with Rasa's default action
    return events


async def test_a_signed_in_customer_starts_the_session_verified(domain):
    events = await start(session_start(handoff_metadata("conv-1", 4)), domain)
    assert events == [
        STARTED,
        SlotSet("identity_verified", True),
        SlotSet("verified_customer_id", signed_customer_slot(4, conversation_id="conv-1")),
        LISTEN,
    ]


async def test_the_session_s_slot_names_the_customer_in_later_turns_of_this_conversation_only(domain):
    events = await start(session_start(handoff_metadata("conv-1", 4)), domain)
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    later = make_tracker(intent="check_balance", slots=slots, signed=False)  # a turn without an assertion
    assert current_customer_id(later) == 4
    copied = make_tracker(intent="check_balance", slots=slots, sender_id="conv-2", signed=False)
    assert current_customer_id(copied) is None


def assertion(conversation_id: str, customer_id: int, *, seconds: int = 120, secret: str = "") -> str:
    return mint_identity_assertion(
        conversation_id=conversation_id,
        customer_id=customer_id,
        secret=secret or get_settings().identity_assertion_secret,
        seconds=seconds,
    )


@pytest.mark.trust_case(
    area="access",
    case="Session started (action_session_start) with a forged identity in the first message's metadata: "
    "a bare customer_id, an assertion of another conversation, signed with another key, expired or garbage",
    expected="the session starts as an anonymous visitor's: identity_verified and verified_customer_id unset",
)
@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(None, id="no-message-metadata"),  # started for append_events / trigger_intent
        pytest.param(handoff_metadata("conv-1", None), id="anonymous-visitor"),
        pytest.param({"customer_id": 4, "conversation_id": "conv-1"}, id="bare-customer-id"),
        pytest.param({"identity": assertion("conv-2", 4)}, id="another-conversation-s-assertion"),
        pytest.param({"identity": assertion("conv-1", 4, seconds=-60)}, id="expired-assertion"),
        pytest.param({"identity": assertion("conv-1", 4, secret=OTHER_KEY)}, id="wrong-key"),
        pytest.param({"identity": "not a token"}, id="garbage"),
        pytest.param("not a dict", id="metadata-not-an-object"),
    ],
)
async def test_anything_but_this_conversation_s_valid_assertion_starts_an_anonymous_session(domain, metadata):
    assert await start(session_start(metadata), domain) == [STARTED, LISTEN]


def test_nothing_is_carried_over_because_the_domain_says_so(domain):
    # the action starts every session afresh; it would need carrying over if the domain asked for it
    assert domain["session_config"]["carry_over_slots_to_new_session"] is False


# --- a session Rasa started without the customer's message -------------------------------------------------


def first_question_after_a_human_phase(*, identity_verified: bool) -> Tracker:
    """The signed-in customer's balance question: verify_identity_form asked nothing (the turn's assertion
    names the customer) and ended; identity_verified is false when the session started without one."""
    return make_tracker(
        intent="check_balance",
        metadata={"customer_id": 4},
        slots={"identity_verified": identity_verified, "account_currency": "USD"},
        events=[user_event("check_balance", text="what's my balance")],
    )


async def test_after_a_session_without_assertion_the_first_answer_marks_the_customer_verified(
    billing, handoff, dispatcher, domain
):
    account_check = FakeAccountCheck()
    action = ActionAnswerAfterVerification(billing=billing, handoff=handoff, account_check=account_check)
    events = await action.run(dispatcher, first_question_after_a_human_phase(identity_verified=False), domain)
    assert events[:3] == [
        SlotSet("identity_verified", True),
        SlotSet("verified_customer_id", signed_customer_slot(4, conversation_id="conv-1")),
        SlotSet("account_check_offer", {"status": "none"}),
    ]
    assert responses(dispatcher)[0] == "utter_balance" and account_check.calls == [4]


async def test_a_customer_already_verified_is_not_marked_again(billing, handoff, dispatcher, domain):
    action = ActionAnswerAfterVerification(billing=billing, handoff=handoff, account_check=FakeAccountCheck())
    events = await action.run(dispatcher, first_question_after_a_human_phase(identity_verified=True), domain)
    assert [event["name"] for event in events if event["event"] == "slot"] == ["account_check_offer"]


async def test_an_anonymous_visitor_s_answer_marks_nobody(billing, dispatcher, domain):
    # identity_verified true but no signed fact: the answering action asks to verify and changes no slot
    tracker = make_tracker(intent="check_balance", slots={"identity_verified": True})
    account_check = FakeAccountCheck()
    assert await ActionCheckBalance(billing=billing, account_check=account_check).run(
        dispatcher, tracker, domain
    ) == []
    assert responses(dispatcher) == ["utter_need_verification"] and account_check.calls == []
