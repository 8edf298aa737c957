"""'Did you mean ...?' when the NLU is unsure (action_handle_fallback), and what the tapped answer leads
to."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet

from actions.answers import ActionExplainCharge
from actions.clients.errors import BackendUnavailable
from actions.dialogue import CLARIFICATION_TITLES, NEVER_OFFERED, ActionHandleFallback
from tests.actions.conftest import SIGNED_IN
from tests.actions.fakes import FakeBilling, action_event, make_tracker, message, responses, user_event

UNSURE_ABOUT_A_PAYMENT = [
    ("nlu_fallback", 0.5),
    ("payment_status", 0.44),
    ("check_balance", 0.37),
    ("greet", 0.11),
]


def sent(dispatcher) -> list[dict]:
    """What the customer sees of each message: the response and its buttons."""
    return [{"response": m.get("response"), "buttons": m.get("buttons")} for m in dispatcher.messages]


async def test_unsure_message_naming_another_account_is_refused_not_clarified(
    billing, handoff, dispatcher, domain
):
    tracker = make_tracker(
        intent="nlu_fallback",
        text="Could you look up ACC-100002 for me? It's my flatmate's",
        metadata=SIGNED_IN,
        ranking=UNSURE_ABOUT_A_PAYMENT,
        entities=[{"entity": "account_number", "value": "ACC-100002"}],
    )
    await ActionHandleFallback(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert sent(dispatcher) == [{"response": "utter_only_own_account", "buttons": []}]
    assert message(dispatcher, "utter_only_own_account")["account_number"] == "ACC-100002"
    assert billing.called("get_balance") == [] and handoff.requests == []


async def test_unsure_message_naming_the_customers_own_account_is_clarified(
    billing, handoff, dispatcher, domain
):
    tracker = make_tracker(
        intent="nlu_fallback", text="ACC-100004 is the march money sorted", metadata=SIGNED_IN,
        ranking=UNSURE_ABOUT_A_PAYMENT, entities=[{"entity": "account_number", "value": "ACC-100004"}],
    )
    await ActionHandleFallback(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_clarification"]


async def test_unsure_message_offers_the_likely_billing_intents_and_something_else(
    handoff, dispatcher, domain
):
    tracker = make_tracker(
        intent="nlu_fallback",
        text="is the march money sorted",
        ranking=UNSURE_ABOUT_A_PAYMENT,
        entities=[{"entity": "DATE", "value": "march"}],
    )
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert events == []
    assert sent(dispatcher) == [
        {
            "response": "utter_ask_clarification",
            "buttons": [
                {"title": "Check on a payment", "payload": '/payment_status{"DATE": "march"}'},
                {"title": "Check my balance", "payload": '/check_balance{"DATE": "march"}'},
                {"title": "Something else", "payload": "/deny"},
            ],
        }
    ]
    assert handoff.requests == []


async def test_only_billing_intents_likely_enough_are_offered(handoff, dispatcher, domain):
    ranking = [("nlu_fallback", 0.5), ("greet", 0.4), ("ask_due_date", 0.35), ("check_balance", 0.09)]
    tracker = make_tracker(intent="nlu_fallback", text="hi when", ranking=ranking)
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert sent(dispatcher) == [
        {
            "response": "utter_ask_clarification",
            "buttons": [
                {"title": "When my bill is due", "payload": "/ask_due_date"},
                {"title": "Something else", "payload": "/deny"},
            ],
        }
    ]


async def test_unsure_guess_that_is_most_likely_off_topic_keeps_the_out_of_scope_answer(
    handoff, dispatcher, domain
):
    ranking = [("nlu_fallback", 0.5), ("out_of_scope", 0.46), ("check_balance", 0.22), ("greet", 0.1)]
    tracker = make_tracker(intent="nlu_fallback", text="how many leave days do I have left", ranking=ranking)
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert events == []
    assert responses(dispatcher) == ["utter_out_of_scope"]


async def test_off_topic_and_billing_guesses_about_as_likely_ask(handoff, dispatcher, domain):
    ranking = [("nlu_fallback", 0.5), ("out_of_scope", 0.41), ("check_balance", 0.38), ("greet", 0.1)]
    tracker = make_tracker(intent="nlu_fallback", text="what's left on it", ranking=ranking)
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert [b["payload"] for b in message(dispatcher, "utter_ask_clarification")["buttons"]] == [
        "/check_balance",
        "/deny",
    ]


async def test_no_likely_billing_intent_asks_to_rephrase(handoff, dispatcher, domain):
    ranking = [("nlu_fallback", 0.5), ("greet", 0.31), ("thank", 0.27), ("affirm", 0.2)]
    tracker = make_tracker(intent="nlu_fallback", text="ok so", ranking=ranking)
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert events == []
    assert sent(dispatcher) == [{"response": "utter_default", "buttons": []}]


async def test_inside_a_form_an_unsure_message_only_asks_to_rephrase(handoff, dispatcher, domain):
    tracker = make_tracker(
        intent="nlu_fallback",
        text="is the march money sorted",
        ranking=UNSURE_ABOUT_A_PAYMENT,
        active_loop="dispute_form",
        slots={"requested_slot": "dispute_line_item_id"},
    )
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert events == []
    assert responses(dispatcher) == ["utter_default"]


async def test_something_else_then_a_second_miss_hands_over(handoff, dispatcher, domain):
    earlier = [
        user_event("nlu_fallback", text="is the march money sorted", ranking=UNSURE_ABOUT_A_PAYMENT),
        action_event("action_handle_fallback"),
        user_event("deny", text="/deny"),
        action_event("utter_ask_rephrase"),
    ]
    tracker = make_tracker(
        intent="nlu_fallback",
        text="the thing from before",
        events=earlier,
        metadata=SIGNED_IN,
        ranking=UNSURE_ABOUT_A_PAYMENT,
    )
    events = await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert events == [SlotSet("handoff_state", "queued")]
    assert responses(dispatcher) == ["utter_fallback_handover", "utter_handoff_queued"]
    [request] = handoff.requests
    assert (request.reason, request.customer_id) == ("fallback", 4)
    assert "the thing from before" in request.summary


async def test_a_no_that_answers_something_else_starts_a_new_count(handoff, dispatcher, domain):
    earlier = [
        user_event("nlu_fallback", ranking=UNSURE_ABOUT_A_PAYMENT),
        action_event("action_handle_fallback"),
        user_event("greet"),
        action_event("utter_greet"),
        user_event("deny", text="no"),
        action_event("utter_goodbye"),
    ]
    tracker = make_tracker(
        intent="nlu_fallback",
        text="is the march money sorted",
        events=earlier,
        ranking=UNSURE_ABOUT_A_PAYMENT,
    )
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_clarification"]
    assert handoff.requests == []


async def test_tapped_suggestion_is_answered_with_the_words_of_the_unclear_message(
    billing, dispatcher, domain
):
    earlier = [
        user_event(
            "nlu_fallback",
            text="that 5 dollar late fee thing??",
            metadata=SIGNED_IN,
            ranking=[("nlu_fallback", 0.5), ("explain_charge", 0.45), ("dispute_charge", 0.4)],
        ),
        action_event("action_handle_fallback"),
    ]
    tracker = make_tracker(
        intent="explain_charge",
        text="/explain_charge",
        events=earlier,
        metadata=SIGNED_IN,
        slots={"account_currency": "USD"},
    )
    events = await ActionExplainCharge(billing=billing).run(dispatcher, tracker, domain)
    assert events == []
    explained = message(dispatcher, "utter_charge_explanation")
    assert (explained["description"], explained["amount"], explained["invoice_number"]) == (
        "Late fee",
        "$5.00",
        "INV-2026-000311",
    )


def domain_intents(domain: dict) -> set[str]:
    return {intent if isinstance(intent, str) else next(iter(intent)) for intent in domain["intents"]}


def test_every_intent_of_the_domain_has_a_title_or_a_reason_never_to_be_offered(domain):
    """A new intent fails here until it gets a "Did you mean ...?" title or a reason it is never offered."""
    titled, never = set(CLARIFICATION_TITLES), set(NEVER_OFFERED)
    assert not titled & never
    assert titled | never == domain_intents(domain)
    titles = [title.strip() for title in CLARIFICATION_TITLES.values()]
    assert all(titles) and len(set(titles)) == len(titles), "two buttons with one title cannot be told apart"
    assert all(reason.strip() for reason in NEVER_OFFERED.values())


def test_every_offered_intent_is_answered_by_a_rule_or_story():
    """A tapped title is the intent's payload: some rule or story of the training data must go on from it."""
    stepped: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "bot" / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for flow in [*(data.get("rules") or []), *(data.get("stories") or [])]:
            stepped |= {step["intent"] for step in flow.get("steps") or [] if "intent" in step}
    assert set(CLARIFICATION_TITLES) - stepped == set()


