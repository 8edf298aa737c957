"""One real stack for every fault and redaction test: the four processes, with the handoff service and the
backend on PostgreSQL (fresh databases), so a lost database connection is a real PostgreSQL event.

Rasa takes most of a minute to start, so the stack is shared by the session and each test leaves every
process running and healthy when it ends (a test that stops a process restarts it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import _logs_on_failure, pytest_runtest_makereport  # noqa: F401 (fixture and hook)
from tests.handoff.conftest import _postgres_admin_url
from tests.support.stack import Stack

DATABASES = ("handoff", "backend")


class Postgres:
    """Administration of the test databases from the `test` database (trust auth on 127.0.0.1)."""

    def __init__(self, user: str):
        self.user = user
        suffix = os.getpid()
        self.names = {part: f"faults_{part}_{suffix}" for part in DATABASES}

    def admin(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port=5432 user={self.user} dbname=test", autocommit=True
        ) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def url(self, part: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:5432/{self.names[part]}"

    def create(self) -> None:
        for name in self.names.values():
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.admin(f'CREATE DATABASE "{name}"')

    def drop(self) -> None:
        for name in self.names.values():
            self.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def terminate_connections(self, part: str) -> int:
        """pg_terminate_backend every session of one service's database: what a failover or restart does."""
        rows = self.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                          self.names[part])
        return sum(1 for (terminated,) in rows if terminated)

    def refuse_connections(self, part: str) -> None:
        """The database stops serving this service: new connections refused, open ones cut."""
        self.admin(f'ALTER DATABASE "{self.names[part]}" ALLOW_CONNECTIONS false')
        self.terminate_connections(part)

    def serve_again(self, part: str) -> None:
        self.admin(f'ALTER DATABASE "{self.names[part]}" ALLOW_CONNECTIONS true')


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    databases = Postgres(_postgres_admin_url())
    databases.create()
    yield databases
    databases.drop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres: Postgres) -> Iterator[Stack]:
    running = Stack(workdir=tmp_path_factory.mktemp("fault-stack"), env={
        "HANDOFF_DATABASE_URL": postgres.url("handoff"),
        "BACKEND_DATABASE_URL": postgres.url("backend"),
        # Escalations queue for a person even when no specialist is signed in yet.
        "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "false",
        # Queued customers who lost their connection stay queued for the whole session (queue comparisons).
        "HANDOFF_ABANDON_GRACE_SECONDS": "3600",
        # A stalled backend is given up on after 3 s, so the specialist hears about it quickly.
        "HANDOFF_BACKEND_TIMEOUT_SECONDS": "3",
    }).start()
    try:
        yield running
    finally:
        running.stop()
