"""The deterministic demo seed: the 8 demo customers of docs/contracts.md, ids 1-8.

Dates are relative to the day the seed runs (`today`), so the demo always looks current: the latest
invoice was issued 6 days ago and is due in 15 days. Billing periods are 30 days long, so every amount
(prorations included) is the same whatever the run date. Tests pin `today` and read expectations from the
constants here and from the database, never from hard-coded dates.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from backend.arrangements.models import Arrangement, Instalment
from backend.audit.models import AuditLog
from backend.billing.models import Invoice, LineItem, Plan, Subscription
from backend.customers.models import Account, Customer, PaymentMethod, VerificationState
from backend.disputes.models import Credit, Dispute
from backend.enums import ChargeType, InvoiceStatus, PaymentStatus
from backend.payments.models import IdempotencyRecord, Payment, PaymentQuote, ProcessorEvent
from backend.payments.simulated_processor import simulated_token
from backend.seed.reference import (
    E911_FEE,
    FUSF_RATE,
    LATE_FEE,
    LATE_FEE_GRACE_DAYS,
    SALES_TAX_RATE,
    ensure_reference_data,
)

CYCLE_DAYS = 30
HISTORY_CYCLES = 6
LATEST_PERIOD_END_DAYS_AGO = 7
DUE_AFTER_ISSUE_DAYS = 21
CENT = Decimal("0.01")


class SeedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Cycle:
    index: int  # 0 = latest
    period_start: date
    period_end: date
    issue_date: date
    due_date: date


def demo_cycles(today: date) -> list[Cycle]:
    """Billing cycles, oldest first."""
    cycles = []
    for index in range(HISTORY_CYCLES - 1, -1, -1):
        period_end = today - timedelta(days=LATEST_PERIOD_END_DAYS_AGO + CYCLE_DAYS * index)
        issue = period_end + timedelta(days=1)
        cycles.append(Cycle(index, period_end - timedelta(days=CYCLE_DAYS - 1), period_end, issue,
                            issue + timedelta(days=DUE_AFTER_ISSUE_DAYS)))
    return cycles


@dataclass(frozen=True)
class DemoCustomer:
    id: int
    first_name: str
    last_name: str
    postal_code: str
    phone_last4: str
    plan_code: str
    autopay: bool
    method_kind: str
    method_brand: str
    method_last4: str
    scenario: str

    @property
    def account_number(self) -> str:
        return f"ACC-{100000 + self.id}"

    @property
    def email(self) -> str:
        return f"{self.first_name}.{self.last_name}@example.com".lower()


DEMO_CUSTOMERS = [
    DemoCustomer(1, "Alice", "Moreno", "94110", "4821", "PLUS-60", False, "card", "Visa", "1111",
                 "late fee on the latest invoice (paid after the due date)"),
    DemoCustomer(2, "Ben", "Okafor", "10001", "3307", "BASIC-45", True, "bank_account", "Checking", "6789",
                 "mid-cycle plan upgrade: proration charge and credit"),
    DemoCustomer(3, "Carla", "Jensen", "60614", "9150", "PLUS-60", False, "card", "Mastercard", "4444",
                 "usage overage (data over the plan allowance)"),
    DemoCustomer(4, "David", "Kim", "98101", "2764", "BASIC-45", False, "card", "Visa", "2222",
                 "the same one-time charge billed twice: should be disputed"),
    DemoCustomer(5, "Elena", "Petrova", "02139", "5582", "PLUS-60", False, "card", "Mastercard", "5454",
                 "payment made yesterday, still pending"),
    DemoCustomer(6, "Farid", "Haddad", "30303", "1946", "PREMIUM-75", True, "card", "Visa", "0119",
                 "autopay failed (card expired), invoice overdue"),
    DemoCustomer(7, "Grace", "Liu", "80202", "6673", "PLUS-60", True, "card", "Amex", "1005",
                 "taxes and regulatory fees explained"),
    DemoCustomer(8, "Hiro", "Tanaka", "97205", "8039", "PLUS-60", False, "card", "Visa", "8080",
                 "promotional discount expired: bill went up"),
]

# Scenario figures (the amounts do not depend on the run date).
ALICE_DAYS_LATE = 7
BEN_UPGRADE_PLAN = "PREMIUM-75"
BEN_UPGRADE_DAY = 16  # of the 30-day period: 15 days on each plan
CARLA_USED_GB = {1: Decimal("21.5"), 0: Decimal("26.5")}  # cycle index -> GB; other cycles stay under 20 GB
CARLA_UNDER_GB = Decimal("17.2")
DAVID_INSTALLATION_FEE = Decimal("49.00")
DAVID_ORDER = "ORD-55012"
ROUTER_PRICE = Decimal("480.00")
ROUTER_INSTALLMENTS = 24
HIRO_PROMO_AMOUNT = Decimal("20.00")
HIRO_PROMO_CODE = "PROMO-20-12M"


def _invoice_number(customer_id: int, cycle: Cycle) -> str:
    return f"INV-{cycle.issue_date.year}-{customer_id * 100 + (HISTORY_CYCLES - cycle.index):06d}"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _plan_line(plan: Plan, cycle: Cycle) -> LineItem:
    return LineItem(
        charge_type=ChargeType.plan, description=f"{plan.name} plan", amount=plan.monthly_price,
        quantity=Decimal(1), unit="month", unit_rate=plan.monthly_price, period_start=cycle.period_start,
        period_end=cycle.period_end,
        policy_rule="PLAN-MONTHLY",
        facts={"plan_code": plan.code, "plan_name": plan.name, "monthly_price": f"{plan.monthly_price:.2f}"},
    )


def _late_fee_line(*, related: Invoice, payment_date: date | None, assessed_on: date) -> LineItem:
    return LineItem(
        charge_type=ChargeType.late_fee, description="Late payment fee", amount=LATE_FEE, quantity=Decimal(1),
        unit="item", unit_rate=LATE_FEE, policy_rule="LATE-FEE-1",
        facts={
            "related_invoice_number": related.number, "related_due_date": related.due_date.isoformat(),
            "payment_date": payment_date.isoformat() if payment_date else None,
            "assessed_on": assessed_on.isoformat(),
            "grace_days": LATE_FEE_GRACE_DAYS,
            "fee": f"{LATE_FEE:.2f}",
        },
    )


def _proration_line(
    *, plan: Plan, cycle: Cycle, change_date: date, credit: bool, from_plan: Plan, to_plan: Plan
) -> LineItem:
    days = (cycle.period_end - change_date).days + 1
    daily = plan.monthly_price / CYCLE_DAYS
    amount = _money(plan.monthly_price * days / CYCLE_DAYS)
    return LineItem(
        charge_type=ChargeType.proration,
        description=f"{plan.name} plan, {days} unused days credited"
        if credit
        else f"{plan.name} plan, {days} days prorated",
        amount=-amount if credit else amount,
        quantity=Decimal(days),
        unit="day",
        unit_rate=daily.quantize(Decimal("0.000001")),
        period_start=change_date,
        period_end=cycle.period_end,
        policy_rule="PRORATION-DAILY",
        facts={
            "plan_code": plan.code, "plan_name": plan.name, "monthly_price": f"{plan.monthly_price:.2f}",
            "days": days, "days_in_period": CYCLE_DAYS, "change_date": change_date.isoformat(),
            "from_plan": from_plan.name, "to_plan": to_plan.name,
            "direction": "credit" if credit else "charge",
        },
    )


def _usage_line(*, plan: Plan, cycle: Cycle, used_gb: Decimal) -> LineItem:
    assert plan.data_allowance_gb is not None and plan.overage_rate_per_gb is not None
    over = used_gb - plan.data_allowance_gb
    return LineItem(
        charge_type=ChargeType.usage, description="Data overage",
        amount=_money(over * plan.overage_rate_per_gb), quantity=over, unit="GB",
        unit_rate=plan.overage_rate_per_gb, period_start=cycle.period_start, period_end=cycle.period_end,
        policy_rule="USAGE-OVERAGE",
        facts={
            "allowance_gb": str(plan.data_allowance_gb.normalize()), "used_gb": str(used_gb),
            "over_gb": str(over), "rate_per_gb": f"{plan.overage_rate_per_gb:.2f}",
        },
    )


def _grace_lines(*, plan: Plan, cycle: Cycle, installment: int) -> list[LineItem]:
    router_amount = _money(ROUTER_PRICE / ROUTER_INSTALLMENTS)
    equipment = LineItem(
        charge_type=ChargeType.equipment, description="Wi-Fi 6 router (installment plan)",
        amount=router_amount, quantity=Decimal(1), unit="month", unit_rate=router_amount,
        period_start=cycle.period_start, period_end=cycle.period_end, policy_rule="EQUIP-INSTALLMENT",
        facts={
            "device": "Wi-Fi 6 router", "device_price": f"{ROUTER_PRICE:.2f}",
            "installment_number": installment, "installments_total": ROUTER_INSTALLMENTS,
        },
    )
    sales_base = plan.monthly_price + router_amount
    return [
        equipment,
        LineItem(
            charge_type=ChargeType.tax, description="State sales tax",
            amount=_money(sales_base * SALES_TAX_RATE), quantity=Decimal(1), unit="item",
            unit_rate=SALES_TAX_RATE, period_start=cycle.period_start, period_end=cycle.period_end,
            policy_rule="TAX-STATE-SALES",
            facts={
                "rate": str(SALES_TAX_RATE), "taxable_base": f"{sales_base:.2f}",
                "applies_to": ["plan", "equipment"], "authority": "the State of Colorado",
            },
        ),
        LineItem(
            charge_type=ChargeType.tax, description="Federal Universal Service Fund fee",
            amount=_money(plan.monthly_price * FUSF_RATE), quantity=Decimal(1), unit="item",
            unit_rate=FUSF_RATE, period_start=cycle.period_start, period_end=cycle.period_end,
            policy_rule="REG-FUSF",
            facts={
                "rate": str(FUSF_RATE), "taxable_base": f"{plan.monthly_price:.2f}", "applies_to": ["plan"],
                "authority": "the FCC",
            },
        ),
        LineItem(
            charge_type=ChargeType.tax, description="911 emergency service fee", amount=E911_FEE,
            quantity=Decimal(1), unit="line", unit_rate=E911_FEE, period_start=cycle.period_start,
            period_end=cycle.period_end, policy_rule="REG-911",
            facts={"per_line_fee": f"{E911_FEE:.2f}", "authority": "the Denver 911 Authority"},
        ),
    ]


def _clear_all(session: Session) -> None:
    for model in (AuditLog, IdempotencyRecord, ProcessorEvent, Instalment, Arrangement, PaymentQuote, Credit,
                  Dispute, Payment, LineItem, Invoice, Subscription, PaymentMethod, Account, Customer,
                  VerificationState):
        session.execute(delete(model))


def _fix_sequences(session: Session) -> None:
    """Explicit ids leave PostgreSQL sequences behind; move them past the highest id."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in (
        "customers", "accounts", "invoices", "line_items", "payments", "payment_methods", "subscriptions",
    ):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM "
                f"{table}), 0) + 1, false)"
            )
        )


