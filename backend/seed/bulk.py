"""Bulk generator for scale tests: N customers with 12 monthly invoices each, reproducible from a seed.

Rows are built as plain tuples and written with executemany (SQLite) or COPY (PostgreSQL), in batches.
Each customer draws from its own Random(seed, customer id), so the data does not depend on the batch size.
Invoice dates are fixed (12 calendar months, the latest issued on BULK_LATEST_ISSUE), so a seed always
produces the same database. Account numbers are ACC-(100000 + customer id), like the demo customers.
"""
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from backend.billing.models import Invoice, LineItem, Plan, Subscription
from backend.customers.models import Account, Customer, PaymentMethod
from backend.payments.models import Payment
from backend.seed.reference import LATE_FEE, LATE_FEE_GRACE_DAYS, SALES_TAX_RATE, ensure_reference_data

BULK_LATEST_ISSUE = date(2026, 6, 1)
BULK_TODAY = date(2026, 6, 10)
MONTHS = 12
INVOICES_PER_YEAR = 6  # Jul-Dec of one year, Jan-Jun of the next
FIRST_INVOICE_SEQUENCE = 1000  # demo invoices use sequence numbers below 1000
CREATED_AT = "2026-06-01 00:00:00.000000"
CENT = Decimal("0.01")

FIRST_NAMES = [
    "Ava", "Liam", "Noah", "Mia", "Zoe", "Omar", "Priya", "Chen", "Sofia", "Mateo", "Yuki", "Amara", "Lucas",
    "Nora", "Ivan", "Leila", "Kofi", "Ines", "Ravi", "Hana", "Tariq", "Elif", "Diego", "Maya",
]
LAST_NAMES = ["Smith", "Garcia", "Nguyen", "Patel", "Kowalski", "Okoye", "Rossi", "Silva", "Cohen", "Larsen",
              "Haddad", "Tanaka", "Moreau", "Schmidt", "Ivanova", "Mensah", "Khan", "Lopez", "Berg", "Ali"]
CARD_BRANDS = ["Visa", "Mastercard", "Amex", "Discover"]


@dataclass
class BulkResult:
    customers: int = 0
    invoices: int = 0
    line_items: int = 0
    payments: int = 0


def _months() -> list[tuple[date, date, date, date]]:
    """(period_start, period_end, issue_date, due_date) of the 12 calendar months, oldest first."""
    months = []
    issue = BULK_LATEST_ISSUE
    for _ in range(MONTHS):
        period_end = issue - timedelta(days=1)
        months.append((period_end.replace(day=1), period_end, issue, issue.replace(day=21)))
        issue = period_end.replace(day=1)
    return list(reversed(months))


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Batch:
    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}

    def add(self, table: str, *values: Any) -> None:
        self.rows[table].append(values)


COLUMNS: dict[str, Sequence[str]] = {
    "customers": ("id", "first_name", "last_name", "email", "postal_code", "phone_last4", "created_at"),
    "accounts": ("id", "customer_id", "number", "status", "currency", "autopay", "opened_on"),
    "payment_methods": ("id", "account_id", "kind", "brand", "last4", "expires_on", "is_default"),
    "subscriptions": ("id", "account_id", "plan_id", "start_date", "end_date"),
    "invoices": (
        "id", "account_id", "number", "period_start", "period_end", "issue_date", "due_date", "status",
        "total", "created_at",
    ),
    "line_items": (
        "id", "invoice_id", "position", "charge_type", "description", "amount", "quantity", "unit",
        "unit_rate", "period_start", "period_end", "policy_rule", "facts",
    ),
    "payments": (
        "id", "account_id", "invoice_id", "amount", "method", "received_date", "status", "failure_reason",
        "created_at",
    ),
}
MONEY_COLUMNS = {("invoices", "total"), ("line_items", "amount"), ("payments", "amount")}


