"""Typed client of the backend's account check (docs/contracts.md, "Account check": findings and fixes).

A fix carries `X-Actor: bot:<conversation>` and an `Idempotency-Key` derived from the conversation and the
finding, so a resent "yes" or a second tab credits once. Outside what the bot may settle the backend answers
409 `specialist_required` with the reasons and the summary for the handover: `FixNeedsSpecialist`.
"""

from decimal import Decimal
from typing import Any

import httpx
from pydantic import Field

from actions.clients.base import _error_body
from actions.clients.billing import BackendApiClient, ContractModel
from actions.clients.errors import ServiceError


class FindingReason(ContractModel):
    code: str
    message: str


class Finding(ContractModel):
    id: str
    kind: str
    summary: str
    confidence: float
    amount: Decimal
    invoice_number: str
    line_item_id: int | None = None
    bot_may_fix: bool
    handover_reasons: list[FindingReason] = Field(default_factory=list)


class Findings(ContractModel):
    customer_id: int
    currency: str
    findings: list[Finding]


class FixedCredit(ContractModel):
    id: int
    amount: Decimal


class FixedDispute(ContractModel):
    id: int
    status: str


class Fix(ContractModel):
    finding_id: str
    kind: str
    status: str
    dispute: FixedDispute
    credit: FixedCredit
    total_due: Decimal
    currency: str
    summary: str


class FixNeedsSpecialist(ServiceError):
    """409 `specialist_required`: the bot hands over with `summary` as the context package's summary."""

    def __init__(self, message: str, *, summary: str, reasons: list[FindingReason]) -> None:
        super().__init__(message)
        self.summary = summary
        self.reasons = reasons


def fix_key(*, conversation_id: str, finding_id: str) -> str:
    """One key per conversation and finding (Idempotency-Key: 8-128 of A-Za-z0-9._:-)."""
    safe = "".join(char if char.isalnum() or char in "._:-" else "-" for char in conversation_id)[:80]
    return f"fix:{safe}:{finding_id}"


class AccountCheckClient(BackendApiClient):
    """The account check's findings and fixes."""

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        if response.status_code == 409:
            error = _error_body(response)
            if error.get("code") == "specialist_required":
                raise FixNeedsSpecialist(
                    str(error.get("message") or "specialist required"),
                    summary=str(error.get("summary") or ""),
                    reasons=[
                        FindingReason.model_validate(r)
                        for r in error.get("reasons") or []
                        if isinstance(r, dict)
                    ],
                )
        return super()._decode(response, method, path)

    async def list_findings(self, *, customer_id: int) -> Findings:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/findings")
        return self.parse(Findings, data)

    async def fix_finding(self, *, customer_id: int, finding_id: str, conversation_id: str) -> Fix:
        data = await self.request(
            "POST",
            f"/api/v1/customers/{customer_id}/findings/{finding_id}/fix",
            json={"conversation_id": conversation_id[:64]},
            headers={
                "X-Actor": f"bot:{conversation_id}",  # as the payment actions send it
                "Idempotency-Key": fix_key(conversation_id=conversation_id, finding_id=finding_id),
            },
        )
        return self.parse(Fix, data)


def proactive_offer(findings: Findings) -> Finding | None:
    """The one finding the bot mentions after verification: the first it may fix (the backend sorts them)."""
    return next((finding for finding in findings.findings if finding.bot_may_fix), None)


def offer_text(finding: Finding) -> str:
    return f"Before we start: {finding.summary} Want me to fix that?"
