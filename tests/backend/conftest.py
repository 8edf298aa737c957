"""Backend test fixtures: the same suite runs on SQLite and on PostgreSQL (marked `postgres`).

Each database is migrated once per session with Alembic; each test runs inside a transaction that is rolled
back at the end (the service's commits only release a SAVEPOINT), so tests never see each other's rows.
PostgreSQL tests create their own database (billing_test_<pid>) from the `test` database and drop it after.
"""
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from backend.clock import get_now, get_today
from backend.config import Settings
from backend.database import Database, get_session, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.seed.demo import seed_demo
from tests.backend import factories

API_TOKEN = "test-backend-token"
# A fixed "today", deliberately not the real date: expectations come from the seed's constants and the DB.
TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
POSTGRES_ADMIN_URL = os.environ.get("BACKEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _create_postgres_database() -> tuple[str, Engine]:
    admin_url = make_url(POSTGRES_ADMIN_URL)
    name = f"billing_test_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {admin_url.render_as_string()}: {exc}")
    return admin_url.set(database=name).render_as_string(hide_password=False), admin


@contextmanager
def seeded_postgres_database(name: str) -> Iterator[str]:
    """A PostgreSQL database of its own, migrated and demo-seeded, for tests that need real concurrent
    connections (not the shared session); dropped afterwards. Skips when PostgreSQL is not reachable."""
    name = f"{name}_{os.getpid()}"  # pytest-xdist workers run side by side
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine=engine)
    with Session(engine) as session:
        seed_demo(session, today=TODAY)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('backend') / 'billing_test.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url, admin = _create_postgres_database()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(database_url: str, database_engines: dict[str, Engine]) -> Engine:
    if database_url not in database_engines:
        engine = make_engine(database_url)
        upgrade(engine=engine)
        database_engines[database_url] = engine
    return database_engines[database_url]


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    factories.bind(session)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(db_session: Session, database_url: str):
    settings = Settings(APP_ENV="development", BACKEND_DATABASE_URL=database_url, BACKEND_API_TOKEN=API_TOKEN)
    application = create_app(settings=settings, database=Database(database_url))

    def test_session() -> Iterator[Session]:
        yield db_session

    application.dependency_overrides[get_session] = test_session
    async def fixed_today() -> date:
        return TODAY

    async def fixed_now() -> datetime:
        return NOW

    application.dependency_overrides[get_today] = fixed_today
    application.dependency_overrides[get_now] = fixed_now
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(
        app, headers={"Authorization": f"Bearer {API_TOKEN}"}, raise_server_exceptions=False
    ) as test_client:
        yield test_client


@pytest.fixture
def demo(db_session: Session) -> Session:
    seed_demo(db_session, today=TODAY)
    return db_session


STAFF = {"X-Actor": "specialist:dana"}
