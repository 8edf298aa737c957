"""The account panel's payment reminders (issue 19, "Outreach on time"): what the billing job emailed the
customer (due soon, past due, autopay failed, card expiring, promise due), with the email's status and whether
the customer saw it in the chat, as the backend lists them (docs/contracts.md, "Payment reminders"). Asked
with the specialist's `X-Actor` (the backend audits the read)."""

from __future__ import annotations

from typing import Any

from handoff.assignments.ownership import load_verified
from handoff.clients.backend import BackendError
from handoff.context import Services
from handoff.errors import ServiceError
from handoff.specialists.staff import Staff

LIMIT = 20


async def list_reminders(*, services: Services, conversation_id: str, staff: Staff) -> list[dict[str, Any]]:
    refusal = "This customer is not verified, so there are no reminders to show."
    customer_id = await load_verified(services=services, conversation_id=conversation_id, staff=staff,
                                      refusal=refusal)
    try:
        return await services.backend.list_reminders(customer_id=customer_id, unseen=False,
                                                     limit=LIMIT, actor=staff.actor)
    except BackendError as error:
        raise ServiceError(status_code=502 if error.status_code >= 500 else error.status_code,
                           code=error.code, message=error.message) from None
