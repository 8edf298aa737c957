"""The account check in the dialogue (issue 18, actions/account_check.py, actions/account_check_offer.py)
against the real backend app (SQLite, demo seed + customers 9-14): the offer once after verification (signed
in or by the form), never before it, made by the action that answers (before a response: by the slot
mapping's action); "yes" fixing with one credit, beyond the limits a handover with the finding as the summary,
"no" leaving it.

Trackers are built inline as rasa-sdk's own tests do; the events the actions return are asserted exactly."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.account_check import ActionAccountCheckOffer, ActionDeclineFinding, ActionFixFinding
from actions.answers import ActionAskDueDate, ActionCheckBalance, ActionHowToPay
from actions.clients.account_check import AccountCheckClient
from actions.clients.billing import BillingClient
from actions.config import ActionSettings
from actions.dialogue import ActionAnswerAfterVerification
from actions.identity import signed_customer_slot
from tests.actions.backend_app import seeded_backend_app
from tests.actions.fakes import FakeHandoff, handoff_metadata

TOKEN = "test-backend-token-account-check-actions"
DAVID, HIRO, NADIA = 4, 8, 14
DAVID_OFFER_START = "Your Installation fee of $49.00 was billed twice"
# what action_session_start set for a signed-in David (actions/session_start.py)
SIGNED_IN_SESSION = {
    "identity_verified": True,
    "verified_customer_id": signed_customer_slot(DAVID, conversation_id="conv-1"),
}


@dataclass
class Backend:
    account_check: AccountCheckClient
    billing: BillingClient
    reads: list[str]


@pytest.fixture
async def backend(tmp_path: Path) -> AsyncIterator[Backend]:
    app = seeded_backend_app(tmp_path / "backend.db", token=TOKEN)
    reads: list[str] = []

    async def log_findings_reads(request: httpx.Request) -> None:
        if request.url.path.endswith("/findings"):
            reads.append(request.url.path)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, event_hooks={"request": [log_findings_reads]}) as http:
        settings = ActionSettings(BACKEND_URL="http://backend", BACKEND_API_TOKEN=TOKEN)
        yield Backend(
            AccountCheckClient(settings=settings, http=http),
            BillingClient(settings=settings, http=http),
            reads,
        )
    app.state.database.dispose()


def tracker(
    intent: str,
    *,
    signed_in: int | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "conv-1",
    text: str = "",
) -> Tracker:
    """A turn the handoff service sent (signed identity assertion; `signed_in`: the website's customer)."""
    latest = {
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [],
        "text": text,
        "metadata": handoff_metadata(sender_id, signed_in),
    }
    user = {"event": "user", "text": text, "parse_data": latest, "metadata": latest["metadata"]}
    return Tracker(
        sender_id, dict(slots or {}), latest, [*(events or []), user], False, None, {}, "action_listen"
    )


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


async def david_offer(backend: Backend) -> dict[str, Any]:
    [finding] = [
        f for f in (await backend.account_check.list_findings(customer_id=DAVID)).findings if f.bot_may_fix
    ]
    return {
        "status": "offered",
        "customer_id": DAVID,
        "finding_id": finding.id,
        "kind": "duplicate_charge",
        "summary": finding.summary,
        "amount": "49.00",
        "currency": "USD",
        "invoice_number": finding.invoice_number,
    }


async def test_signed_in_customer_hears_the_offer_once_before_the_answer(
    backend: Backend, domain: dict[str, Any]
) -> None:
    # action_session_start verified David (tests/actions/test_session_start.py); his first question
    dispatcher = CollectingDispatcher()
    first = tracker("check_balance", signed_in=DAVID, slots=SIGNED_IN_SESSION)
    events = await ActionCheckBalance(billing=backend.billing, account_check=backend.account_check).run(
        dispatcher, first, domain
    )
    offer = await david_offer(backend)
    assert events == [
        SlotSet("account_check_offer", offer),
        SlotSet("account_check_pending", True),
        SlotSet("account_currency", "USD"),  # the balance answer's own
    ]
    mention, *answer = dispatcher.messages
    assert mention["response"] == "utter_account_check_offer"
    assert mention["finding"].startswith(DAVID_OFFER_START)
    assert answer[0]["response"] == "utter_balance" and answer[0]["total_due"] == "$143.00"

    # the next message (another question; Rasa's slot mapping has reset the unanswered offer): no second check
    dispatcher = CollectingDispatcher()
    later = tracker("ask_due_date", signed_in=DAVID, slots={**SIGNED_IN_SESSION, **slot_values(events)})
    later.slots["account_check_pending"] = False
    events = await ActionAskDueDate(billing=backend.billing, account_check=backend.account_check).run(
        dispatcher, later, domain
    )
    assert events == []
    assert said(dispatcher) == ["utter_due_date"]
    assert len(backend.reads) == 2  # the first check and david_offer's


@pytest.mark.parametrize("intent", ["greet", "what_can_you_do"])
async def test_before_a_response_the_slot_mapping_s_action_makes_the_offer(
    backend: Backend, domain: dict[str, Any], intent: str
) -> None:
    dispatcher = CollectingDispatcher()
    hello = tracker(intent, signed_in=DAVID, slots=SIGNED_IN_SESSION)
    events = await ActionAccountCheckOffer(account_check=backend.account_check).run(dispatcher, hello, domain)
    assert events == [
        SlotSet("account_check_offer", await david_offer(backend)),
        SlotSet("account_check_pending", True),
    ]
    assert said(dispatcher) == ["utter_account_check_offer"]  # then Rasa utters the response


async def test_how_to_pay_answers_after_the_offer_too(backend: Backend, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    how = tracker("how_to_pay", signed_in=DAVID, slots=SIGNED_IN_SESSION, text="how can I pay?")
    events = await ActionHowToPay(billing=backend.billing, account_check=backend.account_check).run(
        dispatcher, how, domain
    )
    assert events == [
        SlotSet("account_check_offer", await david_offer(backend)),
        SlotSet("account_check_pending", True),
    ]
    assert said(dispatcher)[:2] == ["utter_account_check_offer", "utter_how_to_pay"]


async def test_nothing_is_checked_before_verification_or_while_a_form_starts(
    backend: Backend, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    anonymous = tracker("check_balance", slots={"identity_verified": False})
    balance = ActionCheckBalance(billing=backend.billing, account_check=backend.account_check)
    assert await balance.run(dispatcher, anonymous, domain) == []
    assert said(dispatcher) == ["utter_need_verification"]
    # David's own dispute goes on as before (the dispute form): the offer waits for a question the bot answers
    offer_action = ActionAccountCheckOffer(account_check=backend.account_check)
    dispute = tracker("dispute_charge", signed_in=DAVID, slots=SIGNED_IN_SESSION)
    assert await offer_action.run(dispatcher, dispute, domain) == []
    # "what can you do?" inside a form is answered and the form goes on: no offer there either
    inside_form = tracker("what_can_you_do", signed_in=DAVID, slots=SIGNED_IN_SESSION)
    inside_form.active_loop = {"name": "dispute_form"}
    assert await offer_action.run(dispatcher, inside_form, domain) == []
    assert said(dispatcher) == ["utter_need_verification"] and backend.reads == []


async def test_customer_without_a_fixable_finding_hears_nothing(
    backend: Backend, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    hiro_session = {
        "identity_verified": True,
        "verified_customer_id": signed_customer_slot(HIRO, conversation_id="conv-hiro"),
    }
    hiro = tracker("greet", signed_in=HIRO, slots=hiro_session, sender_id="conv-hiro")
    events = await ActionAccountCheckOffer(account_check=backend.account_check).run(dispatcher, hiro, domain)
    assert events == [SlotSet("account_check_offer", {"status": "none"})]
    assert dispatcher.messages == []


async def test_verified_by_the_form_the_offer_comes_before_the_answer(backend: Backend) -> None:
    dispatcher = CollectingDispatcher()
    asked = {
        "event": "user",
        "text": "when is my bill due?",
        "parse_data": {"intent": {"name": "ask_due_date"}, "entities": [], "text": "when is my bill due?"},
    }
    after_form = tracker(
        "inform",
        text="98101",
        events=[asked],
        slots={
            "verification_status": "verified",
            "identity_verified": True,
            "account_currency": "USD",
            "verified_customer_id": signed_customer_slot(DAVID, conversation_id="conv-1"),
        },
    )
    action = ActionAnswerAfterVerification(
        billing=backend.billing, handoff=FakeHandoff(), account_check=backend.account_check
    )
    events = await action.run(dispatcher, after_form, {})
    assert events == [
        SlotSet("account_check_offer", await david_offer(backend)),
        SlotSet("account_check_pending", True),
    ]
    assert said(dispatcher) == ["utter_account_check_offer", "utter_due_date"]


async def test_yes_credits_once_and_states_the_new_balance_also_from_a_second_tab(backend: Backend) -> None:
    offer = await david_offer(backend)
    answers = []
    for conversation in ("conv-tab-1", "conv-tab-2"):
        dispatcher = CollectingDispatcher()
        yes = tracker(
            "affirm",
            signed_in=DAVID,
            sender_id=conversation,
            slots={"account_check_offer": offer, "account_check_pending": True},
        )
        events = await ActionFixFinding(account_check=backend.account_check, handoff=FakeHandoff()).run(
            dispatcher, yes, {}
        )
        [done] = dispatcher.messages
        assert (done["response"], done["amount"], done["balance"]) == (
            "utter_account_fix_done",
            "$49.00",
            "$94.00",
        )
        [pending, fixed] = events
        assert pending == SlotSet("account_check_pending", False)
        assert fixed["name"] == "account_check_offer" and fixed["value"]["status"] == "fixed"
        answers.append(fixed["value"])
    assert answers[0]["credit_id"] == answers[1]["credit_id"]  # one credit for two tabs
    assert (await backend.billing.get_balance(customer_id=DAVID)).total_due == Decimal("94.00")


async def test_beyond_the_limits_the_chat_goes_to_a_specialist_with_the_finding(backend: Backend) -> None:
    [finding] = (await backend.account_check.list_findings(customer_id=NADIA)).findings
    offer = {
        "status": "offered",
        "customer_id": NADIA,
        "finding_id": finding.id,
        "kind": finding.kind,
        "summary": finding.summary,
        "amount": str(finding.amount),
        "currency": "USD",
        "invoice_number": finding.invoice_number,
    }
    handoff = FakeHandoff()
    dispatcher = CollectingDispatcher()
    yes = tracker(
        "affirm", signed_in=NADIA, slots={"account_check_offer": offer, "account_check_pending": True}
    )
    events = await ActionFixFinding(account_check=backend.account_check, handoff=handoff).run(
        dispatcher, yes, {}
    )
    assert events == [
        SlotSet("account_check_pending", False),
        SlotSet("account_check_offer", dict(offer, status="handed_over")),
        SlotSet("handoff_state", "queued"),
    ]
    assert said(dispatcher) == ["utter_account_fix_needs_specialist", "utter_handoff_queued"]
    [request] = handoff.requests
    assert request.reason == "dispute" and request.customer_id == NADIA
    assert request.summary.startswith(finding.summary) and "$100.00" in request.summary
    assert (await backend.billing.get_balance(customer_id=NADIA)).total_due == Decimal("45.00")  # no credit


async def test_no_leaves_the_account_as_it_is(backend: Backend) -> None:
    offer = await david_offer(backend)
    dispatcher = CollectingDispatcher()
    no = tracker("deny", signed_in=DAVID, slots={"account_check_offer": offer, "account_check_pending": True})
    events = await ActionDeclineFinding().run(dispatcher, no, {})
    assert events == [
        SlotSet("account_check_pending", False),
        SlotSet("account_check_offer", dict(offer, status="declined")),
    ]
    assert said(dispatcher) == ["utter_account_fix_declined"]
    assert (await backend.billing.get_balance(customer_id=DAVID)).total_due == Decimal("143.00")


@pytest.mark.parametrize("who", ["another customer's offer", "an unsigned turn"])
async def test_a_yes_that_does_not_answer_this_customer_s_offer_fixes_nothing(
    backend: Backend, who: str
) -> None:
    offer = await david_offer(backend)
    dispatcher = CollectingDispatcher()
    yes = tracker(
        "affirm",
        signed_in=HIRO if who.startswith("another") else DAVID,
        slots={"account_check_offer": offer, "account_check_pending": True},
    )
    if who == "an unsigned turn":
        yes.latest_message["metadata"] = {"customer_id": DAVID}
    events = await ActionFixFinding(account_check=backend.account_check, handoff=FakeHandoff()).run(
        dispatcher, yes, {}
    )
    assert events == [SlotSet("account_check_pending", False)]
    assert said(dispatcher) == ["utter_how_can_i_help"]
    assert (await backend.billing.get_balance(customer_id=DAVID)).total_due == Decimal("143.00")


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events}
