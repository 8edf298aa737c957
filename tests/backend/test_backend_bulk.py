"""The bulk generator: reproducible from its seed, consistent totals, readable through the API."""
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from backend.billing.models import Invoice, LineItem
from backend.config import REPO_ROOT, Settings
from backend.customers.models import Customer
from backend.database import Database, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.seed.bulk import BULK_TODAY, seed_bulk
from backend.seed.demo import seed_demo
from tests.backend.conftest import API_TOKEN, POSTGRES_ADMIN_URL

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_urls(request: pytest.FixtureRequest, tmp_path) -> Iterator[list[str]]:
    """Two empty, migrated databases of one kind."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'bulk{i}.db'}" for i in range(2)]
        admin = None
    else:
        admin = create_engine(make_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
        names = [f"billing_bulk_test_{i}_{id(request)}" for i in range(2)]
        try:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        urls = [
            make_url(POSTGRES_ADMIN_URL).set(database=n).render_as_string(hide_password=False) for n in names
        ]
    for url in urls:
        engine = make_engine(url)
        upgrade(engine=engine)
        engine.dispose()
    yield urls
    if admin is not None:
        with admin.connect() as connection:
            for url in urls:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _fingerprint(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Invoice.number, Invoice.total, Invoice.status, func.count(LineItem.id))
            .join(LineItem, LineItem.invoice_id == Invoice.id).group_by(Invoice.id).order_by(Invoice.number)
        )
        return [tuple(row) for row in rows]


def test_bulk_seed_is_reproducible_and_consistent(fresh_urls):
    engines = [make_engine(url) for url in fresh_urls]
    try:
        first = seed_bulk(engine=engines[0], customers=40, seed=7, batch_size=15)
        seed_bulk(engine=engines[1], customers=40, seed=7, batch_size=40)
        assert first.customers == 40 and first.invoices == 480 and first.line_items >= 960
        assert _fingerprint(engines[0]) == _fingerprint(engines[1])
        with engines[0].connect() as connection:
            mismatched = connection.execute(
                select(Invoice.number).join(LineItem).group_by(Invoice.id, Invoice.number, Invoice.total)
                .having(func.sum(LineItem.amount) != Invoice.total)
            ).all()
            assert mismatched == []
            assert connection.scalar(select(func.count()).select_from(Customer)) == 40
    finally:
        for engine in engines:
            engine.dispose()


def test_bulk_customers_are_served_by_the_api_next_to_the_demo(fresh_urls):
    url = fresh_urls[0]
    engine = make_engine(url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        seed_demo(session, today=BULK_TODAY)
    seed_bulk(engine=engine, customers=5, seed=1)
    engine.dispose()
    app = create_app(Settings(BACKEND_DATABASE_URL=url, BACKEND_API_TOKEN=API_TOKEN), Database(url))
    with TestClient(app, headers={"Authorization": f"Bearer {API_TOKEN}"}) as client:
        invoices = client.get("/api/v1/customers/9/invoices").json()
        assert len(invoices) == 12 and invoices[0]["number"].startswith("INV-2026-")
        detail = client.get(f"/api/v1/customers/9/invoices/{invoices[0]['number']}").json()
        assert sum(Decimal(line["amount"]) for line in detail["line_items"]) == Decimal(detail["total"])
        explained = client.get(f"/api/v1/customers/9/line-items/{detail['line_items'][0]['id']}/explanation")
        assert explained.status_code == 200 and explained.json()["summary"]
        assert client.get(f"/api/v1/customers/10/invoices/{invoices[0]['number']}").status_code == 404
        assert client.get("/api/v1/customers/1").json()["first_name"] == "Alice"


def test_cli_migrate_and_seed(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "backend.cli", "--database-url", url, *args],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )

    assert run("migrate").returncode == 0
    assert run("seed-demo").returncode == 0
    again = run("seed-demo")  # `make run` seeds at every start
    assert again.returncode == 0 and "already present" in again.stdout
    assert run("seed-demo", "--reset").returncode == 0
    bulk = run("seed-bulk", "--customers", "3", "--seed", "42")
    assert bulk.returncode == 0 and "seeded 3 customers, 36 invoices" in bulk.stdout


def test_seed_demo_twice_keeps_the_data_and_refuses_foreign_customers(fresh_urls):
    """`make run` seeds on every start: a second seed is a no-op, never a failure or a duplicate."""
    url = fresh_urls[0]
    engine = make_engine(url)
    from sqlalchemy.orm import Session

    from backend.seed.demo import SeedError

    with Session(engine) as session:
        assert seed_demo(session, today=BULK_TODAY) is True
    with Session(engine) as session:
        assert seed_demo(session, today=BULK_TODAY) is False
        assert session.scalar(select(func.count()).select_from(Customer)) == 8
    engine.dispose()

    other = make_engine(fresh_urls[1])
    seed_bulk(engine=other, customers=2, seed=1)
    with Session(other) as session, pytest.raises(SeedError):
        seed_demo(session, today=BULK_TODAY)
    other.dispose()
