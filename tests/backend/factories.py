"""factory_boy factories for backend rows; bound to the test's session by conftest."""
from datetime import date, timedelta
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from backend.billing.models import Invoice, LineItem
from backend.customers.models import Account, Customer, PaymentMethod
from backend.disputes.models import Credit
from backend.enums import ChargeType, InvoiceStatus, PaymentStatus
from backend.payments.models import Payment


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class CustomerFactory(_Base):
    class Meta:
        model = Customer

    first_name = factory.Sequence(lambda n: f"Test{n}")
    last_name = "Customer"
    email = factory.Sequence(lambda n: f"test{n}@example.org")
    postal_code = factory.Sequence(lambda n: f"{70000 + n % 9999:05d}")
    phone_last4 = factory.Sequence(lambda n: f"{n % 10000:04d}")


class AccountFactory(_Base):
    class Meta:
        model = Account

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"ACC-{900000 + n:06d}")
    currency = "USD"
    autopay = False
    opened_on = date(2024, 1, 1)


class PaymentMethodFactory(_Base):
    class Meta:
        model = PaymentMethod

    account = factory.SubFactory(AccountFactory)
    kind = "card"
    brand = "Visa"
    last4 = "4242"
    expires_on = date(2030, 12, 31)
    is_default = True


class InvoiceFactory(_Base):
    class Meta:
        model = Invoice

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: f"INV-2031-{n + 1:06d}")
    period_start = date(2026, 1, 1)
    period_end = date(2026, 1, 31)
    issue_date = date(2026, 2, 1)
    due_date = date(2026, 2, 21)
    status = InvoiceStatus.open
    total = Decimal("0.00")


class LineItemFactory(_Base):
    class Meta:
        model = LineItem

    invoice = factory.SubFactory(InvoiceFactory)
    charge_type = ChargeType.plan
    description = "Plan"
    amount = Decimal("50.00")
    quantity = Decimal(1)
    unit = "month"
    facts = factory.LazyFunction(dict)


class PaymentFactory(_Base):
    class Meta:
        model = Payment

    account = factory.SubFactory(AccountFactory)
    amount = Decimal("10.00")
    method = "online: Visa ending 4242"
    received_date = date(2026, 2, 10)
    status = PaymentStatus.posted


class CreditFactory(_Base):
    class Meta:
        model = Credit

    amount = Decimal("1.00")
    reason = "test"
    issued_by = "specialist:test"
    idempotency_key = factory.Sequence(lambda n: f"factory-credit-{n:08d}")
    request_fingerprint = "factory"


ALL = [CustomerFactory, AccountFactory, PaymentMethodFactory, InvoiceFactory, LineItemFactory, PaymentFactory,
       CreditFactory]


def bind(session: Session) -> None:
    for model_factory in ALL:
        model_factory._meta.sqlalchemy_session = session


def invoice_with_lines(*, account: Account, lines: list[tuple[ChargeType, str, Decimal]], issue_date: date,
                       number: str | None = None) -> Invoice:
    """An invoice whose total is exactly the sum of its lines."""
    kwargs = {"number": number} if number else {}
    invoice = InvoiceFactory(
        account=account, issue_date=issue_date, period_start=issue_date - timedelta(days=30),
        period_end=issue_date - timedelta(days=1), due_date=issue_date + timedelta(days=20),
        total=sum((amount for _, _, amount in lines), Decimal("0.00")), **kwargs,
    )
    for position, (charge_type, description, amount) in enumerate(lines):
        LineItemFactory(invoice=invoice, position=position, charge_type=charge_type, description=description,
                        amount=amount)
    return invoice
