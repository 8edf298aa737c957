"""Demo customers for the account check (issue 18), ids 9-14: one per kind of finding (David, id 4, is the
flagship duplicate). Added by `seed-demo` after the 8 scenario customers, whose figures they leave alone.

Same calendar as backend/seed/demo.py (6 invoices of 30 days, the latest issued D-6 and due D+15). Invoice
numbers use the free sequence block 900-999 (`INV-<year>-0009<k><n>`, k = id - 9, n = 1 oldest .. 6 latest),
so the bulk generator (from 1000) and the scenario customers (101-806) never collide with them.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.billing.models import Invoice, LineItem, Plan, Subscription
from backend.customers.models import Account, Customer, PaymentMethod
from backend.enums import ChargeType, InvoiceStatus, PaymentStatus
from backend.payments.models import Payment
from backend.payments.simulated_processor import simulated_token
from backend.seed.demo import (
    CENT,
    CYCLE_DAYS,
    Cycle,
    DemoCustomer,
    _fix_sequences,
    _late_fee_line,
    _plan_line,
    _usage_line,
    demo_cycles,
)
from backend.seed.reference import SALES_TAX_RATE, ensure_reference_data

ACCOUNT_CHECK_CUSTOMERS = [
    DemoCustomer(
        9,
        "Ivy",
        "Brooks",
        "73301",
        "5120",
        "PLUS-60",
        True,
        "card",
        "Visa",
        "4005",
        "late fee although autopay paid the previous invoice on its due date",
    ),
    DemoCustomer(
        10,
        "Jonas",
        "Weber",
        "55401",
        "7731",
        "PLUS-60",
        False,
        "card",
        "Mastercard",
        "5100",
        "12-month promotion missing from the latest invoice (month 8 of 12)",
    ),
    DemoCustomer(
        11,
        "Kemal",
        "Arslan",
        "33101",
        "2468",
        "PLUS-60",
        False,
        "card",
        "Visa",
        "4012",
        "sales tax charged on a one-time activation fee",
    ),
    DemoCustomer(
        12,
        "Lena",
        "Fischer",
        "85004",
        "1357",
        "PLUS-60",
        False,
        "card",
        "Visa",
        "4111",
        "data overage billed for 5.3 GB; 3.5 GB were used over the allowance",
    ),
    DemoCustomer(
        13,
        "Marco",
        "Rossi",
        "19103",
        "8642",
        "PREMIUM-75",
        False,
        "card",
        "Mastercard",
        "5200",
        "bill shock: a large data overage, correctly billed",
    ),
    DemoCustomer(
        14,
        "Nadia",
        "Costa",
        "64105",
        "9753",
        "BASIC-45",
        False,
        "card",
        "Visa",
        "4242",
        "a $120.00 technician visit billed on two consecutive invoices (above the bot's limit)",
    ),
]

JONAS_PROMO = Decimal("15.00")
JONAS_FIRST_MONTH = 3  # the oldest seeded invoice is month 3 of the promotion; the latest would be month 8
KEMAL_ACTIVATION = Decimal("20.00")
LENA_USED_GB, LENA_BILLED_GB, LENA_EARLIER_USED_GB = Decimal("23.5"), Decimal("5.3"), Decimal("22")
MARCO_USED_GB = Decimal("62")
NADIA_VISIT = Decimal("120.00")
NADIA_ORDER = "ORD-77310"


@dataclass(frozen=True)
class Seeded:
    created: bool
    customers: int


def _invoice_number(customer_id: int, cycle: Cycle) -> str:
    return f"INV-{cycle.issue_date.year}-{900 + (customer_id - 9) * 10 + (6 - cycle.index):06d}"


def _tax_line(*, base: Decimal, cycle: Cycle) -> LineItem:
    return LineItem(
        charge_type=ChargeType.tax,
        description="State sales tax",
        amount=(base * SALES_TAX_RATE).quantize(CENT, rounding=ROUND_HALF_UP),
        quantity=Decimal(1),
        unit="item",
        unit_rate=SALES_TAX_RATE,
        period_start=cycle.period_start,
        period_end=cycle.period_end,
        policy_rule="TAX-STATE-SALES",
        facts={
            "rate": str(SALES_TAX_RATE),
            "taxable_base": f"{base:.2f}",
            "applies_to": ["plan", "equipment"],
            "authority": "the State of Florida",
        },
    )


def _promo_line(cycle: Cycle, cycles: list[Cycle]) -> LineItem:
    start = cycles[0].period_start - timedelta(days=CYCLE_DAYS * (JONAS_FIRST_MONTH - 1))
    end = start + timedelta(days=CYCLE_DAYS * 12 - 1)
    month = JONAS_FIRST_MONTH + (len(cycles) - 1 - cycle.index)
    return LineItem(
        charge_type=ChargeType.discount,
        description="Loyalty offer: $15 off for 12 months",
        amount=-JONAS_PROMO,
        quantity=Decimal(1),
        unit="month",
        unit_rate=-JONAS_PROMO,
        period_start=cycle.period_start,
        period_end=cycle.period_end,
        policy_rule="PROMO-DISCOUNT",
        facts={
            "promo_code": "LOYAL-15-12M",
            "promo_name": "Loyalty offer",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "month_number": month,
            "months_total": 12,
        },
    )


def _one_time_line(*, description: str, amount: Decimal, service_date: date, order: str | None) -> LineItem:
    facts: dict[str, str] = {"service_date": service_date.isoformat()}
    if order:
        facts["order_reference"] = order
    return LineItem(
        charge_type=ChargeType.one_time,
        description=description,
        amount=amount,
        quantity=Decimal(1),
        unit="item",
        unit_rate=amount,
        period_start=service_date,
        period_end=service_date,
        policy_rule="ONE-TIME-ORDER",
        facts=facts,
    )


def _lines(
    demo: DemoCustomer, *, plan: Plan, cycle: Cycle, cycles: list[Cycle], invoices: dict[int, Invoice]
) -> list[LineItem]:
    lines = [_plan_line(plan, cycle)]
    if demo.id == 9 and cycle.index == 0:
        # The fee says nothing was received, but autopay paid the previous invoice on its due date.
        lines.append(_late_fee_line(related=invoices[1], payment_date=None, assessed_on=cycle.issue_date))
    if demo.id == 10 and cycle.index >= 1:
        lines.append(_promo_line(cycle, cycles))
    if demo.id == 11:
        base = plan.monthly_price
        if cycle.index == 0:
            lines.append(
                _one_time_line(
                    description="Activation fee",
                    amount=KEMAL_ACTIVATION,
                    service_date=cycle.period_start + timedelta(days=4),
                    order=None,
                )
            )
            base += KEMAL_ACTIVATION  # the error: the one-time fee is not taxable under TAX-STATE-SALES
        lines.append(_tax_line(base=base, cycle=cycle))
    if demo.id == 12:
        if cycle.index == 0:
            usage = _usage_line(plan=plan, cycle=cycle, used_gb=LENA_USED_GB)
            usage.quantity = LENA_BILLED_GB  # the error: 5.3 GB billed, 3.5 GB over the allowance
            usage.amount = (LENA_BILLED_GB * (plan.overage_rate_per_gb or 0)).quantize(CENT)
            lines.append(usage)
        else:
            lines.append(_usage_line(plan=plan, cycle=cycle, used_gb=LENA_EARLIER_USED_GB))
    if demo.id == 13 and cycle.index == 0:
        lines.append(_usage_line(plan=plan, cycle=cycle, used_gb=MARCO_USED_GB))
    if demo.id == 14 and cycle.index in (1, 2):
        visit_day = cycles[-3].period_start + timedelta(days=20)  # one visit, billed on invoices 4 and 5
        lines.append(
            _one_time_line(
                description="Technician visit", amount=NADIA_VISIT, service_date=visit_day, order=NADIA_ORDER
            )
        )
    for position, line in enumerate(lines):
        line.position = position
    return lines


def _seed_one(
    session: Session, *, demo: DemoCustomer, plans: dict[str, Plan], cycles: list[Cycle], today: date
) -> None:
    plan = plans[demo.plan_code]
    opened_on = cycles[0].period_start - timedelta(days=CYCLE_DAYS * 11)
    customer = Customer(
        id=demo.id,
        first_name=demo.first_name,
        last_name=demo.last_name,
        email=demo.email,
        postal_code=demo.postal_code,
        phone_last4=demo.phone_last4,
    )
    account = Account(
        id=demo.id,
        customer=customer,
        number=demo.account_number,
        currency="USD",
        autopay=demo.autopay,
        opened_on=opened_on,
    )
    expires_on = date(today.year + 3, 12, 31)
    method = PaymentMethod(
        account=account,
        kind=demo.method_kind,
        brand=demo.method_brand,
        last4=demo.method_last4,
        expires_on=expires_on,
        is_default=True,
        processor="simulated",
        token=simulated_token(
            brand=demo.method_brand, last4=demo.method_last4, exp_month=12, exp_year=expires_on.year
        ),
    )
    session.add_all(
        [customer, account, method, Subscription(account=account, plan_id=plan.id, start_date=opened_on)]
    )
    method_text = f"{'autopay' if demo.autopay else 'online'}: {demo.method_brand} ending {demo.method_last4}"
    invoices: dict[int, Invoice] = {}
    for cycle in cycles:
        lines = _lines(demo, plan=plan, cycle=cycle, cycles=cycles, invoices=invoices)
        invoice = Invoice(
            account=account,
            number=_invoice_number(demo.id, cycle),
            period_start=cycle.period_start,
            period_end=cycle.period_end,
            issue_date=cycle.issue_date,
            due_date=cycle.due_date,
            status=InvoiceStatus.open,
            total=sum((line.amount for line in lines), Decimal("0.00")),
            line_items=lines,
        )
        session.add(invoice)
        invoices[cycle.index] = invoice
        if cycle.index == 0:
            continue  # the latest invoice is unpaid (due in 15 days)
        received = invoice.due_date if demo.autopay else invoice.due_date - timedelta(days=3)
        session.add(
            Payment(
                account=account,
                invoice=invoice,
                amount=invoice.total,
                method=method_text,
                received_date=received,
                status=PaymentStatus.posted,
                source="autopay" if demo.autopay else "external",
            )
        )
        invoice.status = InvoiceStatus.paid


def seed_account_check_demo(session: Session, *, today: date) -> Seeded:
    """Adds customers 9-14 when none of their ids or account numbers is taken (a repeat, or bulk customers
    seeded first, leave the database as it is)."""
    ids = [demo.id for demo in ACCOUNT_CHECK_CUSTOMERS]
    numbers = [demo.account_number for demo in ACCOUNT_CHECK_CUSTOMERS]
    taken = session.scalar(select(Customer.id).where(Customer.id.in_(ids))) or session.scalar(
        select(Account.id).where(Account.number.in_(numbers))
    )
    if taken is not None:
        return Seeded(created=False, customers=0)
    plans = ensure_reference_data(session)
    cycles = demo_cycles(today)
    for demo in ACCOUNT_CHECK_CUSTOMERS:
        _seed_one(session, demo=demo, plans=plans, cycles=cycles, today=today)
    session.flush()
    _fix_sequences(session)
    session.commit()
    return Seeded(created=True, customers=len(ACCOUNT_CHECK_CUSTOMERS))
