"""Any sequence of payments, promises, instalment plans and waivers keeps
balance = invoices - posted payments - credits; the policy's instalments add up to the amount (hypothesis)."""

from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.arrangements.policy import instalment_schedule
from backend.billing.models import Invoice
from backend.disputes.models import Credit
from backend.enums import InvoiceStatus, PaymentStatus
from backend.payments.models import Payment
from tests.backend.conftest import TODAY

BOT = {"X-Actor": "bot:rasa"}
CENTS = st.integers(min_value=1, max_value=20_000).map(lambda cents: f"{Decimal(cents) / 100:.2f}")
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.sampled_from([1, 3, 6]), CENTS),
        st.tuples(st.just("promise"), st.sampled_from([1, 3, 6]), CENTS),
        st.tuples(
            st.just("plan"), st.sampled_from([1, 3, 6]), st.integers(min_value=1, max_value=4).map(str)
        ),
        st.tuples(st.just("waive"), st.sampled_from([1, 6]), st.just("")),
    ),
    min_size=1,
    max_size=6,
)


@given(
    amount=st.integers(min_value=1, max_value=10**8).map(lambda c: Decimal(c) / 100), count=st.integers(2, 12)
)
def test_instalments_are_equal_to_the_cent_and_add_up(amount: Decimal, count: int) -> None:
    parts = [i.amount for i in instalment_schedule(amount=amount, count=count, start=TODAY, interval_days=30)]
    assert sum(parts) == amount and max(parts) - min(parts) < Decimal("0.01") * count


def invariant_holds(session, customer_id: int, client: TestClient) -> None:
    invoiced = session.scalar(
        select(func.sum(Invoice.total)).where(
            Invoice.account_id == customer_id, Invoice.status != InvoiceStatus.void
        )
    ) or Decimal(0)
    posted = session.scalar(
        select(func.sum(Payment.amount)).where(
            Payment.account_id == customer_id, Payment.status == PaymentStatus.posted
        )
    ) or Decimal(0)
    credited = session.scalar(
        select(func.sum(Credit.amount)).where(Credit.account_id == customer_id)
    ) or Decimal(0)
    total_due = Decimal(client.get(f"/api/v1/customers/{customer_id}/balance").json()["total_due"])
    assert total_due == invoiced - posted - credited


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_balance_invariant_over_any_sequence(client: TestClient, demo, db_session, steps) -> None:
    for index, (kind, customer_id, value) in enumerate(steps):
        key = {**BOT, "Idempotency-Key": f"prop-{kind}-{index}-{customer_id}-{value}"}
        if kind == "pay":
            offer = client.post(
                f"/api/v1/customers/{customer_id}/payment-quotes",
                headers=BOT,
                json={"amount_choice": "amount", "amount": value},
            )
            if offer.status_code == 201:
                client.post(
                    f"/api/v1/customers/{customer_id}/payment-quotes/{offer.json()['quote_id']}/confirm",
                    headers=key,
                )
        elif kind == "promise":
            client.post(
                f"/api/v1/customers/{customer_id}/arrangements",
                headers=key,
                json={"kind": "promise_to_pay", "amount": value, "pay_by": str(TODAY + timedelta(days=3))},
            )
        elif kind == "plan":
            client.post(
                f"/api/v1/customers/{customer_id}/arrangements",
                headers=key,
                json={"kind": "instalment_plan", "instalments": int(value)},
            )
        else:
            client.post(f"/api/v1/customers/{customer_id}/late-fee-waivers", headers=key, json={})
        invariant_holds(db_session, customer_id, client)
