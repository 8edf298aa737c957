"""In-memory stand-ins for the backend and handoff services (the actions' collaborators, not the code under
test)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.billing import (
    Account,
    Balance,
    BillChange,
    BillComparison,
    Customer,
    Dispute,
    Explanation,
    Invoice,
    InvoiceSummary,
    LastPayment,
    LineItem,
    MatchedLineItem,
    Payment,
    PaymentMethodOnFile,
    PaymentMethods,
    VerificationResult,
    WayToPay,
)
from actions.clients.errors import Conflict, NotFound, VerificationLocked
from actions.clients.handoff import EscalationRequest, EscalationResult
from actions.config import get_settings
from actions.identity import SLOT, signed_customer_slot
from handoff.clients.identity_assertion import mint_identity_assertion

D = Decimal


def _line(id_, description, charge_type, amount, policy="R-1"):
    return LineItem(
        id=id_,
        description=description,
        charge_type=charge_type,
        amount=D(amount),
        quantity=D("1"),
        unit_rate=D(amount),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        policy_rule=policy,
    )


@dataclass
class FakeBilling:
    """David Kim (customer 4): the same activation fee billed twice on his latest invoice."""

    customer_id: int = 4
    account_number: str = "ACC-100004"
    postal_code: str = "30301"
    phone_last4: str = "4321"
    currency: str = "USD"
    attempts_remaining: int = 3
    autopay: bool = True
    fail_with: Exception | None = None
    open_dispute_conflict: bool = False
    payments: list[Payment] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.invoices = {
            "INV-2026-000412": Invoice(
                number="INV-2026-000412",
                period_start=date(2026, 10, 1),
                period_end=date(2026, 10, 31),
                issue_date=date(2026, 11, 1),
                due_date=date(2026, 11, 21),
                status="open",
                total=D("158.00"),
                amount_due=D("158.00"),
                currency=self.currency,
                line_items=[
                    _line(41, "Unlimited plan", "plan", "60.00"),
                    _line(42, "Activation fee", "one_time", "49.00", "R-ONE-TIME"),
                    _line(43, "Activation fee", "one_time", "49.00", "R-ONE-TIME"),
                ],
            ),
            "INV-2026-000311": Invoice(
                number="INV-2026-000311",
                period_start=date(2026, 9, 1),
                period_end=date(2026, 9, 30),
                issue_date=date(2026, 10, 1),
                due_date=date(2026, 10, 21),
                status="paid",
                total=D("65.00"),
                amount_due=D("0.00"),
                currency=self.currency,
                line_items=[
                    _line(31, "Unlimited plan", "plan", "60.00"),
                    _line(32, "Late fee", "late_fee", "5.00"),
                ],
            ),
        }
        if not self.payments:
            self.payments = [
                Payment(
                    id=7, amount=D("65.00"), method="card", received_date=date(2026, 10, 20), status="posted"
                ),
                Payment(
                    id=8,
                    amount=D("158.00"),
                    method="card",
                    received_date=date(2026, 11, 20),
                    status="pending",
                ),
            ]

    def _enter(self, method: str, /, **kwargs: Any) -> None:
        self.calls.append((method, kwargs))
        if self.fail_with is not None:
            raise self.fail_with

    def called(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for call, kwargs in self.calls if call == name]

    def _own(self, customer_id: int) -> None:
        if customer_id != self.customer_id:
            raise NotFound("not this customer's")

    def _all_items(self) -> list[MatchedLineItem]:
        return [
            MatchedLineItem(**item.model_dump(), invoice_number=invoice.number)
            for invoice in self.invoices.values()
            for item in invoice.line_items
        ]

    async def verify(self, *, account_number, postal_code=None, phone_last4=None) -> VerificationResult:
        self._enter("verify", account_number=account_number, postal_code=postal_code, phone_last4=phone_last4)
        if self.attempts_remaining <= 0:
            raise VerificationLocked("locked", locked_until="2026-11-21T12:15:00Z")
        if account_number == self.account_number and (
            postal_code == self.postal_code or phone_last4 == self.phone_last4
        ):
            return VerificationResult(
                verified=True, customer_id=self.customer_id, first_name="David", account_number=account_number
            )
        self.attempts_remaining -= 1
        return VerificationResult(verified=False, attempts_remaining=self.attempts_remaining)

    async def get_customer(self, *, customer_id) -> Customer:
        self._enter("get_customer", customer_id=customer_id)
        self._own(customer_id)
        return Customer(
            customer_id=customer_id,
            first_name="David",
            last_name="Kim",
            email="david@example.com",
            account=Account(
                account_number=self.account_number, status="active", currency=self.currency, autopay=False
            ),
        )

    async def get_balance(self, *, customer_id) -> Balance:
        self._enter("get_balance", customer_id=customer_id)
        self._own(customer_id)
        return Balance(
            account_number=self.account_number,
            currency=self.currency,
            total_due=D("158.00"),
            past_due=D("0.00"),
            next_due_date=date(2026, 11, 21),
            next_due_amount=D("158.00"),
            last_payment=LastPayment(
                amount=D("65.00"), received_date=date(2026, 10, 20), method="card", status="posted"
            ),
        )

    async def list_invoices(self, *, customer_id) -> list[InvoiceSummary]:
        self._enter("list_invoices", customer_id=customer_id)
        self._own(customer_id)
        return [InvoiceSummary(**inv.model_dump(exclude={"line_items"})) for inv in self.invoices.values()]

    async def get_invoice(self, *, customer_id, invoice_number) -> Invoice:
        self._enter("get_invoice", customer_id=customer_id, invoice_number=invoice_number)
        self._own(customer_id)
        if invoice_number not in self.invoices:
            raise NotFound("no such invoice")
        return self.invoices[invoice_number]

    async def find_line_items(
        self, *, customer_id, amount=None, on_date=None, name=None, invoice_number=None
    ):
        self._enter(
            "find_line_items",
            customer_id=customer_id,
            amount=amount,
            on_date=on_date,
            name=name,
            invoice_number=invoice_number,
        )
        self._own(customer_id)
        items = self._all_items()
        if amount is not None:
            items = [i for i in items if i.amount == amount]
        if on_date is not None:
            items = [i for i in items if i.period_start <= on_date <= i.period_end]
        if name is not None:
            items = [i for i in items if i.charge_type == name or name.lower() in i.description.lower()]
        if invoice_number is not None:
            if invoice_number not in self.invoices:
                raise NotFound("no such invoice")
            items = [i for i in items if i.invoice_number == invoice_number]
        return items

    async def explain_line_item(self, *, customer_id, line_item_id) -> Explanation:
        self._enter("explain_line_item", customer_id=customer_id, line_item_id=line_item_id)
        self._own(customer_id)
        for item in self._all_items():
            if str(item.id) == str(line_item_id):
                return Explanation(
                    line_item=LineItem(**item.model_dump(exclude={"invoice_number"})),
                    invoice_number=item.invoice_number,
                    summary=f"{item.description} is a {item.charge_type.replace('_', ' ')} charge.",
                    computation=f"1 x ${item.amount} = ${item.amount}.",
                    policy=f"Policy {item.policy_rule}.",
                    facts={"rule": item.policy_rule},
                )
        raise NotFound("no such line item")

    async def compare_bills(self, *, customer_id, invoice_number=None) -> BillComparison:
        self._enter("compare_bills", customer_id=customer_id, invoice_number=invoice_number)
        self._own(customer_id)
        return BillComparison(
            invoice_number="INV-2026-000412",
            previous_invoice_number="INV-2026-000311",
            current_total=D("158.00"),
            previous_total=D("65.00"),
            difference=D("93.00"),
            changes=[
                BillChange(
                    kind="removed",
                    description="Late fee",
                    charge_type="late_fee",
                    previous_amount=D("5.00"),
                    current_amount=None,
                    difference=D("-5.00"),
                    explanation="No late payment this month",
                ),
                BillChange(
                    kind="new",
                    description="Activation fee",
                    charge_type="one_time",
                    previous_amount=None,
                    current_amount=D("98.00"),
                    difference=D("98.00"),
                    explanation="Two activation fees were billed",
                ),
            ],
        )

    async def list_payments(self, *, customer_id, on_date=None, amount=None) -> list[Payment]:
        self._enter("list_payments", customer_id=customer_id, on_date=on_date, amount=amount)
        self._own(customer_id)
        result = list(self.payments)
        if on_date is not None:
            result = [p for p in result if p.received_date == on_date]
        if amount is not None:
            result = [p for p in result if p.amount == amount]
        return result

    async def get_payment_methods(self, *, customer_id) -> PaymentMethods:
        self._enter("get_payment_methods", customer_id=customer_id)
        self._own(customer_id)
        return PaymentMethods(
            autopay=self.autopay,
            on_file=[PaymentMethodOnFile(kind="card", masked="Visa •••• 4242")],
            ways_to_pay=[
                WayToPay(kind="online", instructions="Pay online at example.com/pay"),
                WayToPay(kind="phone", instructions="Call 555-0100 to pay by phone"),
            ],
        )

    async def open_dispute(
        self, *, customer_id, line_item_id, reason, amount=None, conversation_id=None
    ) -> Dispute:
        self._enter(
            "open_dispute",
            customer_id=customer_id,
            line_item_id=line_item_id,
            reason=reason,
            conversation_id=conversation_id,
        )
        self._own(customer_id)
        if self.open_dispute_conflict:
            raise Conflict("already open")
        dispute = Dispute(
            id=900 + len(self.disputes),
            customer_id=customer_id,
            line_item_id=line_item_id,
            invoice_number="INV-2026-000412",
            amount=D("49.00"),
            reason=reason,
            status="open",
            conversation_id=conversation_id,
        )
        self.disputes.append(dispute)
        return dispute

    async def list_disputes(self, *, customer_id) -> list[Dispute]:
        self._enter("list_disputes", customer_id=customer_id)
        self._own(customer_id)
        return list(self.disputes)


@dataclass
class FakeHandoff:
    result: EscalationResult = field(
        default_factory=lambda: EscalationResult(state="queued", position=2, eta_seconds=180)
    )
    fail_with: Exception | None = None
    requests: list[EscalationRequest] = field(default_factory=list)

    async def escalate(self, escalation: EscalationRequest) -> EscalationResult:
        self.requests.append(escalation)
        if self.fail_with is not None:
            raise self.fail_with
        return self.result


def user_event(
    intent: str,
    *,
    text: str = "",
    entities: list[dict] | None = None,
    metadata: dict | None = None,
    ranking: list[tuple[str, float]] | None = None,
    confidence: float = 0.99,
) -> dict:
    """`ranking`: the NLU's intent_ranking as (intent, confidence), e.g. behind an nlu_fallback."""
    parse_data = {
        "intent": {"name": intent, "confidence": confidence}, "entities": entities or [], "text": text
    }
    if ranking is not None:
        parse_data["intent_ranking"] = [
            {"name": name, "confidence": confidence} for name, confidence in ranking
        ]
    return {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata or {}}


