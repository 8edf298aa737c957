"""Credits without a dispute from the console (issue 17): goodwill, a billing error or a service issue, with
a reason code and a note. Up to HANDOFF_CREDIT_APPROVAL_LIMIT the chat's owner (or a supervisor) issues it at
once; above it the request waits for a supervisor who is not its maker (maker-checker), shown as pending to
both. One filled form is one request (unique per maker and request_id) and one backend credit (its
Idempotency-Key is the request's id), so a double click, a retry or two approving tabs credit once. Every step
is audited; the customer is told once in the chat when the credit is issued."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handoff.assignments.take_payment import announce, backend_refusal, verified_customer_id
from handoff.clients.backend import BackendError
from handoff.conversations import store
from handoff.db import utcnow
from handoff.errors import ServiceError
from handoff.models import CreditRequest, StaffUser
from handoff.pubsub import QUEUE_CHANNEL
from handoff.specialists import work_access
from handoff.specialists.staff import Staff
from handoff.vocabulary import StaffRole

if TYPE_CHECKING:
    from handoff.context import Services

ISSUED, PENDING, REJECTED = "issued", "pending_approval", "rejected"
REASON_WORDS = {"goodwill": "a goodwill credit", "billing_error": "a correction of a billing error",
                "service_issue": "a credit for a service issue"}


def _person(user: StaffUser | None) -> dict[str, str] | None:
    return {"username": user.username, "display_name": user.display_name} if user else None


def credit_out(session: Session, row: CreditRequest) -> dict[str, Any]:
    maker = session.get(StaffUser, row.requested_by_id)
    checker = session.get(StaffUser, row.decided_by_id) if row.decided_by_id else None
    return {"id": row.id, "conversation_id": row.conversation_id, "customer_id": row.customer_id,
            "amount": f"{row.amount:.2f}", "reason_code": row.reason_code, "note": row.note,
            "invoice_number": row.invoice_number, "status": row.status, "requested_by": _person(maker),
            "decided_by": _person(checker), "decision_note": row.decision_note,
            "backend_credit_id": row.backend_credit_id, "created_at": row.created_at.isoformat(),
            "decided_at": row.decided_at.isoformat() if row.decided_at else None}


def credits_of(session: Session, *, conversation_id: str, staff: Staff) -> list[dict[str, Any]] | None:
    """The conversation's credit requests, newest first; None when their work does not need the chat."""
    conversation = store.get_conversation(session, conversation_id=conversation_id)
    if work_access.reason_to_see(session, conversation=conversation, staff=staff) is None:
        return None
    rows = session.scalars(select(CreditRequest).where(CreditRequest.conversation_id == conversation_id)
                           .order_by(CreditRequest.id.desc()))
    return [credit_out(session, row) for row in rows]


def pending(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(CreditRequest).where(CreditRequest.status == PENDING)
                           .order_by(CreditRequest.id))
    return [credit_out(session, row) for row in rows]


def _record_request(session: Session, *, conversation_id: str, customer_id: int, staff: Staff,
                    amount: Decimal, reason_code: str, note: str, invoice_number: str | None, request_id: str,
                    limit: Decimal) -> tuple[dict[str, Any], bool]:
    """(the request, whether it was made now); the same maker's request_id again answers the first one."""
    existing = session.scalars(select(CreditRequest).where(CreditRequest.requested_by_id == staff.id,
                                                           CreditRequest.request_id == request_id)).first()
    if existing is not None:
        return credit_out(session, existing), False
    needs_approval = amount > limit
    row = CreditRequest(conversation_id=conversation_id, customer_id=customer_id, amount=amount,
                        reason_code=reason_code, note=note, invoice_number=invoice_number,
                        requested_by_id=staff.id, request_id=request_id,
                        status=PENDING if needs_approval else ISSUED, created_at=utcnow())
    session.add(row)
    session.flush()
    store.audit(session, actor=staff.actor, action="credit_requested", target=conversation_id,
                details={"credit_request_id": row.id, "amount": f"{amount:.2f}", "reason_code": reason_code,
                         "needs_approval": needs_approval, "limit": f"{limit:.2f}"})
    return credit_out(session, row), True


def _mark_issued(session: Session, *, credit_id: int, staff: Staff, backend_credit: dict[str, Any],
                 approved: bool) -> dict[str, Any]:
    row = session.get(CreditRequest, credit_id)
    assert row is not None
    first = row.backend_credit_id is None
    row.backend_credit_id = backend_credit.get("id")
    row.invoice_number = backend_credit.get("invoice_number") or row.invoice_number
    if approved and first:
        row.status, row.decided_by_id, row.decided_at = ISSUED, staff.id, utcnow()
    if first:
        store.audit(session, actor=staff.actor, action="credit_issued", target=row.conversation_id,
                    details={"credit_request_id": row.id, "backend_credit_id": row.backend_credit_id,
                             "amount": f"{row.amount:.2f}", "reason_code": row.reason_code,
                             "approved": approved})
    return credit_out(session, row)


def _mark_refused(session: Session, *, credit_id: int, staff: Staff, message: str) -> None:
    row = session.get(CreditRequest, credit_id)
    if row is None or row.backend_credit_id is not None:
        return
    row.status, row.decided_at, row.decision_note = REJECTED, utcnow(), f"Refused by billing: {message}"
    store.audit(session, actor=staff.actor, action="credit_refused_by_backend", target=row.conversation_id,
                details={"credit_request_id": row.id, "message": message})


