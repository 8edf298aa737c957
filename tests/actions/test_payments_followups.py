"""Issue 16's follow-ups in the actions: the one-time late-fee waiver offered where a late fee is explained or
disputed (and taken with one tap of the offer), the bot's answer when the secure payment page completes, and
"update my card" carried out after the visitor verifies.

The backend is the HTTP stand-in of tests/actions/payments_backend.py (payments, spoken to by the real client)
with the in-memory FakeBilling (invoices: David's late fee, line 32, $5.00)."""

from datetime import date
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionExplainCharge
from actions.arrangements import ValidateArrangementForm
from actions.dialogue import ActionAnswerAfterVerification, ActionSubmitDispute
from actions.forms import ValidateDisputeForm
from actions.identity import SLOT, signed_customer_slot
from actions.payments.secure_page import ActionPaymentPageCompleted
from tests.actions.fakes import FakeBilling, bot_event, make_tracker, message, responses, user_event
from tests.actions.payments_backend import Method, PaymentsBackend

DAVID = {"customer_id": 4, "conversation_id": "conv-1"}
LATE_FEE = {"entity": "line_item_id", "value": "32"}
OFFER_PAYLOAD = '/request_fee_waiver{"line_item_id": "32"}'


def eligible(backend: PaymentsBackend, line_item_id: int = 32, amount: str = "5.00") -> None:
    backend.options = backend.default_options()
    backend.options["late_fee_waiver"] = {
        "eligible": True,
        "reasons": [],
        "line_item_id": line_item_id,
        "invoice_number": "INV-2026-000311",
        "amount": amount,
    }


@pytest.fixture
def backend() -> PaymentsBackend:
    return PaymentsBackend(customer_id=4, first_name="David")


# --- the waiver, offered with the late fee's explanation ---------------------------------------------------


async def test_an_explained_late_fee_offers_the_waiver_in_the_same_answer(backend, domain):
    eligible(backend)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="explain_charge", text="why is there a late fee", entities=[LATE_FEE], metadata=DAVID
    )
    await ActionExplainCharge(billing=FakeBilling(), payments=backend.payments_client()).run(
        dispatcher, tracker, domain
    )
    assert responses(dispatcher) == ["utter_charge_explanation_waiver_offer"]  # one answer, not two
    answer = message(dispatcher, "utter_charge_explanation_waiver_offer")
    assert answer["amount"] == "$5.00"
    assert answer["buttons"][0] == {"title": "Yes, waive the $5.00 fee", "payload": OFFER_PAYLOAD}
    assert [b["title"] for b in answer["buttons"][1:]] == ["Dispute this charge", "That's clear, thanks"]
    assert backend.writes() == []  # an offer writes nothing


@pytest.mark.parametrize("case", ["not_eligible", "another_fee", "backend_down"])
async def test_no_offer_when_the_policy_does_not_allow_it(backend, domain, case):
    if case == "another_fee":
        eligible(backend, line_item_id=99)
    elif case == "backend_down":
        eligible(backend)
        backend.customer_id = 5  # every payments call answers 404: the explanation is still given
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="explain_charge", text="the late fee", entities=[LATE_FEE], metadata=DAVID)
    await ActionExplainCharge(billing=FakeBilling(), payments=backend.payments_client()).run(
        dispatcher, tracker, domain
    )
    assert responses(dispatcher) == ["utter_charge_explanation"]
    assert "waive" not in str(dispatcher.messages[0]["buttons"])


async def test_the_offer_button_is_the_yes_and_a_typed_request_is_confirmed_as_before(backend, domain):
    eligible(backend)
    tapped = make_tracker(
        intent="request_fee_waiver", text=OFFER_PAYLOAD, entities=[LATE_FEE], metadata=DAVID,
        active_loop="arrangement_form", slots={"requested_slot": None},
    )
    events = await ValidateArrangementForm(billing=FakeBilling(), payments=backend.payments_client()).run(
        CollectingDispatcher(), tapped, domain
    )
    assert SlotSet("arrangement_confirmed", True) in events
    assert events[-1] == SlotSet("requested_slot", None)  # nothing more to ask: action_submit_arrangement
    for text, entities in (("please waive my late fee", []), ('/request_fee_waiver{"line_item_id": "31"}',
                                                              [{"entity": "line_item_id", "value": "31"}])):
        typed = make_tracker(
            intent="request_fee_waiver", text=text, entities=entities, metadata=DAVID,
            active_loop="arrangement_form", slots={"requested_slot": None},
        )
        events = await ValidateArrangementForm(billing=FakeBilling(), payments=backend.payments_client()).run(
            CollectingDispatcher(), typed, domain
        )
        assert SlotSet("arrangement_confirmed", True) not in events
        assert events[-1] == SlotSet("requested_slot", "arrangement_confirmed")


# --- the waiver, offered instead of a dispute --------------------------------------------------------------