class _Ids:
    def __init__(self, session: Session) -> None:
        self.next = {
            name: (session.scalar(select(func.max(model.id))) or 0) + 1
            for name, model in (
                ("customers", Customer), ("accounts", Account), ("payment_methods", PaymentMethod),
                ("subscriptions", Subscription), ("invoices", Invoice), ("line_items", LineItem),
                ("payments", Payment),
            )
        }

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


def _generate_customer(batch: _Batch, ids: _Ids, *, customer_id: int, seed: int, plans: list[Plan],
                       months: list[tuple[date, date, date, date]], result: BulkResult) -> None:
    rng = random.Random(seed * 1_000_003 + customer_id)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    batch.add("customers", customer_id, first, last, f"{first}.{last}.{customer_id}@example.net".lower(),
              f"{rng.randrange(10000, 99999)}", f"{rng.randrange(10000):04d}", CREATED_AT)
    account_id = ids.take("accounts")
    autopay = rng.random() < 0.4
    batch.add("accounts", account_id, customer_id, f"ACC-{100000 + customer_id}", "active", "USD", autopay,
              months[0][0] - timedelta(days=rng.randrange(30, 900)))
    brand, card_last4 = rng.choice(CARD_BRANDS), f"{rng.randrange(10000):04d}"
    batch.add("payment_methods", ids.take("payment_methods"), account_id, "card", brand, card_last4,
              date(2027 + rng.randrange(4), 12, 31), True)
    plan = rng.choice(plans)
    batch.add("subscriptions", ids.take("subscriptions"), account_id, plan.id, months[0][0], None)
    method = f"{'autopay' if autopay else 'online'}: {brand} ending {card_last4}"
    plan_facts = json.dumps(
        {"plan_code": plan.code, "plan_name": plan.name, "monthly_price": f"{plan.monthly_price:.2f}"}
    )

    late_previous: tuple[str, date, date] | None = None
    for index, (period_start, period_end, issue, due) in enumerate(months):
        result.invoices += 1
        invoice_id = ids.take("invoices")
        year_slot = (customer_id - 9) * INVOICES_PER_YEAR + (index % INVOICES_PER_YEAR)
        number = f"INV-{issue.year}-{FIRST_INVOICE_SEQUENCE + year_slot:06d}"
        lines: list[
            tuple[str, str, Decimal, Decimal, str, Decimal | None, date | None, date | None, str, str]
        ] = [
            (
                "plan", f"{plan.name} plan", plan.monthly_price, Decimal(1), "month", plan.monthly_price,
                period_start, period_end, "PLAN-MONTHLY", plan_facts,
            ),
        ]
        if (
            plan.data_allowance_gb is not None
            and plan.overage_rate_per_gb is not None
            and rng.random() < 0.25
        ):
            over = Decimal(rng.randrange(1, 80)) / 10
            used = plan.data_allowance_gb + over
            lines.append(
                (
                    "usage", "Data overage", _round(over * plan.overage_rate_per_gb), over, "GB",
                    plan.overage_rate_per_gb, period_start, period_end, "USAGE-OVERAGE",
                    json.dumps(
                        {
                            "allowance_gb": str(plan.data_allowance_gb.normalize()), "used_gb": str(used),
                            "over_gb": str(over), "rate_per_gb": f"{plan.overage_rate_per_gb:.2f}",
                        }
                    ),
                )
            )
        if late_previous is not None:
            related_number, related_due, paid_on = late_previous
            lines.append(
                (
                    "late_fee", "Late payment fee", LATE_FEE, Decimal(1), "item", LATE_FEE, None, None,
                    "LATE-FEE-1",
                    json.dumps(
                        {
                            "related_invoice_number": related_number,
                            "related_due_date": related_due.isoformat(), "payment_date": paid_on.isoformat(),
                            "assessed_on": issue.isoformat(), "grace_days": LATE_FEE_GRACE_DAYS,
                            "fee": f"{LATE_FEE:.2f}",
                        }
                    ),
                )
            )
        tax = _round(plan.monthly_price * SALES_TAX_RATE)
        lines.append(
            (
                "tax", "State sales tax", tax, Decimal(1), "item", SALES_TAX_RATE, period_start, period_end,
                "TAX-STATE-SALES",
                json.dumps(
                    {
                        "rate": str(SALES_TAX_RATE), "applies_to": ["plan", "equipment"],
                        "authority": "the state",
                    }
                ),
            )
        )
        total = sum((line[2] for line in lines), Decimal("0.00"))
        for position, line in enumerate(lines):
            batch.add("line_items", ids.take("line_items"), invoice_id, position, *line)
        result.line_items += len(lines)

        late_previous = None
        latest = index == len(months) - 1
        draw = rng.random()
        if latest and draw < 0.7:
            status = "open"
        elif latest and draw < 0.8:
            batch.add("payments", ids.take("payments"), account_id, invoice_id, total, method,
                      BULK_TODAY - timedelta(days=1), "pending", None, CREATED_AT)
            status = "open"
        elif latest and draw < 0.85:
            batch.add("payments", ids.take("payments"), account_id, invoice_id, total, method, due, "failed",
                      "Card declined", CREATED_AT)
            status = "open"
        else:
            paid_late = not latest and draw < 0.05
            received = due + timedelta(days=rng.randrange(LATE_FEE_GRACE_DAYS + 1, 15)) if paid_late \
                else due - timedelta(days=0 if autopay else rng.randrange(0, 10))
            if paid_late:
                late_previous = (number, due, received)
            batch.add(
                "payments", ids.take("payments"), account_id, invoice_id, total, method, received, "posted",
                None, CREATED_AT,
            )
            status = "paid"
        batch.add(
            "invoices", invoice_id, account_id, number, period_start, period_end, issue, due, status, total,
            CREATED_AT,
        )


