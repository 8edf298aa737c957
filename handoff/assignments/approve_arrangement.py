"""The chat's owner sets up a payment arrangement for the customer: within policy like the bot, or approved
outside it (`override_policy` with a note saying why). The backend checks the policy and audits the approval
with X-Actor specialist:<username>; it is audited here too and the customer sees it in the chat once."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from handoff.assignments.take_payment import announce, backend_refusal, verified_customer_id
from handoff.clients.backend import BackendError
from handoff.errors import ServiceError
from handoff.specialists.staff import Staff

if TYPE_CHECKING:
    from handoff.context import Services


def request_body(*, conversation_id: str, kind: str, amount: str | None, pay_by: date | None,
                 instalments: int | None, override_policy: bool, note: str) -> dict[str, Any]:
    """The backend's ArrangementCreate for this chat; the terms a kind needs are required here already."""
    if override_policy and not note.strip():
        raise ServiceError(status_code=422, code="note_required",
                           message="Say in a note why this arrangement is approved outside policy.")
    body: dict[str, Any] = {"kind": kind, "conversation_id": conversation_id,
                            "override_policy": override_policy}
    if note.strip():
        body["note"] = note.strip()
    if kind == "promise_to_pay":
        if amount is None or pay_by is None:
            raise ServiceError(status_code=422, code="terms_required",
                               message="A promise to pay needs an amount and a date.")
        return body | {"amount": amount, "pay_by": pay_by.isoformat()}
    if instalments is None:
        raise ServiceError(status_code=422, code="terms_required",
                           message="An instalment plan needs the number of instalments.")
    return body | {"instalments": instalments}


def _arrangement_text(arrangement: dict[str, Any], *, staff: Staff) -> str:
    if arrangement.get("kind") == "instalment_plan":
        plan = arrangement.get("instalments") or []
        terms = f"an instalment plan of {len(plan)} payments" + (
            f", the first ${plan[0]['amount']} due {plan[0]['due_date']}" if plan else "")
    else:
        terms = f"a promise to pay ${arrangement.get('amount')} by {arrangement.get('pay_by')}"
    return f"{staff.display_name} set up {terms}. Late fees are not added while it is kept."


async def perform(*, services: Services, conversation_id: str, staff: Staff, body: dict[str, Any],
                  request_id: str) -> dict[str, Any]:
    """`body` from request_body(); the backend's Arrangement. 422 outside_policy (with the reasons in the
    message) when outside policy and not overridden."""
    customer_id = await verified_customer_id(services=services, conversation_id=conversation_id, staff=staff)
    try:
        arrangement = await services.backend.create_arrangement(
            customer_id=customer_id, body=body, actor=staff.actor,
            idempotency_key=f"handoff-{conversation_id}-arrangement-{request_id}")
    except BackendError as error:
        raise backend_refusal(error) from None
    details = {key: arrangement.get(key) for key in ("id", "kind", "approved_outside_policy", "note")}
    await announce(services=services, conversation_id=conversation_id, staff=staff,
                   event_id=f"specialist-arrangement-{arrangement.get('id')}",
                   text=_arrangement_text(arrangement, staff=staff), action="approve_arrangement",
                   details=details)
    return arrangement
