"""A verified customer asking about an account number that is not theirs is told so, never shown their own
figures."""

from typing import Protocol

from rasa_sdk.executor import CollectingDispatcher

from actions.clients.billing import BillingClient
from actions.conversation import CustomerTurn
from actions.normalise import account_number_in_text, normalise_account_number


class _Context(Protocol):
    dispatcher: CollectingDispatcher
    customer_id: int
    turn: CustomerTurn
    billing: BillingClient

    def remember_currency(self, currency: str) -> None: ...


async def other_account_asked_about(context: _Context) -> str | None:
    """The first account number in the question that is not the customer's own, else None."""
    asked = {
        number
        for number in map(normalise_account_number, context.turn.entity_values("account_number"))
        if number
    }
    written = account_number_in_text(context.turn.text)
    if written:
        asked.add(written)
    if not asked:
        return None
    customer = await context.billing.get_customer(customer_id=context.customer_id)
    context.remember_currency(customer.account.currency)
    others = sorted(asked - {customer.account.account_number})
    return others[0] if others else None


async def refused_other_account(context: _Context) -> bool:
    """Says plainly that only the customer's own account can be discussed when the question names another;
    True when it did (the caller then answers nothing else)."""
    other_account = await other_account_asked_about(context)
    if other_account is None:
        return False
    context.dispatcher.utter_message(response="utter_only_own_account", account_number=other_account)
    return True
