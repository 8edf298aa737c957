"""The account check's offer (issue 18; moved out of the per-message slot validation by issue 20).

Once per conversation, right after the customer is verified, the bot asks the backend for findings and
mentions the first one it may fix ("Before we start: ... Want me to fix that?", Yes / No buttons), then still
answers. Where it happens, with no action call of its own:
- verified by the form: `action_answer_after_verification`, before the answer it gives;
- otherwise (signed in, or verified earlier by another form) before the first question the bot answers
  directly (OFFER_BEFORE_INTENTS, no form active): the answering action (`AccountAnswerAction`,
  `action_how_to_pay`) makes it before its answer; greet / what_can_you_do are answered by a response, so
  for those two intents only, the slot mapping of `account_check_offer` (domain.yml) calls
  `action_account_check_offer`.
Slot `account_check_offer` remembers that the check ran (and what was offered); `account_check_pending`
(featurized) routes the next "yes" to `action_fix_finding` and "no" to `action_decline_finding`; Rasa resets
it on any other answer (a `from_intent` mapping in domain.yml), so a later "yes" to something else fixes
nothing.

This module imports no action base class, so actions/base.py can use it.
"""

import logging
from typing import Any

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Tracker

from actions.clients.account_check import AccountCheckClient, proactive_offer
from actions.clients.errors import ServiceError
from actions.conversation import current_customer_id, latest_turn

logger = logging.getLogger(__name__)

OFFER_SLOT = "account_check_offer"
PENDING_SLOT = "account_check_pending"
# A verified customer hears the offer before these are answered; a message that starts a form (a dispute,
# a payment), asks for a person or answers something else is left alone: the offer waits for a later turn.
OFFER_BEFORE_INTENTS = frozenset({
    "greet", "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "what_can_you_do",
})


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


def offer_due_before_answer(tracker: Tracker) -> bool:
    """A customer verified in this session (`identity_verified`: signed in at the session's start, or by a
    form), not checked yet, whose message is a question the bot answers directly, outside a form."""
    return (
        tracker.get_slot("identity_verified") is True
        and tracker.get_slot(OFFER_SLOT) is None
        and not tracker.active_loop.get("name")
        and latest_turn(tracker).intent in OFFER_BEFORE_INTENTS
    )


async def offer_before_answer(
    client: AccountCheckClient, dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[EventType]:
    """For the actions that answer a question directly: the offer before their answer, when it is due."""
    if not offer_due_before_answer(tracker):
        return []
    return [SlotSet(name, value) for name, value in (await offer_fix(client, dispatcher, tracker)).items()]