async def _latest_invoice(*, services: Services, customer_id: int, actor: str) -> str:
    try:
        invoices = await services.backend.list_invoices(customer_id=customer_id, actor=actor)
    except BackendError as error:
        raise backend_refusal(error) from None
    if not invoices:
        raise ServiceError(status_code=409, code="no_invoice",
                           message="This account has no invoice to put a credit on.")
    return str(invoices[0]["number"])


async def _issue(*, services: Services, credit: dict[str, Any], staff: Staff,
                 approved: bool) -> dict[str, Any]:
    """The backend credit for the request (its key is the request's id: issued once however often called)."""
    try:
        made = await services.backend.create_credit(
            customer_id=credit["customer_id"], amount=credit["amount"],
            reason=f"{credit['reason_code']}: {credit['note']}", invoice_number=credit["invoice_number"],
            idempotency_key=f"handoff-credit-{credit['id']}", actor=staff.actor)
    except BackendError as error:
        if error.status_code < 500:  # refused for good (e.g. the invoice is not this customer's)
            await services.run(_mark_refused, credit_id=credit["id"], staff=staff, message=error.message)
            await _changed(services=services, conversation_id=credit["conversation_id"])
        raise backend_refusal(error) from None
    issued = await services.run(_mark_issued, credit_id=credit["id"], staff=staff, backend_credit=made,
                                approved=approved)
    await announce(services=services, conversation_id=credit["conversation_id"], staff=staff,
                   event_id=f"console-credit-{credit['id']}",
                   text=(f"A credit of ${issued['amount']} was applied to your account "
                         f"({REASON_WORDS.get(issued['reason_code'], 'a credit')})."),
                   action="tell_customer_credit", details={"credit_request_id": credit["id"]})
    return issued


async def _changed(*, services: Services, conversation_id: str) -> None:
    """Consoles refresh the chat's credits and, for supervisors, the approvals waiting."""
    await services.pubsub.publish(QUEUE_CHANNEL, {"kind": "credits_changed",
                                                  "conversation_id": conversation_id})


async def request_credit(*, services: Services, conversation_id: str, staff: Staff, amount: str,
                         reason_code: str, note: str, invoice_number: str | None,
                         request_id: str) -> dict[str, Any]:
    customer_id = await verified_customer_id(services=services, conversation_id=conversation_id, staff=staff)
    if invoice_number is None:
        invoice_number = await _latest_invoice(services=services, customer_id=customer_id, actor=staff.actor)
    credit, created = await services.run(
        _record_request, conversation_id=conversation_id, customer_id=customer_id, staff=staff,
        amount=Decimal(amount), reason_code=reason_code, note=note.strip(), invoice_number=invoice_number,
        request_id=request_id, limit=services.settings.credit_approval_limit)
    if credit["status"] == ISSUED:
        credit = await _issue(services=services, credit=credit, staff=staff, approved=False)
    if created:
        await _changed(services=services, conversation_id=conversation_id)
    return credit


def _decide(session: Session, *, credit_id: int, staff: Staff, approve: bool,
            note: str | None) -> tuple[dict[str, Any], bool]:
    """Claim the decision (a conditional UPDATE: two approving tabs, one decision); (request, decided now)."""
    row = session.get(CreditRequest, credit_id)
    if row is None:
        raise ServiceError(status_code=404, code="credit_not_found", message="No such credit request.")
    if row.requested_by_id == staff.id:
        store.audit(session, actor=staff.actor, action="credit_approval_refused", target=row.conversation_id,
                    details={"credit_request_id": row.id, "reason": "own_credit"})
        return credit_out(session, row), False
    if approve and row.status == ISSUED and row.decided_by_id == staff.id and row.backend_credit_id is None:
        return credit_out(session, row), True  # this supervisor approved; the backend call did not finish
    if row.status != PENDING:
        raise ServiceError(status_code=409, code="already_decided",
                           message=f"This credit request is already {row.status.replace('_', ' ')}.")
    claimed = session.execute(update(CreditRequest).where(CreditRequest.id == credit_id,
                                                          CreditRequest.status == PENDING)
                              .values(status=ISSUED if approve else REJECTED, decided_by_id=staff.id,
                                      decided_at=utcnow(), decision_note=note))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ServiceError(status_code=409, code="already_decided",
                           message="Another supervisor decided this credit request first.")
    session.refresh(row)
    store.audit(session, actor=staff.actor, action="credit_approved" if approve else "credit_rejected",
                target=row.conversation_id,
                details={"credit_request_id": row.id, "amount": f"{row.amount:.2f}", "note": note})
    return credit_out(session, row), True


async def decide(*, services: Services, credit_id: int, staff: Staff, approve: bool,
                 note: str | None = None) -> dict[str, Any]:
    """A supervisor other than the maker approves (the credit is issued with them as X-Actor) or rejects."""
    if staff.role != StaffRole.SUPERVISOR:
        raise ServiceError(status_code=403, code="forbidden", message="Only supervisors approve credits.")
    credit, allowed = await services.run(_decide, credit_id=credit_id, staff=staff, approve=approve,
                                         note=note.strip() if note else None)
    if not allowed:
        raise ServiceError(status_code=403, code="own_credit",
                           message="Another supervisor must approve a credit you asked for.")
    if approve:
        credit = await _issue(services=services, credit=credit, staff=staff, approved=True)
    await _changed(services=services, conversation_id=credit["conversation_id"])
    return credit
