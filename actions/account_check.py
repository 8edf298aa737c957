"""The account check in the dialogue (issue 18; docs/contracts.md, "Account check").

Once per conversation, right after the customer is verified (signed in: `action_validate_slot_mappings` on the
first message; by the form: `action_answer_after_verification`), the bot asks the backend for findings and
mentions the first one it may fix ("Before we start: ... Want me to fix that?", Yes / No buttons), then still
answers the question. Slot `account_check_offer` remembers that the check ran (and what was offered);
`account_check_pending` (featurized) routes the next "yes" to `action_fix_finding` and "no" to
`action_decline_finding`; any other answer resets it, so a later "yes" to something else fixes nothing.
"""

import logging
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.base import UsesServices, utter_backend_unavailable
from actions.clients.account_check import AccountCheckClient, FixNeedsSpecialist, proactive_offer
from actions.clients.errors import NotFound, ServiceError
from actions.conversation import conversation_id, current_customer_id, latest_turn
from actions.escalation import escalate
from actions.formatting import format_money
from actions.identity import handoff_turn

logger = logging.getLogger(__name__)

OFFER_SLOT = "account_check_offer"
PENDING_SLOT = "account_check_pending"
ANSWER_INTENTS = frozenset({"affirm", "deny"})
# A signed-in customer hears the offer before these are answered; a message that starts a form (a dispute,
# a payment), asks for a person or answers something else is left alone: the offer waits for a later turn.
OFFER_BEFORE_INTENTS = frozenset({
    "greet", "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "what_can_you_do",
})


class UsesAccountCheck(UsesServices):
    """UsesServices plus the account-check client (injectable, built on first use)."""

    def __init__(self, *, billing: Any = None, handoff: Any = None, account_check: Any = None) -> None:
        super().__init__(billing=billing, handoff=handoff)
        self._account_check = account_check

    @property
    def account_check(self) -> AccountCheckClient:
        if self._account_check is None:
            self._account_check = AccountCheckClient()
        client: AccountCheckClient = self._account_check
        return client


async def offer_fix(
    client: AccountCheckClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """The check after verification, once per conversation: the slots to set ({} when not due yet)."""
    customer_id = current_customer_id(tracker)
    if customer_id is None or tracker.get_slot(OFFER_SLOT) is not None:
        return {}
    try:
        findings = await client.list_findings(customer_id=customer_id)
    except ServiceError:
        logger.warning("account check unavailable for conversation %s", tracker.sender_id)
        return {OFFER_SLOT: {"status": "unavailable"}}
    finding = proactive_offer(findings)
    if finding is None:
        return {OFFER_SLOT: {"status": "none"}}
    dispatcher.utter_message(response="utter_account_check_offer", finding=finding.summary)
    offer = {
        "status": "offered",
        "customer_id": customer_id,
        "finding_id": finding.id,
        "kind": finding.kind,
        "summary": finding.summary,
        "amount": str(finding.amount),
        "currency": findings.currency,
        "invoice_number": finding.invoice_number,
    }
    return {OFFER_SLOT: offer, PENDING_SLOT: True}


async def offer_after_sign_in(
    client: AccountCheckClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """For action_validate_slot_mappings: a pending offer not answered is dropped; a signed-in customer's
    first question that the bot answers directly gets the offer before the answer."""
    changes: dict[str, Any] = {}
    intent = latest_turn(tracker).intent
    if tracker.get_slot(PENDING_SLOT) is True and intent not in ANSWER_INTENTS:
        changes[PENDING_SLOT] = False
    if tracker.active_loop.get("name") or intent not in OFFER_BEFORE_INTENTS:
        return changes
    return {**changes, **await offer_fix(client, dispatcher, tracker)}


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
