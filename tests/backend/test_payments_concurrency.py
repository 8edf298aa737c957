"""Payments under concurrency on PostgreSQL (real threads, sessions and commits): 20 simultaneous
confirmations of one payment -> one payment; a webhook racing the payment's commit is applied once."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.auth import Actor
from backend.config import REPO_ROOT, Settings
from backend.customers.service import get_account
from backend.database import Database, make_engine
from backend.main import create_app
from backend.payments.jobs import run_billing_jobs
from backend.payments.models import Payment, PaymentQuote, ProcessorEvent
from backend.payments.processor import ChargeResult, WebhookEventType
from backend.payments.service import charge_and_record, default_method, handle_webhook
from backend.payments.simulated_processor import SimulatedProcessor
from tests.backend.conftest import API_TOKEN, TODAY, seeded_postgres_database

pytestmark = pytest.mark.postgres
BOT = {"X-Actor": "bot:rasa"}


@pytest.fixture
def own_postgres() -> Iterator[str]:
    with seeded_postgres_database("billing_payments_concurrency") as url:
        yield url


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "twenty-keys"])
def test_twenty_confirmations_make_one_payment(own_postgres: str, same_key: bool) -> None:
    app = create_app(
        Settings(BACKEND_DATABASE_URL=own_postgres, BACKEND_API_TOKEN=API_TOKEN), Database(own_postgres)
    )
    headers = {"Authorization": f"Bearer {API_TOKEN}", **BOT}
    with TestClient(app, headers=headers) as client:
        offer = client.post(
            "/api/v1/customers/1/payment-quotes", json={"amount_choice": "full_balance"}
        ).json()

    def click(index: int) -> tuple[int, int]:
        key = "click-same-0001" if same_key else f"click-{index:04d}-x"
        with TestClient(app, headers=headers) as client:
            response = client.post(
                f"/api/v1/customers/1/payment-quotes/{offer['quote_id']}/confirm",
                headers={"Idempotency-Key": key},
            )
            return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(click, range(20)))
    assert sorted(status for status, _ in answers) == [200] * 19 + [201], answers
    assert len({payment_id for _, payment_id in answers}) == 1
    engine = make_engine(own_postgres)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment).where(Payment.source == "bot")) == 1
    engine.dispose()
    with TestClient(app, headers=headers) as client:
        assert client.get("/api/v1/customers/1/balance").json()["total_due"] == "0.00"


# --- a webhook faster than the payment's commit ---------------------------------------------------------
def three_d_secure_quote(app, client: TestClient) -> str:
    """Alice's default card becomes one that answers `pending` (3-D Secure style); a quote for her balance."""
    card = app.state.processor.tokenize_card(
        number="4000000000003220", exp_month=12, exp_year=2031, cvc="123"
    )
    saved = client.post(
        "/api/v1/customers/1/payment-methods",
        json={"token": card.token},
        headers={"Idempotency-Key": "race-card-1"},
    )
    assert saved.status_code == 201, saved.text
    return str(
        client.post("/api/v1/customers/1/payment-quotes", json={"amount_choice": "full_balance"}).json()[
            "quote_id"
        ]
    )


def deliver(engine, processor: SimulatedProcessor, reference: str, event_id: str) -> str:
    """The webhook route's work, in a session (and transaction) of its own, as a concurrent request has."""
    body, headers = processor.event_payload(
        event_type=WebhookEventType.payment_succeeded, reference=reference, event_id=event_id
    )
    with Session(engine) as other:
        return handle_webhook(
            other, event=processor.parse_webhook(payload=body, headers=headers), today=TODAY
        )


def payment_and_event(engine, reference: str, event_id: str) -> tuple[str, str]:
    with Session(engine) as session:
        payment = session.scalar(select(Payment).where(Payment.processor_reference == reference))
        event = session.get(ProcessorEvent, event_id)
        assert payment is not None and event is not None
        return str(payment.status), event.outcome


