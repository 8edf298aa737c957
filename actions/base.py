"""Abstract bases shared by the actions (abstract so rasa-sdk does not register them)."""

import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import Action, Tracker
from rasa_sdk.types import DomainDict

from actions.account_check_offer import offer_before_answer
from actions.clients.account_check import AccountCheckClient
from actions.clients.billing import BillingClient
from actions.clients.errors import BackendUnavailable, NotFound, ServiceError
from actions.clients.handoff import HandoffClient
from actions.clients.payments import PaymentsClient
from actions.conversation import CustomerTurn, latest_turn, verified_customer_or_ask
from actions.own_account import refused_other_account

logger = logging.getLogger(__name__)

TALK_TO_PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
# "... I want to talk to a person from billing about it": a question answered, and the person asked for.
_ASKS_FOR_A_PERSON = re.compile(
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|some|your|one of your)?\s*(?:real|actual|live)?\s*"
    r"(?:person|human|agent|someone|somebody|representative|advis[eo]r|member of staff|manager|supervisor"
    r"|billing team|team)\b"
    r"|\bwho (?:can|could|do|should|would) I (?:talk|speak|chat) (?:to|with)\b"
    r"|\b(?:put|pass|transfer|connect|get) me (?:through )?(?:to|with) (?:a|an|someone|somebody)\b"
    r"|\b(?:real|actual|live) (?:person|human|agent)\b"
    r"|\bget me (?:a|an) (?:real |actual |live )?(?:person|human|agent|representative)\b"
    # a phone call from a person: "call me back", "can I have a call back tomorrow"
    r"|\bcall(?:ing)? me back\b"
    r"|\b(?:have|get|want|need|request|arrange|book|schedule)\s+(?:a\s+)?call[- ]?back\b",
    re.IGNORECASE,
)
_NO_PERSON_WANTED = re.compile(
    r"\b(?:don'?t|do not|no need to|rather not|without)\b[^.?!]{0,25}"
    r"\b(?:talk|speak|chat|person|human|agent|call)",
    re.IGNORECASE,
)


def asks_for_a_person(text: str) -> bool:
    """A typed request for a person inside another question (a button payload never is one)."""
    return (not text.startswith("/") and _ASKS_FOR_A_PERSON.search(text) is not None
            and _NO_PERSON_WANTED.search(text) is None)


class UsesServices:
    """Clients are injectable (tests pass fakes); by default built on first use, never at import."""

    def __init__(self, *, billing: BillingClient | None = None, handoff: HandoffClient | None = None) -> None:
        self._billing = billing
        self._handoff = handoff

    @property
    def billing(self) -> BillingClient:
        if self._billing is None:
            self._billing = BillingClient()
        return self._billing

    @property
    def handoff(self) -> HandoffClient:
        if self._handoff is None:
            self._handoff = HandoffClient()
        return self._handoff


class UsesPayments(UsesServices):
    """UsesServices plus the payments client (injectable like the others, built on first use)."""

    def __init__(
        self,
        *,
        billing: BillingClient | None = None,
        handoff: HandoffClient | None = None,
        payments: PaymentsClient | None = None,
    ) -> None:
        super().__init__(billing=billing, handoff=handoff)
        self._payments = payments

    @property
    def payments(self) -> PaymentsClient:
        if self._payments is None:
            self._payments = PaymentsClient()
        return self._payments


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


def utter_backend_unavailable(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_backend_unavailable", buttons=[TALK_TO_PERSON_BUTTON])


async def account_currency(billing: BillingClient, tracker: Tracker, *, customer_id: int) -> str:
    """The account currency: the `account_currency` slot once known, else the backend's."""
    known = tracker.get_slot("account_currency")
    if known:
        return str(known)
    customer = await billing.get_customer(customer_id=customer_id)
    return customer.account.currency


@dataclass
class AnswerContext:
    dispatcher: CollectingDispatcher
    tracker: Tracker
    customer_id: int
    turn: CustomerTurn
    billing: BillingClient
    events: list[EventType] = field(default_factory=list)

    async def currency(self) -> str:
        """The account currency, remembered in a slot after the first lookup."""
        currency = await account_currency(self.billing, self.tracker, customer_id=self.customer_id)
        self.remember_currency(currency)  # a no-op when it came from the slot
        return currency

    def remember_currency(self, currency: str) -> None:
        if self.tracker.get_slot("account_currency") != currency:
            self.events.append(SlotSet("account_currency", currency))
            self.tracker.slots["account_currency"] = currency


class AccountAnswerAction(UsesAccountCheck, Action, ABC):
    """Answers one question from the verified customer's account, after the account check's offer when it is
    due (actions/account_check_offer.py). Subclasses implement `answer`."""

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def answer(self, context: AnswerContext) -> None:
        """Utter the answer; append any events to context.events."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offered = await offer_before_answer(self.account_check, dispatcher, tracker)
        return offered + await self.answer_turn(dispatcher, tracker, latest_turn(tracker))

    async def answer_turn(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: CustomerTurn
    ) -> list[EventType]:
        customer_id = verified_customer_or_ask(dispatcher, tracker)
        if customer_id is None:
            return []
        context = AnswerContext(dispatcher, tracker, customer_id, turn, self.billing)
        try:
            if not await refused_other_account(context):
                await self.answer(context)
                if asks_for_a_person(turn.text):
                    context.events.append(FollowupAction("action_escalate_to_human"))
        except NotFound:
            dispatcher.utter_message(response="utter_not_found")
        except BackendUnavailable:
            utter_backend_unavailable(dispatcher)
        except ServiceError:
            logger.exception("%s failed", self.name())
            utter_backend_unavailable(dispatcher)
        return context.events
