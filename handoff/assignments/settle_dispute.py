"""The owner accepts (with a credit) or rejects the chat's dispute in the backend; retries never pay twice."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from handoff.assignments.ownership import load_owned
from handoff.assignments.take_payment import announce
from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.conversations.escalation import parse_money
from handoff.errors import ServiceError
from handoff.models import Conversation
from handoff.specialists.staff import Staff
from handoff.vocabulary import DisputeDecision

if TYPE_CHECKING:
    from handoff.context import Services


def _credit(*, decision: str, credit_amount: str | None, conversation: Conversation) -> str | None:
    """The credit to issue ("12.50"): the one typed, else the disputed amount; None when rejecting."""
    if decision != DisputeDecision.ACCEPTED:
        return None
    parsed = parse_money(credit_amount) if credit_amount not in (None, "") else conversation.dispute_amount
    if parsed is None or parsed <= 0:
        raise ServiceError(status_code=422, code="bad_amount",
                           message="Give the credit as an amount like 12.50.")
    return f"{parsed:.2f}"


async def perform(*, services: Services, conversation_id: str, staff: Staff, decision: str, note: str,
                  credit_amount: str | None) -> dict[str, Any]:
    """The settled dispute as the backend answers it (with its credit when accepted)."""
    conversation = await load_owned(services=services, conversation_id=conversation_id, staff=staff)
    if decision not in set(DisputeDecision):
        raise ServiceError(status_code=422, code="bad_decision",
                           message="decision must be accepted or rejected.")
    if not conversation.dispute_id:
        raise ServiceError(status_code=409, code="no_dispute", message="This chat has no dispute to settle.")
    amount = _credit(decision=decision, credit_amount=credit_amount, conversation=conversation)
    if decision == DisputeDecision.REJECTED and not note.strip():
        raise ServiceError(status_code=422, code="note_required", message="Explain the rejection in a note.")
    # Deterministic key: a double click or a retry cannot credit twice.
    key = f"handoff-{conversation_id}-dispute-{conversation.dispute_id}-{decision}"
    try:
        dispute = await services.backend.settle_dispute(
            dispute_id=conversation.dispute_id, decision=decision,
            note=note.strip() or "Accepted by billing.",
            credit_amount=amount, idempotency_key=key, actor=staff.actor)
    except BackendError as error:
        raise ServiceError(status_code=502 if error.status_code >= 500 else error.status_code,
                           code=error.code, message=error.message) from None
    await services.run(store.audit, actor=staff.actor, action=f"dispute_{decision}", target=conversation_id,
                       details={"dispute_id": conversation.dispute_id, "credit_amount": amount,
                                "idempotency_key": key})
    if amount is not None:  # the customer is told the credit was applied, once (a repeat is the same event)
        await announce(services=services, conversation_id=conversation_id, staff=staff,
                       event_id=f"dispute-{conversation.dispute_id}-accepted",
                       text=(f"Your dispute {conversation.dispute_id} was accepted: a credit of "
                             f"${Decimal(amount):,.2f} was applied to your account."),
                       action="tell_customer_dispute_credit",
                       details={"dispute_id": conversation.dispute_id, "credit_amount": amount})
    return dispute
