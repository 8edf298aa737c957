"""Typed client of the backend's payment routes (docs/contracts.md, "Payments, payment methods,
arrangements").

Every write carries `X-Actor: bot:<conversation>` and an `Idempotency-Key` chosen by the caller, so a retried
or repeated call changes nothing twice. Refusals keep the backend's error code (`method_expired`,
`amount_above_balance`, `outside_policy` with its reasons, ...): the bot answers each one differently.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import Field

from actions.clients.base import _error_body
from actions.clients.billing import BackendApiClient, ContractModel, PaymentAlert
from actions.clients.errors import BackendUnavailable, ServiceError


class PaymentRefused(ServiceError):
    """409/422 on a payment route: the backend's error code and sentence (`outside_policy`: the reasons)."""

    def __init__(self, code: str, message: str, *, reasons: list["PolicyReason"] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reasons = reasons or []


class ProcessorUnavailable(BackendUnavailable):
    """503 `processor_unavailable`: nothing was recorded as paid; the same key may be repeated later."""


class PolicyReason(ContractModel):
    code: str
    message: str


class SavedMethod(ContractModel):
    id: int | None = None
    kind: str
    brand: str | None = None
    last4: str | None = None
    expires_on: date | None = None
    masked: str | None = None
    is_default: bool = False
    expired: bool = False

    @property
    def label(self) -> str:
        """ "Visa ending 1111": what the customer is told (the masked text without the expiry)."""
        if self.brand and self.last4:
            return f"{self.brand} ending {self.last4}"
        return (self.masked or self.kind).split(" (")[0]


class LastAutopay(ContractModel):
    amount: Decimal
    received_date: date | None = None
    status: str
    failure_reason: str | None = None


class PaymentSetup(ContractModel):
    """GET payment-methods as extended for issue 16."""

    autopay: bool = False
    paperless: bool = False
    on_file: list[SavedMethod] = Field(default_factory=list)
    next_autopay_date: date | None = None
    last_autopay: LastAutopay | None = None
    alerts: list[PaymentAlert] = Field(default_factory=list)

    @property
    def default_method(self) -> SavedMethod | None:
        return next((m for m in self.on_file if m.is_default), self.on_file[0] if self.on_file else None)


class Quote(ContractModel):
    quote_id: str
    amount: Decimal
    currency: str = "USD"
    method: SavedMethod
    total_due: Decimal
    past_due: Decimal = Decimal("0.00")
    total_due_after: Decimal
    expires_at: datetime | None = None
    status: str = "open"
    summary: str | None = None


class ChatPayment(ContractModel):
    id: int | str
    amount: Decimal
    currency: str = "USD"
    status: str
    method: str | None = None
    received_date: date | None = None
    expected_post_date: date | None = None
    failure_reason: str | None = None
    failure_message: str | None = None
    quote_id: str | None = None
    total_due: Decimal
    past_due: Decimal = Decimal("0.00")
    pending_payments: Decimal = Decimal("0.00")


class SettingResult(ContractModel):
    autopay: bool | None = None
    paperless: bool | None = None
    next_autopay_date: date | None = None
    next_autopay_amount: Decimal | None = None
    method: str | None = None
    email: str | None = None
    message: str | None = None


class PromiseTerms(ContractModel):
    eligible: bool
    reasons: list[PolicyReason] = Field(default_factory=list)
    earliest_date: date | None = None
    latest_date: date | None = None
    minimum_amount: Decimal | None = None
    maximum_amount: Decimal | None = None


class InstalmentDue(ContractModel):
    number: int
    due_date: date
    amount: Decimal


class InstalmentChoice(ContractModel):
    instalments: int
    amount_each: Decimal
    schedule: list[InstalmentDue] = Field(default_factory=list)


class PlanTerms(ContractModel):
    eligible: bool
    reasons: list[PolicyReason] = Field(default_factory=list)
    amount: Decimal | None = None
    choices: list[InstalmentChoice] = Field(default_factory=list)


class WaiverTerms(ContractModel):
    eligible: bool
    reasons: list[PolicyReason] = Field(default_factory=list)
    line_item_id: int | None = None
    invoice_number: str | None = None
    amount: Decimal | None = None


class ArrangementOptions(ContractModel):
    currency: str = "USD"
    total_due: Decimal
    past_due: Decimal = Decimal("0.00")
    oldest_unpaid_due_date: date | None = None
    active: list[dict[str, Any]] = Field(default_factory=list)
    promise_to_pay: PromiseTerms
    instalment_plan: PlanTerms
    late_fee_waiver: WaiverTerms


class Arrangement(ContractModel):
    id: int | str
    kind: str
    status: str
    amount: Decimal | None = None
    pay_by: date | None = None
    instalments: list[dict[str, Any]] = Field(default_factory=list)


class WaiverResult(ContractModel):
    arrangement: Arrangement
    total_due: Decimal


class PaymentPageLink(ContractModel):
    url: str
    expires_at: datetime | None = None


def money_text(value: Decimal) -> str:
    return f"{value:.2f}"


class PaymentsClient(BackendApiClient):
    """Payments, methods, autopay/paperless and arrangements."""

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        status = response.status_code
        if status in (409, 422, 503):
            error = _error_body(response)
            code = str(error.get("code") or "")
            if status == 503 and code == "processor_unavailable":
                raise ProcessorUnavailable(error.get("message") or "processor unavailable")
            if status in (409, 422) and code:
                reasons = [
                    PolicyReason.model_validate(r) for r in error.get("reasons") or [] if isinstance(r, dict)
                ]
                raise PaymentRefused(code, str(error.get("message") or code), reasons=reasons)
        return super()._decode(response, method, path)

    async def _write(
        self, method: str, path: str, *, json: dict[str, Any] | None, actor: str, key: str
    ) -> Any:
        headers = {"X-Actor": actor, "Idempotency-Key": key}
        return await self.request(method, f"/api/v1/customers/{path}", json=json, headers=headers)

    async def get_payment_setup(self, *, customer_id: int) -> PaymentSetup:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/payment-methods")
        return self.parse(PaymentSetup, data)

    async def create_quote(
        self,
        *,
        customer_id: int,
        amount_choice: str,
        amount: Decimal | None,
        actor: str,
        idempotency_key: str,
    ) -> Quote:
        body: dict[str, Any] = {"amount_choice": amount_choice}
        if amount is not None:
            body["amount"] = money_text(amount)
        data = await self._write(
            "POST", f"{customer_id}/payment-quotes", json=body, actor=actor, key=idempotency_key
        )
        return self.parse(Quote, data)

    async def confirm_quote(
        self, *, customer_id: int, quote_id: str, actor: str, idempotency_key: str
    ) -> ChatPayment:
        data = await self._write(
            "POST",
            f"{customer_id}/payment-quotes/{quote_id}/confirm",
            json=None,
            actor=actor,
            key=idempotency_key,
        )
        return self.parse(ChatPayment, data)

    async def switch_setting(
        self, *, customer_id: int, setting: str, enabled: bool, actor: str, idempotency_key: str
    ) -> SettingResult:
        """`setting`: "autopay" or "paperless" (PUT /autopay, PUT /paperless)."""
        data = await self._write(
            "PUT", f"{customer_id}/{setting}", json={"enabled": enabled}, actor=actor, key=idempotency_key
        )
        return self.parse(SettingResult, data)

    async def arrangement_options(self, *, customer_id: int) -> ArrangementOptions:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/arrangement-options")
        return self.parse(ArrangementOptions, data)

    async def create_promise(
        self,
        *,
        customer_id: int,
        amount: Decimal,
        pay_by: date,
        conversation_id: str,
        actor: str,
        idempotency_key: str,
    ) -> Arrangement:
        body = {
            "kind": "promise_to_pay",
            "amount": money_text(amount),
            "pay_by": pay_by.isoformat(),
            "conversation_id": conversation_id,
        }
        data = await self._write(
            "POST", f"{customer_id}/arrangements", json=body, actor=actor, key=idempotency_key
        )
        return self.parse(Arrangement, data)

    async def create_instalment_plan(
        self, *, customer_id: int, instalments: int, conversation_id: str, actor: str, idempotency_key: str
    ) -> Arrangement:
        body = {"kind": "instalment_plan", "instalments": instalments, "conversation_id": conversation_id}
        data = await self._write(
            "POST", f"{customer_id}/arrangements", json=body, actor=actor, key=idempotency_key
        )
        return self.parse(Arrangement, data)

    async def waive_late_fee(
        self, *, customer_id: int, line_item_id: int | None, actor: str, idempotency_key: str
    ) -> WaiverResult:
        body = {"line_item_id": line_item_id} if line_item_id is not None else {}
        data = await self._write(
            "POST", f"{customer_id}/late-fee-waivers", json=body, actor=actor, key=idempotency_key
        )
        return self.parse(WaiverResult, data)

    async def create_payment_page_link(
        self, *, customer_id: int, purpose: str, conversation_id: str, actor: str, idempotency_key: str
    ) -> PaymentPageLink:
        """`purpose`: "update_method" (save a card, optionally pay and turn on autopay) or "pay" (pay with a
        new card). The page reports its outcome to the conversation through the handoff service."""
        body = {"purpose": purpose, "conversation_id": conversation_id}
        data = await self._write(
            "POST", f"{customer_id}/payment-page-links", json=body, actor=actor, key=idempotency_key
        )
        return self.parse(PaymentPageLink, data)
