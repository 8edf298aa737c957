"""The account check in the dialogue (issue 18; docs/contracts.md, "Account check"): the answers to its offer,
and the offer before a response (greet, what_can_you_do). The offer itself, where it is made and how
`account_check_pending` routes the next yes/no: actions/account_check_offer.py.
"""

import logging
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.account_check_offer import OFFER_SLOT, PENDING_SLOT, offer_before_answer
from actions.base import UsesAccountCheck, utter_backend_unavailable
from actions.clients.account_check import FixNeedsSpecialist
from actions.clients.errors import NotFound, ServiceError
from actions.conversation import conversation_id, current_customer_id
from actions.escalation import escalate
from actions.formatting import format_money
from actions.identity import handoff_turn

logger = logging.getLogger(__name__)


class ActionAccountCheckOffer(UsesAccountCheck, Action):
    """The offer before `utter_greet` / `utter_what_can_you_do`, which are responses, not actions of ours:
    called by Rasa's slot extraction only for those two intents outside a form (domain.yml, slot
    `account_check_offer`); the answering actions make it themselves."""

    def name(self) -> str:
        return "action_account_check_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await offer_before_answer(self.account_check, dispatcher, tracker)


def _offered(tracker: Tracker) -> dict[str, Any] | None:
    offer = tracker.get_slot(OFFER_SLOT)
    if not isinstance(offer, dict) or offer.get("status") != "offered":
        return None
    if offer.get("customer_id") != current_customer_id(tracker):
        return None  # a slot carried over or forged: the offer was made to someone else
    return offer


class ActionFixFinding(UsesAccountCheck, Action):
    """"Yes" to the offer: the backend settles it (dispute accepted by the system, one credit), or a person
    must: then the chat goes to the specialist queue with the finding as the summary."""

    def name(self) -> str:
        return "action_fix_finding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = _offered(tracker)
        customer_id = current_customer_id(tracker)
        # like payments, a credit is written only in a turn the handoff service signed
        if offer is None or customer_id is None or handoff_turn(tracker) is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return [SlotSet(PENDING_SLOT, False)]
        done = {**offer, "status": "fixed"}
        try:
            fix = await self.account_check.fix_finding(
                customer_id=customer_id,
                finding_id=str(offer["finding_id"]),
                conversation_id=conversation_id(tracker),
            )
        except FixNeedsSpecialist as needs:
            dispatcher.utter_message(response="utter_account_fix_needs_specialist")
            # the finding is the context package's summary, then why the bot could not settle it
            why = "; ".join(reason.message for reason in needs.reasons) or "outside what the bot may settle"
            summary = (
                f"{needs.summary or offer['summary']} The customer accepted the bot's offer to fix this "
                f"(account check finding {offer['finding_id']}); the bot may not: {why}."
            )
            events = await escalate(
                handoff=self.handoff, dispatcher=dispatcher, tracker=tracker, reason="dispute",
                customer_id=customer_id, summary=summary,
            )
            handed_over = {**offer, "status": "handed_over"}
            return [SlotSet(PENDING_SLOT, False), SlotSet(OFFER_SLOT, handed_over), *events]
        except NotFound:
            dispatcher.utter_message(response="utter_account_fix_not_needed")
            return [SlotSet(PENDING_SLOT, False), SlotSet(OFFER_SLOT, {**offer, "status": "gone"})]
        except ServiceError:
            utter_backend_unavailable(dispatcher)
            return [SlotSet(PENDING_SLOT, False)]
        dispatcher.utter_message(
            response="utter_account_fix_done",
            amount=format_money(fix.credit.amount, fix.currency),
            invoice_number=offer.get("invoice_number") or "",
            balance=format_money(fix.total_due, fix.currency),
        )
        done.update(credit_id=fix.credit.id, dispute_id=fix.dispute.id)
        return [SlotSet(PENDING_SLOT, False), SlotSet(OFFER_SLOT, done)]


class ActionDeclineFinding(Action):
    """"No" to the offer: nothing changes, said politely, and the offer is not repeated."""

    def name(self) -> str:
        return "action_decline_finding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = _offered(tracker)
        if offer is None:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return [SlotSet(PENDING_SLOT, False)]
        dispatcher.utter_message(response="utter_account_fix_declined")
        return [SlotSet(PENDING_SLOT, False), SlotSet(OFFER_SLOT, {**offer, "status": "declined"})]
