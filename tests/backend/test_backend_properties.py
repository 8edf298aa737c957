"""Property-based tests of the money rules, against the real database through the services.

Every example creates its own account, so examples do not interfere; the test's transaction is rolled back.
"""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.auth import Actor
from backend.billing.ledger import account_ledger
from backend.billing.service import compare_bills, get_balance
from backend.disputes.service import issue_credit, open_dispute
from backend.enums import ChargeType, PaymentStatus
from backend.errors import InvalidInput
from tests.backend.factories import AccountFactory, PaymentFactory, invoice_with_lines

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
amounts = st.decimals(min_value=Decimal("-200.00"), max_value=Decimal("500.00"), places=2, allow_nan=False)
positive = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300.00"), places=2, allow_nan=False)
descriptions = st.sampled_from(
    ["Plan", "Data overage", "Late payment fee", "Installation fee", "Promo", "Tax"]
)
line = st.tuples(st.sampled_from(list(ChargeType)), descriptions, amounts)
TODAY = date(2026, 6, 15)
SPECIALIST = Actor(role="specialist", username="prop")


@PROPERTY_SETTINGS
@given(previous=st.lists(line, max_size=6), current=st.lists(line, max_size=6))
def test_bill_difference_is_explained_exactly(db_session, previous, current):
    account = AccountFactory()
    invoice_with_lines(account=account, lines=previous, issue_date=date(2026, 4, 1))
    invoice_with_lines(account=account, lines=current, issue_date=date(2026, 5, 1))
    comparison = compare_bills(db_session, customer_id=account.customer_id, invoice_number=None)
    assert sum((c.difference for c in comparison.changes), Decimal("0.00")) == comparison.difference
    differences = [abs(c.difference) for c in comparison.changes]
    assert differences == sorted(differences, reverse=True)
    assert all(c.explanation for c in comparison.changes)


@PROPERTY_SETTINGS
@given(
    invoices=st.lists(st.lists(line, min_size=1, max_size=4), min_size=1, max_size=5),
    payments=st.lists(st.tuples(positive, st.sampled_from(list(PaymentStatus)), st.booleans()), max_size=6),
)
def test_balance_is_invoices_minus_payments_minus_credits(db_session, invoices, payments):
    account = AccountFactory()
    created = [
        invoice_with_lines(account=account, lines=lines, issue_date=date(2026, 1, 1) + timedelta(days=31 * i))
        for i, lines in enumerate(invoices)
    ]
    for amount, status, linked in payments:
        PaymentFactory(account=account, amount=amount, status=status, invoice=created[0] if linked else None)
    credited = Decimal("0.00")
    for index, invoice in enumerate(created):
        if invoice.total > 0:
            view, _ = issue_credit(
                db_session, customer_id=account.customer_id, amount=Decimal("0.01"), reason="prop",
                line_item_id=None, invoice_number=invoice.number, dispute_id=None, actor=SPECIALIST,
                idempotency_key=f"prop-{account.id}-{index}", today=TODAY,
            )
            credited += view.credit.amount
    posted = sum((a for a, status, _ in payments if status == PaymentStatus.posted), Decimal("0.00"))
    invoiced = sum((i.total for i in created), Decimal("0.00"))
    balance = get_balance(db_session, customer_id=account.customer_id, today=TODAY)
    assert balance.ledger.total_due == invoiced - posted - credited
    ledger = account_ledger(db_session, account=account, today=TODAY)
    assert all(s.amount_due >= 0 for s in ledger.standings)
    if ledger.total_due >= 0:
        assert sum((s.amount_due for s in ledger.standings), Decimal("0.00")) == ledger.total_due


@PROPERTY_SETTINGS
@given(charge=positive, disputed=positive, credits=st.lists(positive, min_size=1, max_size=5))
def test_credits_never_exceed_the_charge_or_the_dispute(db_session, charge, disputed, credits):
    account = AccountFactory()
    invoice = invoice_with_lines(
        account=account, lines=[(ChargeType.one_time, "Fee", charge)], issue_date=date(2026, 5, 1)
    )
    line_id = invoice.line_items[0].id
    try:
        dispute = open_dispute(db_session, customer_id=account.customer_id, line_item_id=line_id, reason="p",
                               amount=disputed, conversation_id=None, actor=None).dispute
    except InvalidInput:
        assert disputed > charge
        return
    total = Decimal("0.00")
    for index, amount in enumerate(credits):
        try:
            view, _ = issue_credit(
                db_session, customer_id=account.customer_id, amount=amount, reason="p", line_item_id=None,
                invoice_number=None, dispute_id=dispute.id, actor=SPECIALIST,
                idempotency_key=f"cap-{dispute.id}-{index}", today=TODAY,
            )
            total += view.credit.amount
        except InvalidInput:
            assert total + amount > min(dispute.amount, charge)
    assert total <= dispute.amount <= charge


@pytest.mark.parametrize("amount", ["0.10", "0.20", "0.70"])
def test_money_survives_the_database_exactly(db_session, amount):
    account = AccountFactory()
    invoice = invoice_with_lines(account=account, lines=[(ChargeType.plan, "Plan", Decimal(amount))] * 3,
                                 issue_date=date(2026, 5, 1))
    db_session.expire_all()
    assert (
        account_ledger(db_session, account=account, today=TODAY).invoiced_total
        == Decimal(amount) * 3
        == invoice.total
    )
