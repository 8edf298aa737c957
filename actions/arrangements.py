"""Payment arrangements in the chat (issue 16): a promise to pay, an instalment plan, a one-time late-fee
waiver.

The backend's policy decides (GET arrangement-options, docs/contracts.md "Arrangement policy"): the bot offers
only what it says this customer can have now, states the terms and sets them up after an explicit "yes". A
request outside policy goes to a specialist, with the request and the reasons in the context package.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil import parser as date_parser
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import TALK_TO_PERSON_BUTTON, UsesPayments, utter_backend_unavailable
from actions.clients.errors import ServiceError
from actions.clients.payments import ArrangementOptions, PaymentRefused, money_text
from actions.conversation import current_customer_id, latest_turn, user_events
from actions.escalation import build_summary, escalate
from actions.formatting import format_date, format_money, money_in
from actions.forms import (
    IDENTITY_SLOTS,
    STOPPING_VERIFICATION_STATUSES,
    HelperSlotsFormValidation,
    IdentityValidation,
)
from actions.normalise import without_part_of_day
from actions.payments import NO, QUESTION_INTENTS, YES, bot_actor, idempotency_key, payload
from actions.payments.common import confirmed_offer

ARRANGEMENT_SLOTS = (
    "arrangement_kind",
    "promise_date",
    "plan_instalments",
    "arrangement_offer",
    "arrangement_confirmed",
)
KIND_BY_INTENT = {
    "promise_to_pay": "promise_to_pay",
    "request_payment_plan": "instalment_plan",
    "request_fee_waiver": "late_fee_waiver",
}
KIND_NAMES = {
    "promise_to_pay": "a promise to pay",
    "instalment_plan": "an instalment plan",
    "late_fee_waiver": "a late-fee waiver",
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Reason codes of an ineligible waiver that mean there is no late fee to waive (not a matter for a person).
_NO_FEE = re.compile(r"no_(?:late_)?fee|nothing_to_waive|already_(?:credited|waived)")
_NUMBER_WORDS = {"two": 2, "2": 2, "three": 3, "3": 3, "four": 4, "4": 4, "five": 5, "5": 5, "six": 6, "6": 6}


def future_date(text: str | None, *, today: date) -> date | None:
    """A day the customer will pay on: "friday" is the next Friday, "the 20th" the next 20th, "december 12"
    the next December 12; also "tomorrow", "in 5 days", "next week", "end of the month", ISO dates. None if
    unreadable."""
    if not text:
        return None
    cleaned = re.sub(r"\b(on|by|the|of|until|till|til|before)\b", " ", text.strip().lower())
    cleaned = without_part_of_day(re.sub(r"\s+", " ", cleaned).strip(" ,."))
    for reader in (_relative_day, _weekday, _day_of_month, _calendar_date):
        day = reader(cleaned, today)
        if day is not None:
            return day
    return None


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _relative_day(cleaned: str, today: date) -> date | None:
    """ "today", "tomorrow", "next week", "in 5 days", "end of the month", "end of next month"."""
    offsets = {"today": 0, "now": 0, "tomorrow": 1, "next week": 7, "in a week": 7}
    if cleaned in offsets:
        return today + timedelta(days=offsets[cleaned])
    within = re.fullmatch(r"in (\d+) days?", cleaned)
    if within:
        return today + timedelta(days=int(within.group(1)))
    month_end = re.fullmatch(r"end (this |next )?month", cleaned)
    if month_end:
        year, month = _next_month(today) if month_end.group(1) == "next " else (today.year, today.month)
        return date(year, month, calendar.monthrange(year, month)[1])
    return None


def _weekday(cleaned: str, today: date) -> date | None:
    weekday = re.fullmatch(r"(next |this |coming )?(" + "|".join(_WEEKDAYS) + ")", cleaned)
    if weekday is None:
        return None
    return today + timedelta(days=(_WEEKDAYS.index(weekday.group(2)) - today.weekday()) % 7 or 7)


def _day_of_month(cleaned: str, today: date) -> date | None:
    """ "20th", "3rd next month": the next such day."""
    day_only = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?( next month)?", cleaned)
    if day_only is None:
        return None
    day = int(day_only.group(1))
    year, month = _next_month(today) if day < today.day or day_only.group(3) else (today.year, today.month)
    return date(year, month, day) if 1 <= day <= calendar.monthrange(year, month)[1] else None


def _calendar_date(cleaned: str, today: date) -> date | None:
    """ "december 12", "2027-01-05", "12/20": without a year, the next such day."""
    if not re.search(r"\d", cleaned):
        return None
    try:
        parsed = date_parser.parse(
            cleaned, default=datetime(today.year, today.month, today.day), fuzzy=True
        ).date()
    except (ValueError, OverflowError):
        return None
    if not re.search(r"\b\d{4}\b", cleaned) and parsed < today:
        parsed = parsed.replace(year=parsed.year + 1)
    return parsed


def instalments_in(text: str, entities: list[str]) -> int | None:
    for written in [*entities, *re.findall(r"\b(two|three|four|five|six|[2-6])\b", text.lower())]:
        if written.strip().lower() in _NUMBER_WORDS:
            return _NUMBER_WORDS[written.strip().lower()]
    return None


def opening_request(tracker: Tracker) -> dict[str, Any] | None:
    """The newest customer message asking for an arrangement (the form may begin with identity questions)."""
    for event in reversed(user_events(tracker)):
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in KIND_BY_INTENT:
            request: dict[str, Any] = event
            return request
    return None


def _reasons(reasons: list[Any]) -> str:
    return (
        " ".join(getattr(r, "message", str(r)).rstrip(".") + "." for r in reasons).strip()
        or "outside our policy"
    )


def accepted_waiver_offer(tracker: Tracker, offer: dict[str, Any]) -> bool:
    """The request is the "Yes, waive the ... fee" button of the bot's offer (in a late fee's explanation or
    before a dispute, actions/charges.py waiver_button): it names the fee the policy allows waiving now, and
    the offer stated the amount and that it is a one-time credit, so it is the customer's yes. A typed
    request, or a button for another fee, is asked to confirm as usual."""
    request = opening_request(tracker) or {}
    if not str(request.get("text") or "").startswith("/request_fee_waiver"):
        return False
    named = [
        str(entity.get("value"))
        for entity in (request.get("parse_data") or {}).get("entities") or []
        if entity.get("entity") == "line_item_id"
    ]
    return bool(named) and offer.get("line_item_id") is not None and named[0] == str(offer["line_item_id"])


class ValidateArrangementForm(IdentityValidation, UsesPayments, HelperSlotsFormValidation):
    """Which arrangement (from the request), its terms within the backend's policy, then an explicit yes."""

    helper_slots = ("arrangement_offer",)

    def name(self) -> str:
        return "validate_arrangement_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES:
            return []
        offer = tracker.get_slot("arrangement_offer")
        if isinstance(offer, dict) and offer.get("stop"):
            return []
        kind = tracker.get_slot("arrangement_kind")
        skipped = {"promise_date"} if kind != "promise_to_pay" else set()
        skipped |= {"plan_instalments"} if kind != "instalment_plan" else set()
        if current_customer_id(tracker) is not None:
            skipped |= set(IDENTITY_SLOTS)
        return [slot for slot in domain_slots if slot not in skipped]

    async def extract_arrangement_kind(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if current_customer_id(tracker) is None or tracker.get_slot("arrangement_kind") is not None:
            return {}
        opening = opening_request(tracker)
        if opening is None:
            return {}
        return {"arrangement_kind": KIND_BY_INTENT[opening["parse_data"]["intent"]["name"]]}

    async def validate_arrangement_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        customer_id = current_customer_id(tracker)
        if customer_id is None or value not in KIND_NAMES:
            return {"arrangement_kind": None}
        try:
            options = await self.payments.arrangement_options(customer_id=customer_id)
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return {"arrangement_kind": value, "arrangement_offer": {"stop": "unavailable"}}
        offer = self._offer(value, options, dispatcher)
        slots: dict[str, Any] = {"arrangement_kind": value, "arrangement_offer": offer}
        if value == "late_fee_waiver" and not offer.get("stop") and accepted_waiver_offer(tracker, offer):
            slots["arrangement_confirmed"] = True  # "Yes, waive the $25.00 fee" under the stated terms
        if value == "promise_to_pay" and not offer.get("stop") and tracker.get_slot("promise_date") is None:
            # "I can pay on friday": the date may come with the request
            turn = opening_request(tracker) or {}
            said = [
                str(e.get("value"))
                for e in (turn.get("parse_data") or {}).get("entities") or []
                if e.get("entity") == "DATE"
            ]
            if said:
                slots.update(self._check_promise_date(said[0], offer, dispatcher))
        return slots

    @staticmethod
    def _offer(kind: str, options: ArrangementOptions, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        money = money_in(options.currency)
        if kind == "late_fee_waiver":
            terms = options.late_fee_waiver
            if terms.eligible and terms.amount is not None:
                return {
                    "kind": kind,
                    "amount": money_text(terms.amount),
                    "line_item_id": terms.line_item_id,
                    "invoice_number": terms.invoice_number,
                    "currency": options.currency,
                }
            if not terms.reasons or any(_NO_FEE.search(reason.code) for reason in terms.reasons):
                dispatcher.utter_message(response="utter_no_late_fee_to_waive")
                return {"stop": "nothing_to_waive"}
            return {"stop": "outside_policy", "kind": kind, "reasons": _reasons(terms.reasons)}
        if kind == "promise_to_pay":
            promise = options.promise_to_pay
            if promise.eligible and promise.latest_date and promise.minimum_amount is not None:
                return {
                    "kind": kind,
                    "amount": money_text(promise.minimum_amount),
                    "currency": options.currency,
                    "earliest_date": (promise.earliest_date or date.today()).isoformat(),
                    "latest_date": promise.latest_date.isoformat(),
                }
            if any(reason.code == "nothing_due" for reason in promise.reasons):
                dispatcher.utter_message(
                    response="utter_nothing_to_arrange", total_due=money(options.total_due)
                )
                return {"stop": "nothing_due"}
            return {
                "stop": "outside_policy",
                "kind": kind,
                "reasons": _reasons(promise.reasons),
                "past_due": money_text(options.past_due),
            }
        if options.past_due <= 0:  # an instalment plan is for a past-due balance only
            dispatcher.utter_message(
                response="utter_arrangement_not_needed", total_due=money(options.total_due)
            )
            return {"stop": "nothing_past_due"}
        plan = options.instalment_plan
        if plan.eligible and plan.choices and plan.amount is not None:
            return {
                "kind": kind,
                "amount": money_text(plan.amount),
                "currency": options.currency,
                "choices": {
                    str(c.instalments): {
                        "amount_each": money_text(c.amount_each),
                        "first_date": c.schedule[0].due_date.isoformat() if c.schedule else None,
                    }
                    for c in plan.choices
                },
            }
        return {
            "stop": "outside_policy",
            "kind": kind,
            "reasons": _reasons(plan.reasons),
            "past_due": money_text(options.past_due),
        }

    async def extract_promise_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "promise_date":
            return {}
        turn = latest_turn(tracker)
        if turn.intent in QUESTION_INTENTS and not turn.entity_values("DATE"):
            return {}
        said = turn.entity_values("DATE") or (
            [turn.text] if turn.text and not turn.text.startswith("/") else []
        )
        return {"promise_date": said[0]} if said else {}

    async def validate_promise_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        offer = tracker.get_slot("arrangement_offer") or {}
        return self._check_promise_date(str(value or ""), offer, dispatcher)

    @staticmethod
    def _check_promise_date(
        said: str, offer: dict[str, Any], dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        latest = date.fromisoformat(offer["latest_date"]) if offer.get("latest_date") else None
        earliest = date.fromisoformat(offer.get("earliest_date") or date.today().isoformat())
        day = future_date(said, today=earliest)
        if day is None:
            dispatcher.utter_message(response="utter_promise_date_unreadable")
            return {"promise_date": None}
        if day < earliest:
            dispatcher.utter_message(response="utter_promise_date_past", latest_date=format_date(latest))
            return {"promise_date": None}
        if latest is not None and day > latest:
            # outside policy: the latest date allowed, or a specialist with the date asked for
            dispatcher.utter_message(
                response="utter_promise_date_too_late",
                asked=format_date(day),
                latest_date=format_date(latest),
                buttons=[
                    {
                        "title": f"Pay by {format_date(latest)}",
                        "payload": payload("inform", DATE=latest.isoformat()),
                    },
                    TALK_TO_PERSON_BUTTON,
                ],
            )
            return {"promise_date": None, "arrangement_offer": {**offer, "date_asked": day.isoformat()}}
        return {"promise_date": day.isoformat()}

    async def extract_plan_instalments(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "plan_instalments":
            return {}
        turn = latest_turn(tracker)
        if turn.intent in QUESTION_INTENTS:
            return {}
        count = instalments_in(turn.text, turn.entity_values("instalments"))
        return {"plan_instalments": str(count) if count else "unreadable"}

    async def validate_plan_instalments(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        offer = tracker.get_slot("arrangement_offer") or {}
        if str(value) not in (offer.get("choices") or {}):
            dispatcher.utter_message(
                response="utter_plan_instalments_invalid",
                choices=" or ".join(sorted(offer.get("choices") or {})),
            )
            return {"plan_instalments": None}
        return {"plan_instalments": str(value)}


class ActionAskPromiseDate(Action):
    def name(self) -> str:
        return "action_ask_promise_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = tracker.get_slot("arrangement_offer") or {}
        latest = date.fromisoformat(offer["latest_date"]) if offer.get("latest_date") else None
        dispatcher.utter_message(
            response="utter_ask_promise_date",
            amount=format_money(offer.get("amount", "0"), offer.get("currency")),
            latest_date=format_date(latest),
            buttons=[
                {"title": f"By {format_date(latest)}", "payload": payload("inform", DATE=latest.isoformat())}
            ]
            if latest
            else [],
        )
        return []


class ActionAskPlanInstalments(Action):
    def name(self) -> str:
        return "action_ask_plan_instalments"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = tracker.get_slot("arrangement_offer") or {}
        currency = offer.get("currency")
        buttons = [
            {
                "title": f"{count} payments of {format_money(choice['amount_each'], currency)}",
                "payload": payload("inform", instalments=count),
            }
            for count, choice in sorted((offer.get("choices") or {}).items())
        ]
        dispatcher.utter_message(
            response="utter_ask_plan_instalments",
            amount=format_money(offer.get("amount", "0"), currency),
            buttons=buttons,
        )
        return []


class ActionAskArrangementConfirmed(Action):
    def name(self) -> str:
        return "action_ask_arrangement_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = tracker.get_slot("arrangement_offer") or {}
        currency = offer.get("currency")
        amount = format_money(offer.get("amount", "0"), currency)
        buttons = [{"title": "Yes, set it up", "payload": YES}, {"title": "No, thanks", "payload": NO}]
        kind = tracker.get_slot("arrangement_kind")
        if kind == "promise_to_pay":
            dispatcher.utter_message(
                response="utter_ask_promise_confirmed",
                amount=amount,
                promise_date=format_date(tracker.get_slot("promise_date")),
                buttons=buttons,
            )
        elif kind == "instalment_plan":
            count = str(tracker.get_slot("plan_instalments"))
            choice = (offer.get("choices") or {}).get(count, {})
            dispatcher.utter_message(
                response="utter_ask_plan_confirmed",
                amount=amount,
                count=count,
                instalment=format_money(choice.get("amount_each", "0"), currency),
                first_date=format_date(choice.get("first_date")),
                buttons=buttons,
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_waiver_confirmed",
                amount=amount,
                invoice_number=offer.get("invoice_number") or "your latest bill",
                buttons=buttons,
            )
        return []


class ActionSubmitArrangement(UsesPayments, Action):
    """Runs when arrangement_form ends: sets up what was confirmed, or hands an out-of-policy request over."""

    def name(self) -> str:
        return "action_submit_arrangement"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in ARRANGEMENT_SLOTS]
        offer = tracker.get_slot("arrangement_offer") or {}
        customer_id = current_customer_id(tracker)
        stopped = tracker.get_slot("verification_status") in STOPPING_VERIFICATION_STATUSES
        if not stopped and customer_id is not None and offer.get("stop") == "outside_policy":
            return (
                await self._hand_over(dispatcher, tracker, customer_id, offer, offer.get("reasons", ""))
                + reset
            )
        # set up only after an explicit yes in a signed turn, as a payment or a setting change
        confirmed = confirmed_offer(
            dispatcher,
            tracker,
            offer_slot="arrangement_offer",
            confirmed_slot="arrangement_confirmed",
            not_done_response="utter_arrangement_cancelled",
        )
        if confirmed is None:
            return reset
        customer_id, offer = confirmed
        kind = tracker.get_slot("arrangement_kind")
        currency = offer.get("currency")
        key = idempotency_key(
            tracker,
            kind,
            tracker.get_slot("promise_date"),
            tracker.get_slot("plan_instalments"),
            offer.get("line_item_id"),
            len(user_events(tracker)),
        )
        try:
            if kind == "promise_to_pay":
                pay_by = date.fromisoformat(str(tracker.get_slot("promise_date")))
                await self.payments.create_promise(
                    customer_id=customer_id,
                    amount=Decimal(offer["amount"]),
                    pay_by=pay_by,
                    conversation_id=tracker.sender_id,
                    actor=bot_actor(tracker),
                    idempotency_key=key,
                )
                dispatcher.utter_message(
                    response="utter_promise_created",
                    amount=format_money(offer["amount"], currency),
                    promise_date=format_date(pay_by),
                )
            elif kind == "instalment_plan":
                count = int(str(tracker.get_slot("plan_instalments")))
                await self.payments.create_instalment_plan(
                    customer_id=customer_id,
                    instalments=count,
                    conversation_id=tracker.sender_id,
                    actor=bot_actor(tracker),
                    idempotency_key=key,
                )
                choice = offer["choices"][str(count)]
                dispatcher.utter_message(
                    response="utter_plan_created",
                    count=count,
                    instalment=format_money(choice["amount_each"], currency),
                    first_date=format_date(choice.get("first_date")),
                )
            else:
                result = await self.payments.waive_late_fee(
                    customer_id=customer_id,
                    line_item_id=offer.get("line_item_id"),
                    actor=bot_actor(tracker),
                    idempotency_key=key,
                )
                dispatcher.utter_message(
                    response="utter_waiver_applied",
                    amount=format_money(offer["amount"], currency),
                    balance=format_money(result.total_due, currency),
                )
        except PaymentRefused as refusal:
            if refusal.code == "outside_policy":
                return (
                    await self._hand_over(
                        dispatcher, tracker, customer_id, {**offer, "kind": kind}, _reasons(refusal.reasons)
                    )
                    + reset
                )
            utter_backend_unavailable(dispatcher)
        except ServiceError:
            utter_backend_unavailable(dispatcher)
        return reset

    async def _hand_over(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        customer_id: int,
        offer: dict[str, Any],
        reasons: str,
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_arrangement_outside_policy", reason=reasons.rstrip("."))
        request = KIND_NAMES.get(offer.get("kind", ""), "a payment arrangement")
        if offer.get("date_asked"):
            request += f" until {format_date(offer['date_asked'])}"
        summary = build_summary(tracker=tracker, reason="arrangement_request", customer_id=customer_id)
        summary += f" They asked for {request}, which is outside policy: {reasons}"
        return await escalate(
            handoff=self.handoff,
            dispatcher=dispatcher,
            tracker=tracker,
            reason="arrangement_request",  # the payments team's queue (handoff/queue/teams.py)
            customer_id=customer_id,
            summary=summary,
        )