def action_event(name: str) -> dict:
    return {"event": "action", "name": name}


def handoff_metadata(conversation_id: str, customer_id: int | None) -> dict:
    """The metadata the handoff service sends with a turn: the signed identity assertion (the real signer)."""
    identity = mint_identity_assertion(
        conversation_id=conversation_id,
        customer_id=customer_id,
        secret=get_settings().identity_assertion_secret,
        seconds=120,
    )
    return {"identity": identity, "customer_id": customer_id, "conversation_id": conversation_id}


def bot_event(response: str, text: str = "") -> dict:
    return {"event": "bot", "text": text, "metadata": {"utter_action": response}}


def make_tracker(
    *,
    intent: str = "check_balance",
    text: str = "",
    entities: list[dict] | None = None,
    metadata: dict | None = None,
    slots: dict[str, Any] | None = None,
    events: list[dict] | None = None,
    active_loop: str | None = None,
    sender_id: str = "conv-1",
    ranking: list[tuple[str, float]] | None = None,
    signed: bool = True,
    confidence: float = 0.99,
) -> Tracker:
    """A rasa_sdk Tracker whose latest message is the given one (appended to `events`).

    signed (default): as Rasa passes on a turn of the handoff service, i.e. the latest message carries an
    identity assertion for `sender_id` and `metadata["customer_id"]` (None: anonymous), and an int
    `verified_customer_id` slot is stored as the verification form signs it. signed=False: exactly what the
    test gives (a forged tracker)."""
    slots = dict(slots or {})
    if signed:
        metadata = {**handoff_metadata(sender_id, (metadata or {}).get("customer_id")), **(metadata or {})}
        if isinstance(slots.get(SLOT), int):
            slots[SLOT] = signed_customer_slot(slots[SLOT], conversation_id=sender_id)
    latest = user_event(intent, text=text, entities=entities, metadata=metadata, ranking=ranking,
                        confidence=confidence)
    history = [*(events or []), latest]
    latest_message = dict(latest["parse_data"], metadata=latest["metadata"])
    return Tracker(
        sender_id,
        slots,
        latest_message,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message.get("response") for message in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, response: str) -> dict[str, Any]:
    found = [m for m in dispatcher.messages if m.get("response") == response]
    assert found, f"{response} not uttered; got {responses(dispatcher)}"
    return found[0]


def slot_events(events: list[dict]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


@dataclass
class FakeAccountCheck:
    """The account check with nothing to report (the real backend's checks: test_account_check_actions.py)."""

    calls: list[int] = field(default_factory=list)

    async def list_findings(self, *, customer_id: int) -> Any:
        from actions.clients.account_check import Findings

        self.calls.append(customer_id)
        return Findings(customer_id=customer_id, currency="USD", findings=[])
