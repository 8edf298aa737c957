"""Typed client of the backend API (docs/contracts.md, "Backend HTTP API")."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from actions.clients.base import JsonApiClient
from actions.clients.errors import BackendUnavailable
from actions.config import ActionSettings, get_settings

Id = int | str


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VerificationResult(ContractModel):
    verified: bool
    customer_id: int | None = None
    first_name: str | None = None
    account_number: str | None = None
    attempts_remaining: int | None = None


class Account(ContractModel):
    account_number: str
    status: str | None = None
    currency: str = "USD"
    autopay: bool = False
    payment_method_masked: str | None = None


class Customer(ContractModel):
    customer_id: int
    first_name: str
    last_name: str | None = None
    email: str | None = None
    account: Account


class LastPayment(ContractModel):
    amount: Decimal
    received_date: date | None = None
    method: str | None = None
    status: str


class Balance(ContractModel):
    account_number: str
    currency: str = "USD"
    total_due: Decimal
    past_due: Decimal = Decimal("0.00")
    next_due_date: date | None = None
    next_due_amount: Decimal | None = None
    pending_payments: Decimal = Decimal("0.00")  # additive backend field: not yet subtracted from total_due
    last_payment: LastPayment | None = None

    @property
    def amount_due_next(self) -> Decimal:
        """The next amount due; the whole balance when the backend names none."""
        return self.next_due_amount if self.next_due_amount is not None else self.total_due


class InvoiceSummary(ContractModel):
    number: str
    period_start: date | None = None
    period_end: date | None = None
    issue_date: date | None = None
    due_date: date | None = None
    status: str | None = None
    total: Decimal
    amount_due: Decimal | None = None
    currency: str = "USD"


class LineItem(ContractModel):
    id: Id
    description: str
    charge_type: str
    amount: Decimal
    quantity: Decimal | None = None
    unit_rate: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    policy_rule: str | None = None


class Invoice(InvoiceSummary):
    line_items: list[LineItem] = Field(default_factory=list)


class MatchedLineItem(LineItem):
    invoice_number: str


class Explanation(ContractModel):
    line_item: LineItem
    invoice_number: str
    summary: str
    computation: str | None = None
    policy: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


class BillChange(ContractModel):
    kind: str
    description: str
    charge_type: str | None = None
    previous_amount: Decimal | None = None
    current_amount: Decimal | None = None
    difference: Decimal
    explanation: str | None = None


class BillComparison(ContractModel):
    invoice_number: str
    previous_invoice_number: str | None = None
    current_total: Decimal
    previous_total: Decimal | None = None
    difference: Decimal = Decimal("0.00")
    changes: list[BillChange] = Field(default_factory=list)


class Payment(ContractModel):
    id: Id
    amount: Decimal
    method: str | None = None
    received_date: date | None = None
    status: str
    failure_reason: str | None = None


class PaymentMethodOnFile(ContractModel):
    kind: str
    masked: str | None = None


class WayToPay(ContractModel):
    kind: str
    instructions: str


class PaymentAlert(ContractModel):
    """How the account cannot pay (issue 16): `method_expired`, `no_payment_method`, `autopay_failed`."""

    code: str
    message: str


class PaymentMethods(ContractModel):
    autopay: bool = False
    on_file: list[PaymentMethodOnFile] = Field(default_factory=list)
    ways_to_pay: list[WayToPay] = Field(default_factory=list)
    alerts: list[PaymentAlert] = Field(default_factory=list)


class Dispute(ContractModel):
    id: Id
    customer_id: int | None = None
    line_item_id: Id | None = None
    invoice_number: str | None = None
    amount: Decimal | None = None
    reason: str | None = None
    status: str
    resolution_note: str | None = None
    conversation_id: str | None = None
    created_at: datetime | None = None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class BackendApiClient(JsonApiClient):
    """The billing backend's API (BACKEND_URL, BACKEND_API_TOKEN); one subclass per area of the contract."""

    unavailable_error = BackendUnavailable
    service_name = "backend"

    def __init__(
        self, *, settings: ActionSettings | None = None, http: httpx.AsyncClient | None = None
    ) -> None:
        settings = settings or get_settings()
        super().__init__(base_url=settings.backend_url, api_token=settings.backend_api_token, http=http)


class BillingClient(BackendApiClient):

    async def verify(
        self, *, account_number: str, postal_code: str | None = None, phone_last4: str | None = None
    ) -> VerificationResult:
        body: dict[str, Any] = {"account_number": account_number}
        if postal_code is not None:
            body["postal_code"] = postal_code
        else:
            body["phone_last4"] = phone_last4
        return self.parse(VerificationResult, await self.request("POST", "/api/v1/verifications", json=body))

    async def get_customer(self, *, customer_id: int) -> Customer:
        return self.parse(Customer, await self.request("GET", f"/api/v1/customers/{customer_id}"))

    async def get_balance(self, *, customer_id: int) -> Balance:
        return self.parse(Balance, await self.request("GET", f"/api/v1/customers/{customer_id}/balance"))

    async def list_invoices(self, *, customer_id: int) -> list[InvoiceSummary]:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/invoices")
        return self.parse(list[InvoiceSummary], data)

    async def get_invoice(self, *, customer_id: int, invoice_number: str) -> Invoice:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/invoices/{invoice_number}")
        return self.parse(Invoice, data)

    async def find_line_items(
        self,
        *,
        customer_id: int,
        amount: Decimal | None = None,
        on_date: date | None = None,
        name: str | None = None,
        invoice_number: str | None = None,
    ) -> list[MatchedLineItem]:
        params = {
            "amount": _money(amount),
            "date": on_date.isoformat() if on_date else None,
            "name": name,
            "invoice": invoice_number,
        }
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/line-items", params=params)
        return self.parse(list[MatchedLineItem], data)

    async def explain_line_item(self, *, customer_id: int, line_item_id: Id) -> Explanation:
        data = await self.request(
            "GET", f"/api/v1/customers/{customer_id}/line-items/{line_item_id}/explanation"
        )
        return self.parse(Explanation, data)

    async def compare_bills(self, *, customer_id: int, invoice_number: str | None = None) -> BillComparison:
        data = await self.request(
            "GET", f"/api/v1/customers/{customer_id}/bill-comparison", params={"invoice": invoice_number}
        )
        return self.parse(BillComparison, data)

    async def list_payments(
        self, *, customer_id: int, on_date: date | None = None, amount: Decimal | None = None
    ) -> list[Payment]:
        params = {"date": on_date.isoformat() if on_date else None, "amount": _money(amount)}
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/payments", params=params)
        return self.parse(list[Payment], data)

    async def get_payment_methods(self, *, customer_id: int) -> PaymentMethods:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/payment-methods")
        return self.parse(PaymentMethods, data)

    async def open_dispute(
        self,
        *,
        customer_id: int,
        line_item_id: Id,
        reason: str,
        amount: Decimal | None = None,
        conversation_id: str | None = None,
    ) -> Dispute:
        body: dict[str, Any] = {"line_item_id": line_item_id, "reason": reason}
        if amount is not None:
            body["amount"] = _money(amount)
        if conversation_id is not None:
            body["conversation_id"] = conversation_id
        data = await self.request("POST", f"/api/v1/customers/{customer_id}/disputes", json=body)
        return self.parse(Dispute, data)

    async def list_disputes(self, *, customer_id: int) -> list[Dispute]:
        data = await self.request("GET", f"/api/v1/customers/{customer_id}/disputes")
        return self.parse(list[Dispute], data)
