"""Tracker stores written by Rasa's own SQLTrackerStore (in .venv-bot), for the review tests."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.trainer.tracker_conversations import CONVERSATIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
WRITER = Path(__file__).with_name("write_tracker_store.py")


def write_with_rasa(*args: str) -> None:
    subprocess.run(
        [str(BOT_PYTHON), str(WRITER), *args],
        input=json.dumps(CONVERSATIONS),
        text=True,
        check=True,
        capture_output=True,
        cwd=REPO_ROOT,
    )


@pytest.fixture(scope="session")
def sqlite_tracker_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tracker") / "rasa_tracker.db"
    write_with_rasa("sqlite", str(path))
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_tracker_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, filled by Rasa, dropped afterwards."""
    name = f"trainer_review_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        write_with_rasa("postgresql", name, "127.0.0.1", "5432", "postgres")
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
