"""The chat's owner takes a payment with the method on file, as the bot does: a quote the specialist reads to
the customer, then a confirmation (the console's dialog). Audited here and in the backend (X-Actor
specialist:<username>); the customer sees a system message once per payment.

Idempotency: the quote and the confirmation carry keys made from the console action's request_id, so a double
click or a retry sends the same key; the backend also answers one payment per quote, whatever the key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff import notifier
from handoff.assignments.ownership import load_verified
from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.conversations.payment_outcome import append_system_once, dedupe_key
from handoff.errors import ServiceError
from handoff.notifier import Change
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services

PAYMENT_AUDIT_FIELDS = ("id", "quote_id", "amount", "status")


def backend_refusal(error: BackendError) -> ServiceError:
    """The backend's refusal as the console shows it (its code and sentence); its outage as 502."""
    return ServiceError(status_code=502 if error.status_code >= 500 else error.status_code, code=error.code,
                        message=error.message)


async def verified_customer_id(*, services: Services, conversation_id: str, staff: Staff) -> int:
    refusal = "This customer is not verified, so nothing can be charged or arranged."
    return await load_verified(services=services, conversation_id=conversation_id, staff=staff,
                               refusal=refusal)


async def quote(*, services: Services, conversation_id: str, staff: Staff, amount_choice: str,
                amount: str | None, request_id: str) -> dict[str, Any]:
    """What would be charged (the backend's Quote, with its `summary` to read to the customer)."""
    customer_id = await verified_customer_id(services=services, conversation_id=conversation_id, staff=staff)
    try:
        return await services.backend.create_payment_quote(
            customer_id=customer_id, amount_choice=amount_choice, amount=amount,
            idempotency_key=f"handoff-{conversation_id}-quote-{request_id}", actor=staff.actor)
    except BackendError as error:
        raise backend_refusal(error) from None


def _payment_text(payment: dict[str, Any], *, staff: Staff) -> str:
    amount, method, status = payment.get("amount"), payment.get("method"), payment.get("status")
    if status == "failed":
        reason = payment.get("failure_message") or payment.get("failure_reason") or "it was declined"
        return (f"{staff.display_name} tried a payment of ${amount} with {method}, "
                f"but it did not go through: {reason}")
    when = f", expected to post on {payment['expected_post_date']}" if status == "pending" else ""
    return (f"{staff.display_name} took a payment of ${amount} with {method}: {status}{when}. "
            f"You now owe ${payment.get('total_due')}.")


def _record(session: Any, *, conversation_id: str, staff: Staff, key: str, text: str, action: str,
            details: dict[str, Any]) -> Change:
    message, created = append_system_once(session, conversation_id=conversation_id, key=key, text=text)
    if not created:
        return Change(conversation_id)  # the same write again (a double click): told and audited once
    store.audit(session, actor=staff.actor, action=action, target=conversation_id, details=details)
    return Change(conversation_id, messages=(message,))


async def announce(*, services: Services, conversation_id: str, staff: Staff, event_id: str, text: str,
                   action: str, details: dict[str, Any]) -> None:
    """Tell the customer what the specialist did (a system message) and audit it, once per `event_id`."""
    key = dedupe_key(event_id=event_id, secret=services.settings.api_token)
    change = await services.run(_record, conversation_id=conversation_id, staff=staff, key=key, text=text,
                                action=action, details=details)
    await notifier.publish(change, services=services)


async def confirm(*, services: Services, conversation_id: str, staff: Staff, quote_id: str,
                  request_id: str) -> dict[str, Any]:
    """Charge the quote (the backend's Payment); the customer is told in the chat once."""
    customer_id = await verified_customer_id(services=services, conversation_id=conversation_id, staff=staff)
    try:
        payment = await services.backend.confirm_payment_quote(
            customer_id=customer_id, quote_id=quote_id, actor=staff.actor,
            idempotency_key=f"handoff-{conversation_id}-pay-{request_id}")
    except BackendError as error:
        raise backend_refusal(error) from None
    await announce(services=services, conversation_id=conversation_id, staff=staff,
                   event_id=f"specialist-payment-{payment.get('id')}",
                   text=_payment_text(payment, staff=staff),
                   action="take_payment", details={key: payment.get(key) for key in PAYMENT_AUDIT_FIELDS})
    return payment