def seed_demo(session: Session, *, today: date, reset: bool = False) -> bool:
    """Creates the demo customers; returns False when they are already there (so `make run` can repeat).

    Refuses to touch a database with other customers unless reset=True.
    """
    if session.scalar(select(func.count()).select_from(Customer)):
        if not reset:
            first_demo = DEMO_CUSTOMERS[0].account_number
            if session.scalar(select(Account.id).where(Account.number == first_demo)) is not None:
                return False
            raise SeedError(
                "The database already has customers; use --reset to replace everything with the demo data."
            )
        _clear_all(session)
    plans = ensure_reference_data(session)
    cycles = demo_cycles(today)
    for demo in DEMO_CUSTOMERS:
        _seed_customer(session, demo=demo, plans=plans, cycles=cycles, today=today)
    session.flush()
    _fix_sequences(session)
    session.commit()
    return True


def _installation_line(cycle: Cycle) -> LineItem:
    """David was charged the installation fee twice."""
    return LineItem(
        charge_type=ChargeType.one_time, description="Installation fee",
        amount=DAVID_INSTALLATION_FEE, quantity=Decimal(1), unit="item",
        unit_rate=DAVID_INSTALLATION_FEE, policy_rule="ONE-TIME-ORDER",
        period_start=cycle.period_start + timedelta(days=9),
        period_end=cycle.period_start + timedelta(days=9),
        facts={
            "service_date": (cycle.period_start + timedelta(days=9)).isoformat(),
            "order_reference": DAVID_ORDER, "item": "Home internet installation",
        },
    )