async def test_unsure_between_paying_and_a_plan_offers_both_with_the_amount(handoff, dispatcher, domain):
    ranking = [("nlu_fallback", 0.5), ("pay_bill", 0.42), ("request_payment_plan", 0.38), ("inform", 0.2)]
    tracker = make_tracker(
        intent="nlu_fallback",
        text="can I do the 60 now and the rest later",
        ranking=ranking,
        entities=[{"entity": "MONEY", "value": "60"}, {"entity": "line_item_id", "value": "li_9"}],
    )
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    # only the words of the message go on (never a line item: a waiver button naming one is the offer's yes)
    assert sent(dispatcher) == [
        {
            "response": "utter_ask_clarification",
            "buttons": [
                {"title": "Pay my bill now", "payload": '/pay_bill{"MONEY": "60"}'},
                {"title": "Pay in instalments", "payload": '/request_payment_plan{"MONEY": "60"}'},
                {"title": "Something else", "payload": "/deny"},
            ],
        }
    ]


async def test_unsure_about_a_document_offers_the_link_and_the_email(handoff, dispatcher, domain):
    ranking = [("nlu_fallback", 0.5), ("email_document", 0.41), ("request_document", 0.4), ("affirm", 0.3)]
    tracker = make_tracker(intent="nlu_fallback", text="statement march mail", ranking=ranking)
    await ActionHandleFallback(handoff=handoff).run(dispatcher, tracker, domain)
    assert [b["title"] for b in message(dispatcher, "utter_ask_clarification")["buttons"]] == [
        "Email me a bill or statement",
        "A copy of a bill or statement",
        "Something else",
    ]


