"""The customer's account beside a chat: balance, recent invoices with line items, payments, disputes,
payment methods (with autopay and alerts), payment arrangements and the account check's findings
(issue 18).

Fetched from the backend with `X-Actor: <role>:<username>` (the backend audits it) and audited here as
`view_account`. Each section stands alone: one the backend cannot give does not hide the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from handoff.assignments.ownership import load_verified
from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.conversations import store
from handoff.specialists.staff import Staff

RECENT_INVOICES_IN_DETAIL = 3


async def _section(call: Awaitable[Any]) -> dict[str, Any]:
    try:
        return {"ok": True, "data": await call}
    except BackendError as error:
        return {"ok": False, "error": {"code": error.code, "message": error.message}}


async def account_snapshot(*, service: Services, conversation_id: str, staff: Staff) -> dict[str, Any]:
    refusal = "This customer is not verified, so there is no account to show."
    customer_id = await load_verified(services=service, conversation_id=conversation_id, staff=staff,
                                      refusal=refusal)
    actor, backend = staff.actor, service.backend
    await service.db.run(store.audit, actor=actor, action="view_account", target=conversation_id,
                         details={"customer_id": customer_id})
    customer, balance, invoices, payments, disputes, methods, arrangements, findings = await asyncio.gather(
        _section(backend.get_customer(customer_id=customer_id, actor=actor)),
        _section(backend.get_balance(customer_id=customer_id, actor=actor)),
        _section(backend.list_invoices(customer_id=customer_id, actor=actor)),
        _section(backend.list_payments(customer_id=customer_id, actor=actor)),
        _section(backend.list_disputes(customer_id=customer_id, actor=actor)),
        _section(backend.get_payment_methods(customer_id=customer_id, actor=actor)),
        _section(backend.list_arrangements(customer_id=customer_id, actor=actor)),
        _section(backend.list_findings(customer_id=customer_id, actor=actor)),
    )
    if invoices["ok"]:
        recent = (invoices["data"] or [])[:RECENT_INVOICES_IN_DETAIL]
        detailed = await asyncio.gather(*(_section(backend.get_invoice(
            customer_id=customer_id, number=invoice["number"], actor=actor)) for invoice in recent))
        invoices["data"] = [detail["data"] if detail["ok"] else invoice
                            for detail, invoice in zip(detailed, recent, strict=True)]
    return {"customer_id": customer_id, "customer": customer, "balance": balance, "invoices": invoices,
            "payments": payments, "disputes": disputes, "payment_methods": methods,
            "arrangements": arrangements, "findings": findings}