def _promo_line(cycle: Cycle, cycles: list[Cycle]) -> LineItem:
    """The line of Hiro's welcome offer on the invoice of one cycle."""
    promo_end = cycles[-2].period_end
    promo_start = promo_end - timedelta(days=CYCLE_DAYS * 12 - 1)
    return LineItem(
        charge_type=ChargeType.discount, description="Welcome offer: $20 off for 12 months",
        amount=-HIRO_PROMO_AMOUNT, quantity=Decimal(1), unit="month",
        unit_rate=-HIRO_PROMO_AMOUNT, period_start=cycle.period_start,
        period_end=cycle.period_end, policy_rule="PROMO-DISCOUNT",
        facts={
            "promo_code": HIRO_PROMO_CODE, "promo_name": "Welcome offer",
            "start_date": promo_start.isoformat(), "end_date": promo_end.isoformat(),
            "month_number": 13 - cycle.index, "months_total": 12,
        },
    )


def _seed_customer(
    session: Session, *, demo: DemoCustomer, plans: dict[str, Plan], cycles: list[Cycle], today: date
) -> None:
    plan = plans[demo.plan_code]
    opened_on = cycles[0].period_start - timedelta(days=CYCLE_DAYS * 11)
    customer = Customer(id=demo.id, first_name=demo.first_name, last_name=demo.last_name, email=demo.email,
                        postal_code=demo.postal_code, phone_last4=demo.phone_last4)
    account = Account(id=demo.id, customer=customer, number=demo.account_number, currency="USD",
                      autopay=demo.autopay, opened_on=opened_on)
    latest, previous = cycles[-1], cycles[-2]
    expires_on = None
    if demo.method_kind == "card":
        # Farid's card expired at the end of the month before the failed autopay; the others are valid for
        # years.
        expires_on = (
            (previous.due_date.replace(day=1) - timedelta(days=1))
            if demo.id == 6
            else date(today.year + 3, 12, 31)
        )
    # A simulated processor token (never a card number), so the demo can charge the method on file.
    token_expiry = expires_on or date(today.year + 3, 12, 31)
    method = PaymentMethod(
        account=account, kind=demo.method_kind, brand=demo.method_brand, last4=demo.method_last4,
        expires_on=expires_on, is_default=True, processor="simulated",
        token=simulated_token(brand=demo.method_brand, last4=demo.method_last4, exp_month=token_expiry.month,
                              exp_year=token_expiry.year),
    )
    session.add_all([customer, account, method])
    method_text = f"{'autopay' if demo.autopay else 'online'}: {demo.method_brand} ending {demo.method_last4}"

    if demo.id == 2:
        change = latest.period_start + timedelta(days=BEN_UPGRADE_DAY - 1)
        session.add_all(
            [
                Subscription(
                    account=account, plan_id=plan.id, start_date=opened_on,
                    end_date=change - timedelta(days=1),
                ),
                Subscription(account=account, plan_id=plans[BEN_UPGRADE_PLAN].id, start_date=change),
            ]
        )
    else:
        session.add(Subscription(account=account, plan_id=plan.id, start_date=opened_on))

    invoices: dict[int, Invoice] = {}
    for cycle in cycles:
        lines = [_plan_line(plan, cycle)]
        if demo.id == 1 and cycle.index == 0:
            lines.append(
                _late_fee_line(
                    related=invoices[1], payment_date=invoices[1].due_date + timedelta(days=ALICE_DAYS_LATE),
                    assessed_on=cycle.issue_date,
                )
            )
        if demo.id == 2 and cycle.index == 0:
            upgrade = plans[BEN_UPGRADE_PLAN]
            change = cycle.period_start + timedelta(days=BEN_UPGRADE_DAY - 1)
            lines.append(
                _proration_line(
                    plan=plan, cycle=cycle, change_date=change, credit=True, from_plan=plan, to_plan=upgrade
                )
            )
            lines.append(
                _proration_line(
                    plan=upgrade, cycle=cycle, change_date=change, credit=False, from_plan=plan,
                    to_plan=upgrade,
                )
            )
        if demo.id == 3 and cycle.index in CARLA_USED_GB:
            lines.append(_usage_line(plan=plan, cycle=cycle, used_gb=CARLA_USED_GB[cycle.index]))
        if demo.id == 4 and cycle.index == 0:
            lines += [_installation_line(cycle), _installation_line(cycle)]
        if demo.id == 6 and cycle.index == 0:
            lines.append(_late_fee_line(related=invoices[1], payment_date=None, assessed_on=cycle.issue_date))
        if demo.id == 7:
            lines.extend(
                _grace_lines(plan=plan, cycle=cycle, installment=ROUTER_INSTALLMENTS - 10 - cycle.index)
            )
        if demo.id == 8 and cycle.index >= 1:
            lines.append(_promo_line(cycle, cycles))
        for position, line in enumerate(lines):
            line.position = position
        invoice = Invoice(
            account=account, number=_invoice_number(demo.id, cycle), period_start=cycle.period_start,
            period_end=cycle.period_end, issue_date=cycle.issue_date, due_date=cycle.due_date,
            status=InvoiceStatus.open, total=sum((line.amount for line in lines), Decimal("0.00")),
            line_items=lines,
        )
        session.add(invoice)
        invoices[cycle.index] = invoice
        _seed_payment(
            session, demo=demo, account=account, invoice=invoice, cycle=cycle, today=today,
            method_text=method_text,
        )