STORY_ENDING_IN_WHAT_THAT_IS = (
    "Hi there. My bill came through this morning and I was a bit surprised, I was away most of the month. "
    "There's 60 on it I can't place. What exactly is that for?"
)
UNSURE_ABOUT_A_STORY = [("nlu_fallback", 0.5), ("explain_bill_increase", 0.3), ("payment_status", 0.2)]


async def test_a_story_whose_question_points_back_at_one_line_offers_that_line_first(
    handoff, dispatcher, domain
):
    billing = FakeBilling()
    tracker = make_tracker(intent="nlu_fallback", text=STORY_ENDING_IN_WHAT_THAT_IS, metadata=SIGNED_IN,
                           ranking=UNSURE_ABOUT_A_STORY)
    events = await ActionHandleFallback(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert events == []
    assert sent(dispatcher) == [
        {
            "response": "utter_ask_clarification",
            "buttons": [
                {"title": "Explain: Unlimited plan · $60.00",
                 "payload": '/explain_charge{"line_item_id": "41"}'},
                {"title": "Why my bill went up", "payload": "/explain_bill_increase"},
                {"title": "Check on a payment", "payload": "/payment_status"},
                {"title": "Something else", "payload": "/deny"},
            ],
        }
    ]
    assert handoff.requests == []


@pytest.mark.parametrize("question", ["what's this for?", "What is that charge about?",
                                      "Where did that come from?", "so what is it then?", "What was that"])
async def test_questions_that_point_back_at_the_story(question, handoff, dispatcher, domain):
    text = f"I never had this before. The bill says 60.00 and I don't know why. {question}"
    tracker = make_tracker(intent="nlu_fallback", text=text, metadata=SIGNED_IN, ranking=UNSURE_ABOUT_A_STORY)
    await ActionHandleFallback(billing=FakeBilling(), handoff=handoff).run(dispatcher, tracker, domain)
    first = message(dispatcher, "utter_ask_clarification")["buttons"][0]
    assert first["payload"] == '/explain_charge{"line_item_id": "41"}'


@pytest.mark.parametrize(
    "text",
    [
        # 49 is on two lines (the activation fee billed twice): which one is not known
        "My bill came this morning. There's 49 on it I can't place. What exactly is that for?",
        # the closing question does not point back at anything
        "My bill came this morning. There's 60 on it I can't place. Can I pay it next week?",
        # one sentence: nothing before the question to point back at
        "what is 60 for",
    ],
)
async def test_without_exactly_one_line_pointed_back_at_the_usual_suggestions_stay(
    text, handoff, dispatcher, domain
):
    tracker = make_tracker(intent="nlu_fallback", text=text, metadata=SIGNED_IN, ranking=UNSURE_ABOUT_A_STORY)
    await ActionHandleFallback(billing=FakeBilling(), handoff=handoff).run(dispatcher, tracker, domain)
    assert [b["title"] for b in message(dispatcher, "utter_ask_clarification")["buttons"]] == [
        "Why my bill went up", "Check on a payment", "Something else",
    ]


@pytest.mark.parametrize("signed_in, fail_with", [(False, None), (True, BackendUnavailable("down"))])
async def test_an_anonymous_visitor_or_a_backend_outage_gets_the_usual_suggestions(
    signed_in, fail_with, handoff, dispatcher, domain
):
    billing = FakeBilling(fail_with=fail_with)
    tracker = make_tracker(intent="nlu_fallback", text=STORY_ENDING_IN_WHAT_THAT_IS,
                           metadata=SIGNED_IN if signed_in else None, ranking=UNSURE_ABOUT_A_STORY)
    await ActionHandleFallback(billing=billing, handoff=handoff).run(dispatcher, tracker, domain)
    assert [b["title"] for b in message(dispatcher, "utter_ask_clarification")["buttons"]] == [
        "Why my bill went up", "Check on a payment", "Something else",
    ]
    # an anonymous visitor's bill is not looked at; the outage was asked and answered nothing
    assert len(billing.called("list_invoices")) == (1 if signed_in else 0)
