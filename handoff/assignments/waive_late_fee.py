"""The chat's owner applies the one-time late-fee waiver for the customer (issue 16): the same policy as
the bot's offer (backend/arrangements/policy.py decides; outside it the backend refuses with its reasons),
a credit of the fee issued by specialist:<username>, audited here and in the backend; the customer sees it
in the chat once. Idempotent: the backend's Idempotency-Key comes from the console action's request_id (a
double click or a retry waives once), and the backend credits a fee at most once whatever the key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff.assignments.take_payment import announce, backend_refusal, verified_customer_id
from handoff.clients.backend import BackendError
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services


def _waiver_text(result: dict[str, Any], *, staff: Staff) -> str:
    credit = result.get("credit") or {}
    return (f"{staff.display_name} waived the ${credit.get('amount')} late fee as a one-time courtesy "
            f"(a credit on your account). You now owe ${result.get('total_due')}.")


async def perform(*, services: Services, conversation_id: str, staff: Staff, line_item_id: int | None,
                  request_id: str) -> dict[str, Any]:
    """The backend's answer {"arrangement", "credit", "total_due"}; 422 outside_policy (its reasons in the
    message) when the account does not qualify."""
    customer_id = await verified_customer_id(services=services, conversation_id=conversation_id, staff=staff)
    try:
        result = await services.backend.waive_late_fee(
            customer_id=customer_id, line_item_id=line_item_id, actor=staff.actor,
            idempotency_key=f"handoff-{conversation_id}-waiver-{request_id}")
    except BackendError as error:
        raise backend_refusal(error) from None
    arrangement, credit = result.get("arrangement") or {}, result.get("credit") or {}
    await announce(services=services, conversation_id=conversation_id, staff=staff,
                   event_id=f"specialist-waiver-{arrangement.get('id')}",
                   text=_waiver_text(result, staff=staff), action="waive_late_fee",
                   details={"arrangement_id": arrangement.get("id"), "credit_id": credit.get("id"),
                            "line_item_id": arrangement.get("line_item_id"), "amount": credit.get("amount")})
    return result