def _seed_payment(session: Session, *, demo: DemoCustomer, account: Account, invoice: Invoice, cycle: Cycle,
                  today: date, method_text: str) -> None:
    source = "autopay" if demo.autopay else "external"
    on_time = invoice.due_date if demo.autopay else invoice.due_date - timedelta(days=3)
    if cycle.index == 0:
        if demo.id == 5:
            session.add(Payment(account=account, invoice=invoice, amount=invoice.total, method=method_text,
                                received_date=today - timedelta(days=1), status=PaymentStatus.pending,
                                source=source))
        return
    if demo.id == 6 and cycle.index == 1:
        session.add(Payment(account=account, invoice=invoice, amount=invoice.total, method=method_text,
                            received_date=invoice.due_date, status=PaymentStatus.failed,
                            failure_reason=f"Card expired: {demo.method_brand} ending {demo.method_last4}",
                            source=source))
        invoice.status = InvoiceStatus.overdue
        return
    received = (
        invoice.due_date + timedelta(days=ALICE_DAYS_LATE) if demo.id == 1 and cycle.index == 1 else on_time
    )
    session.add(Payment(account=account, invoice=invoice, amount=invoice.total, method=method_text,
                        received_date=received, status=PaymentStatus.posted, source=source))
    invoice.status = InvoiceStatus.paid
