"""20 simultaneous confirmations of one payment -> one payment (PostgreSQL, real threads, real commits)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database import Database, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.payments.models import Payment
from backend.seed.demo import seed_demo
from tests.backend.conftest import API_TOKEN, POSTGRES_ADMIN_URL, TODAY

pytestmark = pytest.mark.postgres
BOT = {"X-Actor": "bot:rasa"}


@pytest.fixture
def own_postgres() -> str:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = "billing_payments_concurrency"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine=engine)
    with Session(engine) as session:
        seed_demo(session, today=TODAY)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