async def test_disputing_a_waivable_late_fee_offers_the_waiver_first(backend, domain):
    eligible(backend)
    billing = FakeBilling()
    dispute = make_tracker(
        intent="dispute_charge", text="i want to dispute the late fee", entities=[LATE_FEE], metadata=DAVID,
        active_loop="dispute_form", slots={"requested_slot": None},
    )
    events = await ValidateDisputeForm(billing=billing, payments=backend.payments_client()).run(
        CollectingDispatcher(), dispute, domain
    )
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["charge_candidates"] == {
        "match": "waivable", "line_item_id": "32", "amount": "5.00", "invoice_number": "INV-2026-000311",
    }
    assert slots["requested_slot"] is None  # the form ends: the offer comes next
    dispatcher = CollectingDispatcher()
    submitted = make_tracker(
        intent="dispute_charge", text="i want to dispute the late fee", metadata=DAVID,
        slots={"charge_candidates": slots["charge_candidates"], "account_currency": "USD"},
    )
    await ActionSubmitDispute(billing=billing).run(dispatcher, submitted, domain)
    offer = message(dispatcher, "utter_offer_late_fee_waiver")
    dispute_it = '/dispute_charge{"line_item_id": "32"}'
    assert [b["payload"] for b in offer["buttons"]] == [OFFER_PAYLOAD, dispute_it]
    assert billing.called("open_dispute") == []  # nothing opened, nobody escalated


async def test_after_the_offer_was_made_the_fee_can_be_disputed(backend, domain):
    eligible(backend)
    again = make_tracker(
        intent="dispute_charge", text='/dispute_charge{"line_item_id": "32"}', entities=[LATE_FEE],
        metadata=DAVID, active_loop="dispute_form", slots={"requested_slot": None},
        events=[bot_event("utter_offer_late_fee_waiver")],
    )
    events = await ValidateDisputeForm(billing=FakeBilling(), payments=backend.payments_client()).run(
        CollectingDispatcher(), again, domain
    )
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["dispute_line_item_id"] == "32"
    assert slots["requested_slot"] == "dispute_reason"


# --- after the secure payment page -------------------------------------------------------------------------


def page_completed(customer_id: int = 4):
    """EXTERNAL_payment_page_completed as the handoff service triggers it: no metadata, the signed slot."""
    return make_tracker(
        intent="EXTERNAL_payment_page_completed",
        text="EXTERNAL: EXTERNAL_payment_page_completed",
        entities=[
            {"entity": "page_payment", "value": "posted"},
            {"entity": "page_autopay", "value": "unchanged"},
        ],
        slots={SLOT: signed_customer_slot(customer_id, conversation_id="conv-1")},
        signed=False,
    )


async def test_a_saved_card_with_autopay_off_gets_the_autopay_offer(backend, domain):
    dispatcher = CollectingDispatcher()
    assert await ActionPaymentPageCompleted(payments=backend.payments_client()).run(
        dispatcher, page_completed(), domain
    ) == []
    offer = message(dispatcher, "utter_offer_autopay_after_page")
    assert offer["method"] == "Visa ending 1111"
    assert [b["payload"] for b in offer["buttons"]] == ["/change_autopay", "/thank"]
    assert backend.writes() == []


@pytest.mark.parametrize("case", ["autopay_on", "expired", "no_customer"])
async def test_nothing_to_offer_after_the_page(backend, domain, case):
    if case == "autopay_on":
        backend.autopay = True
    elif case == "expired":
        backend.methods = [Method(11, "Visa", "0119", date(2026, 11, 30))]
    tracker = page_completed(customer_id=4)
    if case == "no_customer":
        tracker.slots[SLOT] = None
    dispatcher = CollectingDispatcher()
    await ActionPaymentPageCompleted(payments=backend.payments_client()).run(dispatcher, tracker, domain)
    assert dispatcher.messages == []


# --- "update my card" before verifying ----------------------------------------------------------------------


async def test_update_card_asked_before_verifying_is_carried_out_after_it(backend, domain, monkeypatch):
    monkeypatch.setattr("actions.base.PaymentsClient", backend.payments_client)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        intent="inform", text="30301", metadata={"customer_id": None},
        slots={SLOT: 4, "identity_verified": True, "verification_status": "verified"},
        events=[user_event("update_payment_method", text="i need to update my card")],
    )
    await ActionAnswerAfterVerification(billing=FakeBilling()).run(dispatcher, tracker, domain)
    link = message(dispatcher, "utter_secure_payment_link")
    assert link["buttons"][0]["title"] == "Open the secure payment page"
    (made,) = backend.writes("/payment-page-links")
    assert made["body"] == {"purpose": "update_method", "conversation_id": "conv-1"}
    assert "utter_how_can_i_help" not in responses(dispatcher)
    assert Decimal(backend.total_due) == Decimal("175.00")  # a link, nothing paid