def _sqlite_value(table: str, column: str, value: Any) -> Any:
    if value is None:
        return None
    if (table, column) in MONEY_COLUMNS:
        return int(value / CENT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _write(engine: Engine, batch: _Batch) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            for table, columns in COLUMNS.items():
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in batch.rows[table]:
                        copy.write_row(row)
        else:
            cursor.execute("BEGIN")
            for table, columns in COLUMNS.items():
                placeholders = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                    [
                        [_sqlite_value(table, c, v) for c, v in zip(columns, row, strict=True)]
                        for row in batch.rows[table]
                    ],
                )
        raw.commit()
    finally:
        raw.close()


def seed_bulk(*, engine: Engine, customers: int, seed: int, batch_size: int = 2000,
              progress: Callable[[str], None] = lambda _text: None) -> BulkResult:
    if customers < 1:
        raise ValueError("--customers must be at least 1")
    with Session(engine, expire_on_commit=False) as session:
        plans = list(ensure_reference_data(session).values())
        session.commit()
        ids = _Ids(session)
    first_customer = max(ids.next["customers"], 9)
    last_customer = first_customer + customers - 1
    if FIRST_INVOICE_SEQUENCE + (last_customer - 8) * INVOICES_PER_YEAR > 999_999:
        raise ValueError("Invoice numbers have 6 digits: at most about 166,000 customers can be generated.")
    ids.next["customers"] = first_customer
    months = _months()
    result = BulkResult()
    started = time.perf_counter()
    for batch_start in range(first_customer, last_customer + 1, batch_size):
        batch = _Batch()
        for customer_id in range(batch_start, min(batch_start + batch_size, last_customer + 1)):
            _generate_customer(
                batch, ids, customer_id=customer_id, seed=seed, plans=plans, months=months, result=result
            )
            result.customers += 1
        _write(engine, batch)
        result.payments += len(batch.rows["payments"])
        elapsed = time.perf_counter() - started
        progress(f"  {result.customers:>8,}/{customers:,} customers  {elapsed:6.1f}s  "
                 f"({result.customers / elapsed:,.0f} customers/s)")
    _finish(engine)
    return result


def _finish(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in COLUMNS:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()

