"""In-process fixtures for the handoff use cases: a real migrated SQLite database, the real in-memory pub/sub,
and fakes for what lives in other processes (Rasa, the backend). No server, no socket: each test runs in
milliseconds. What needs real processes (WebSockets, restarts, replicas) stays in tests/handoff/test_*.py.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from handoff.clients.backend import BackendClient
from handoff.clients.rasa import RasaClient
from handoff.config import Settings
from handoff.context import Services
from handoff.db import Database
from handoff.migrate import upgrade_database
from tests.handoff.unit.support import TICKET_CONTACT, FakeBackend, FakeRasa, RecordingPubSub


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real schema (Alembic head) once per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("handoff-schema") / "template.db"
    upgrade_database(database_url=f"sqlite:///{path}")
    return path


@pytest.fixture
def db_dir(tmp_path: Path) -> Iterator[Path]:
    """In memory when the machine has /dev/shm: the same SQLite, no disk wait at each commit."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="handoff-unit-") as directory:
        yield Path(directory)


@pytest.fixture
def settings(db_dir: Path) -> Settings:
    return Settings(app_env="development", database_url=f"sqlite:///{db_dir / 'handoff.db'}",
                    business_hours="24/7", timezone="UTC", ticket_when_nobody_online=True,
                    ticket_contact=TICKET_CONTACT, default_handling_seconds=300, presence_timeout_seconds=60,
                    abandon_grace_seconds=120, turn_claim_seconds=15)


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def services(settings: Settings, migrated_template: Path, db_dir: Path, rasa: FakeRasa,
             backend: FakeBackend) -> Iterator[Services]:
    shutil.copy(migrated_template, db_dir / "handoff.db")
    db = Database(settings.resolved_database_url)
    # The fakes stand in for the HTTP clients (same keyword-only methods, no network).
    yield Services(settings=settings, db=db, pubsub=RecordingPubSub(), rasa=cast(RasaClient, rasa),
                   backend=cast(BackendClient, backend))
    db.dispose()


@pytest.fixture
def recorder(services: Services) -> RecordingPubSub:
    """What the use cases published (through the notifier), in order."""
    assert isinstance(services.pubsub, RecordingPubSub)
    services.pubsub.drain()  # what the test's own set-up published is not under test
    return services.pubsub