def test_a_webhook_committed_during_the_charge_is_applied_when_the_payment_is_recorded(
    own_postgres: str,
) -> None:
    app = create_app(
        Settings(BACKEND_DATABASE_URL=own_postgres, BACKEND_API_TOKEN=API_TOKEN), Database(own_postgres)
    )
    engine = make_engine(own_postgres)
    simulated: SimulatedProcessor = app.state.processor
    delivered: list[str] = []

    class WebhookDuringCharge:
        """The processor answers `pending` and its webhook is handled (and committed) before that answer."""

        name = simulated.name

        def __getattr__(self, attribute: str):
            return getattr(simulated, attribute)

        def charge(self, **charge: object) -> ChargeResult:
            result = simulated.charge(**charge)  # type: ignore[arg-type]  # the keywords of PaymentProcessor.charge
            delivered.append(deliver(engine, simulated, result.reference, "evt_raceduring1"))
            return result

    headers = {"Authorization": f"Bearer {API_TOKEN}", **BOT}
    try:
        with TestClient(app, headers=headers) as client:
            quote_id = three_d_secure_quote(app, client)
            app.state.processor = WebhookDuringCharge()
            paid = client.post(
                f"/api/v1/customers/1/payment-quotes/{quote_id}/confirm",
                headers={"Idempotency-Key": "race-pay-1"},
            )
        assert delivered == ["deferred"]
        assert paid.status_code == 201 and paid.json()["status"] == "posted", paid.text
        assert payment_and_event(engine, paid.json()["processor_reference"], "evt_raceduring1") == (
            "posted",
            "applied",
        )
    finally:
        engine.dispose()


def test_a_webhook_between_the_record_and_its_commit_is_applied_by_the_billing_job(own_postgres: str) -> None:
    app = create_app(
        Settings(BACKEND_DATABASE_URL=own_postgres, BACKEND_API_TOKEN=API_TOKEN), Database(own_postgres)
    )
    engine = make_engine(own_postgres)
    processor: SimulatedProcessor = app.state.processor
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {API_TOKEN}", **BOT}) as client:
            quote_id = three_d_secure_quote(app, client)
            total_due = Decimal(client.get("/api/v1/customers/1/balance").json()["total_due"])
        # The payment is recorded (its deferred events checked) but not committed when the webhook comes in:
        # the webhook cannot see it and keeps the event as deferred.
        with Session(engine, expire_on_commit=False) as paying:
            account = get_account(paying, customer_id=1)
            method = default_method(paying, account=account)
            assert method is not None and paying.get(PaymentQuote, quote_id) is not None
            charged = charge_and_record(
                paying,
                account=account,
                method=method,
                amount=total_due,
                actor=Actor(role="bot", username="race"),
                processor_key=quote_id,
                payment_key=f"quote:{quote_id}",
                invoice_id=None,
                processor=processor,
                today=TODAY,
                settings=app.state.settings,
            )
            reference = charged.payment.processor_reference
            assert reference is not None and charged.payment.status == "pending"
            assert deliver(engine, processor, reference, "evt_racebetween1") == "deferred"
            paying.commit()
        assert payment_and_event(engine, reference, "evt_racebetween1") == ("pending", "deferred")

        # The billing job (the command a cron runs) applies it; a second run changes nothing.
        env = {**os.environ, "APP_ENV": "development", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        command = [
            sys.executable,
            "-m",
            "backend.cli",
            "--database-url",
            own_postgres,
            "run-billing-jobs",
            "--date",
            TODAY.isoformat(),
        ]
        runs = [
            json.loads(
                subprocess.run(
                    command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for _ in range(2)
        ]
        assert runs[0].get("deferred_webhook_applied") == 1, runs
        assert payment_and_event(engine, reference, "evt_racebetween1") == ("posted", "applied")
        assert "deferred_webhook_applied" not in runs[1], runs
        with TestClient(app, headers={"Authorization": f"Bearer {API_TOKEN}"}) as client:
            assert client.get("/api/v1/customers/1/balance").json()["total_due"] == "0.00"
        # And in process: nothing left for the job to do with this event.
        with Session(engine, expire_on_commit=False) as session:
            again = run_billing_jobs(session, day=TODAY, processor=processor, settings=app.state.settings)
        assert not any(name.startswith("deferred_webhook") for name in again.counts), again.counts
    finally:
        engine.dispose()
