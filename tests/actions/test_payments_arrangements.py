"""Payment arrangements within the backend's policy: promises to pay, instalment plans, the late-fee waiver.

The backend is the HTTP stand-in of tests/actions/payments_backend.py, spoken to by the real clients."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.arrangements import (
    ARRANGEMENT_SLOTS,
    ActionAskArrangementConfirmed,
    ActionAskPlanInstalments,
    ActionSubmitArrangement,
    ValidateArrangementForm,
    future_date,
)
from actions.identity import SLOT, signed_customer_slot
from tests.actions.fakes import FakeHandoff, make_tracker, message, responses
from tests.actions.payments_backend import TODAY, PaymentsBackend

FARID = {"customer_id": 6, "conversation_id": "conv-1"}


@pytest.fixture
def backend() -> PaymentsBackend:
    return PaymentsBackend()


def services(backend: PaymentsBackend, handoff: FakeHandoff | None = None) -> dict:
    return {"billing": backend.billing_client(), "payments": backend.payments_client(), "handoff": handoff}


def turn(
    intent: str,
    text: str,
    *,
    form: str,
    requested: str | None = None,
    slots: dict | None = None,
    entities: list[dict] | None = None,
):
    return make_tracker(
        intent=intent,
        text=text,
        entities=entities,
        metadata=FARID,
        active_loop=form,
        slots={"requested_slot": requested, **(slots or {})},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("friday", date(2026, 12, 4)),  # TODAY is Wednesday, December 2, 2026
        ("next tuesday", date(2026, 12, 8)),
        ("the 20th", date(2026, 12, 20)),
        ("the 1st", date(2027, 1, 1)),
        ("20th", date(2026, 12, 20)),  # DATE spans keep "the" (docs/contracts.md): both read the same
        ("1st", date(2027, 1, 1)),
        ("the 3rd of next month", date(2027, 1, 3)),
        ("the end of the month", date(2026, 12, 31)),
        ("december 12", date(2026, 12, 12)),
        ("january 5", date(2027, 1, 5)),
        ("tomorrow", date(2026, 12, 3)),
        ("tomorrow morning", date(2026, 12, 3)),
        ("tonight", date(2026, 12, 2)),
        ("3rd of next month", date(2027, 1, 3)),
        ("in 5 days", date(2026, 12, 7)),
        ("end of the month", date(2026, 12, 31)),
        ("2027-01-04", date(2027, 1, 4)),
        ("whenever", None),
        ("the 31st of february", None),
    ],
)
def test_promise_dates_lie_ahead(text, expected):
    assert future_date(text, today=TODAY) == expected


def promise_offer(backend: PaymentsBackend) -> dict:
    return {
        "kind": "promise_to_pay",
        "amount": "75.00",
        "currency": "USD",
        "earliest_date": TODAY.isoformat(),
        "latest_date": (TODAY + timedelta(days=8)).isoformat(),
    }


async def test_promise_with_a_date_in_the_request_goes_straight_to_the_confirmation(backend, domain):
    dispatcher = CollectingDispatcher()
    tracker = turn(
        "promise_to_pay",
        "i can pay on friday",
        form="arrangement_form",
        entities=[{"entity": "DATE", "value": "friday"}],
    )
    events = await ValidateArrangementForm(**services(backend)).run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("arrangement_kind", "promise_to_pay"),
        SlotSet("arrangement_offer", promise_offer(backend)),
        SlotSet("promise_date", "2026-12-04"),
        SlotSet("requested_slot", "arrangement_confirmed"),
    ]
    ask = CollectingDispatcher()
    await ActionAskArrangementConfirmed().run(
        ask,
        make_tracker(
            slots={
                "arrangement_kind": "promise_to_pay",
                "promise_date": "2026-12-04",
                "arrangement_offer": promise_offer(backend),
            }
        ),
        domain,
    )
    question = message(ask, "utter_ask_promise_confirmed")
    assert (question["amount"], question["promise_date"]) == ("$75.00", "December 4, 2026")


async def test_promise_date_after_the_policy_limit_offers_the_limit_or_a_person(backend, domain):
    dispatcher = CollectingDispatcher()
    tracker = turn(
        "inform",
        "january 30",
        form="arrangement_form",
        requested="promise_date",
        entities=[{"entity": "DATE", "value": "january 30"}],
        slots={"arrangement_kind": "promise_to_pay", "arrangement_offer": promise_offer(backend)},
    )
    events = await ValidateArrangementForm(**services(backend)).run(dispatcher, tracker, domain)
    late = message(dispatcher, "utter_promise_date_too_late")
    assert (late["asked"], late["latest_date"]) == ("January 30, 2027", "December 10, 2026")
    assert late["buttons"] == [
        {"title": "Pay by December 10, 2026", "payload": '/inform{"DATE": "2026-12-10"}'},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]
    assert SlotSet("arrangement_offer", {**promise_offer(backend), "date_asked": "2027-01-30"}) in events
    assert SlotSet("promise_date", None) in events


async def test_confirmed_promise_is_created_once_with_the_amount_and_date(backend, domain):
    slots = {
        "arrangement_kind": "promise_to_pay",
        "promise_date": "2026-12-04",
        "arrangement_offer": promise_offer(backend),
        "arrangement_confirmed": True,
    }
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitArrangement(**services(backend)).run(
        dispatcher, turn("affirm", "yes", form="arrangement_form", slots=slots), domain
    )
    assert message(dispatcher, "utter_promise_created")["promise_date"] == "December 4, 2026"
    (created,) = backend.writes("/arrangements")
    assert created["body"] == {
        "kind": "promise_to_pay",
        "amount": "75.00",
        "pay_by": "2026-12-04",
        "conversation_id": "conv-1",
    }
    assert events == [
        SlotSet(slot, None)
        for slot in (
            "arrangement_kind",
            "promise_date",
            "plan_instalments",
            "arrangement_offer",
            "arrangement_confirmed",
        )
    ]


async def test_nothing_past_due_needs_no_arrangement(backend, domain):
    backend.past_due = Decimal("0.00")
    dispatcher = CollectingDispatcher()
    events = await ValidateArrangementForm(**services(backend)).run(
        dispatcher, turn("request_payment_plan", "can i pay in instalments", form="arrangement_form"), domain
    )
    assert responses(dispatcher) == ["utter_arrangement_not_needed"]
    assert events[-1] == SlotSet("requested_slot", None)


async def test_instalment_plan_choices_then_created(backend, domain):
    dispatcher = CollectingDispatcher()
    events = await ValidateArrangementForm(**services(backend)).run(
        dispatcher, turn("request_payment_plan", "can i split it up", form="arrangement_form"), domain
    )
    offer = events[1]["value"]
    assert events[-1] == SlotSet("requested_slot", "plan_instalments")
    ask = CollectingDispatcher()
    await ActionAskPlanInstalments().run(ask, make_tracker(slots={"arrangement_offer": offer}), domain)
    assert message(ask, "utter_ask_plan_instalments")["buttons"] == [
        {"title": "2 payments of $37.50", "payload": '/inform{"instalments": "2"}'},
        {"title": "3 payments of $25.00", "payload": '/inform{"instalments": "3"}'},
    ]
    picked = await ValidateArrangementForm(**services(backend)).run(
        CollectingDispatcher(),
        turn(
            "inform",
            "three please",
            form="arrangement_form",
            requested="plan_instalments",
            slots={"arrangement_kind": "instalment_plan", "arrangement_offer": offer},
        ),
        domain,
    )
    assert picked == [SlotSet("plan_instalments", "3"), SlotSet("requested_slot", "arrangement_confirmed")]
    done = CollectingDispatcher()
    await ActionSubmitArrangement(**services(backend)).run(
        done,
        turn(
            "affirm",
            "yes",
            form="arrangement_form",
            slots={
                "arrangement_kind": "instalment_plan",
                "plan_instalments": "3",
                "arrangement_offer": offer,
                "arrangement_confirmed": True,
            },
        ),
        domain,
    )
    assert message(done, "utter_plan_created")["instalment"] == "$25.00"
    assert backend.writes("/arrangements")[0]["body"] == {
        "kind": "instalment_plan",
        "instalments": 3,
        "conversation_id": "conv-1",
    }


async def submit_plan_request(
    backend: PaymentsBackend, handoff: FakeHandoff, domain: dict, *, offer: dict, **slots: object
) -> CollectingDispatcher:
    """action_submit_arrangement after "payment plan please" got `offer`."""
    submitted = CollectingDispatcher()
    await ActionSubmitArrangement(**services(backend, handoff)).run(
        submitted,
        turn(
            "request_payment_plan",
            "payment plan please",
            form="arrangement_form",
            slots={"arrangement_kind": "instalment_plan", "arrangement_offer": offer, **slots},
        ),
        domain,
    )
    return submitted


async def test_outside_policy_goes_to_a_specialist_with_the_request(backend, domain):
    backend.options = backend.default_options()
    backend.options["instalment_plan"] = {
        "eligible": False,
        "amount": None,
        "choices": [],
        "reasons": [{"code": "broken_plan_recently", "message": "A plan was broken in the last 12 months."}],
    }
    handoff = FakeHandoff()
    dispatcher = CollectingDispatcher()
    events = await ValidateArrangementForm(**services(backend, handoff)).run(
        dispatcher, turn("request_payment_plan", "payment plan please", form="arrangement_form"), domain
    )
    assert events[-1] == SlotSet("requested_slot", None)
    offer = events[1]["value"]
    submitted = await submit_plan_request(backend, handoff, domain, offer=offer)
    assert responses(submitted) == ["utter_arrangement_outside_policy", "utter_handoff_queued"]
    (request,) = handoff.requests
    assert request.reason == "arrangement_request"  # the payments team's queue
    assert "asked for a payment arrangement the bot may not grant." in request.summary
    assert (
        "an instalment plan, which is outside policy: A plan was broken in the last 12 months."
        in request.summary
    )
    assert request.slots["arrangement_offer"]["stop"] == "outside_policy"
    assert backend.writes() == []


async def test_late_fee_waiver_offered_when_eligible_and_applied_as_a_credit(backend, domain):
    backend.options = backend.default_options()
    backend.options["late_fee_waiver"] = {
        "eligible": True,
        "reasons": [],
        "line_item_id": 105,
        "invoice_number": "INV-2026-000106",
        "amount": "25.00",
    }
    events = await ValidateArrangementForm(**services(backend)).run(
        CollectingDispatcher(),
        turn("request_fee_waiver", "please waive the late fee", form="arrangement_form"),
        domain,
    )
    offer = {
        "kind": "late_fee_waiver",
        "amount": "25.00",
        "line_item_id": 105,
        "invoice_number": "INV-2026-000106",
        "currency": "USD",
    }
    assert events == [
        SlotSet("arrangement_kind", "late_fee_waiver"),
        SlotSet("arrangement_offer", offer),
        SlotSet("requested_slot", "arrangement_confirmed"),
    ]
    done = CollectingDispatcher()
    await ActionSubmitArrangement(**services(backend)).run(
        done,
        turn(
            "affirm",
            "yes",
            form="arrangement_form",
            slots={
                "arrangement_kind": "late_fee_waiver",
                "arrangement_offer": offer,
                "arrangement_confirmed": True,
            },
        ),
        domain,
    )
    applied = message(done, "utter_waiver_applied")
    assert (applied["amount"], applied["balance"]) == ("$25.00", "$150.00")
    assert backend.writes("/late-fee-waivers")[0]["body"] == {"line_item_id": 105}


async def test_no_late_fee_means_nothing_to_waive_and_no_specialist(backend, domain):
    dispatcher = CollectingDispatcher()
    await ValidateArrangementForm(**services(backend)).run(
        dispatcher, turn("request_fee_waiver", "remove my late fee", form="arrangement_form"), domain
    )
    assert responses(dispatcher) == ["utter_no_late_fee_to_waive"]


async def test_a_promise_may_cover_a_bill_not_yet_past_due(backend, domain):
    backend.past_due, backend.total_due = Decimal("0.00"), Decimal("60.00")
    dispatcher = CollectingDispatcher()
    events = await ValidateArrangementForm(**services(backend)).run(
        dispatcher, turn("promise_to_pay", "can i pay my bill late", form="arrangement_form"), domain
    )
    assert dispatcher.messages == []
    assert events[1]["value"]["amount"] == "100.00"  # the next bill's amount, from the policy's minimum
    assert events[-1] == SlotSet("requested_slot", "promise_date")


async def test_nothing_owed_means_nothing_to_arrange(backend, domain):
    backend.past_due, backend.total_due = Decimal("0.00"), Decimal("0.00")
    dispatcher = CollectingDispatcher()
    events = await ValidateArrangementForm(**services(backend)).run(
        dispatcher, turn("promise_to_pay", "can i pay next week", form="arrangement_form"), domain
    )
    assert responses(dispatcher) == ["utter_nothing_to_arrange"]
    assert events[-1] == SlotSet("requested_slot", None)


def confirmed_promise(backend: PaymentsBackend, **changed: object) -> dict:
    return {
        "arrangement_kind": "promise_to_pay",
        "promise_date": "2026-12-04",
        "arrangement_offer": promise_offer(backend),
        "arrangement_confirmed": True,
        **changed,
    }


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("no yes", ["utter_arrangement_cancelled"]),
        ("no offer", ["utter_arrangement_cancelled"]),
        ("a turn the handoff service did not send", ["utter_arrangement_cancelled"]),
        ("verification locked", []),  # the form's locked path has told the customer and handed over
    ],
)
async def test_an_arrangement_is_set_up_only_after_a_yes_in_a_signed_turn(backend, domain, case, said):
    """The same check as a payment's and a setting's (actions/payments/common.py confirmed_offer)."""
    if case == "a turn the handoff service did not send":
        # the verified customer's signed slot, but this turn has no identity assertion from the handoff
        tracker = make_tracker(
            intent="affirm",
            text="yes",
            active_loop="arrangement_form",
            slots={**confirmed_promise(backend), SLOT: signed_customer_slot(6, conversation_id="conv-1")},
            signed=False,
        )
    else:
        changed = {
            "no yes": {"arrangement_confirmed": False},
            "no offer": {"arrangement_offer": None},
            "verification locked": {"verification_status": "locked"},
        }[case]
        tracker = turn("affirm", "yes", form="arrangement_form", slots=confirmed_promise(backend, **changed))
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitArrangement(**services(backend)).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == said
    assert backend.writes() == []
    assert events == [SlotSet(slot, None) for slot in ARRANGEMENT_SLOTS]


async def test_outside_policy_after_verification_locked_hands_nothing_over(backend, domain):
    handoff = FakeHandoff()
    offer = {"stop": "outside_policy", "kind": "instalment_plan", "reasons": "A plan was broken."}
    submitted = await submit_plan_request(backend, handoff, domain, offer=offer, verification_status="locked")
    assert responses(submitted) == []
    assert handoff.requests == []
