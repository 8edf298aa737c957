"""The real backend app for action tests that talk to it in process (httpx ASGITransport): a migrated SQLite
database with the demo seed and the account-check demo customers (docs/demo-data.md), seeded for today."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database import Database, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.seed.account_check_demo import seed_account_check_demo
from backend.seed.demo import seed_demo


def seeded_backend_app(database_path: Path, *, token: str) -> FastAPI:
    url = f"sqlite:///{database_path}"
    engine = make_engine(url)
    upgrade(engine=engine)
    today = datetime.now(UTC).date()
    with Session(engine) as session:
        seed_demo(session, today=today)
        seed_account_check_demo(session, today=today)
    engine.dispose()
    return create_app(Settings(BACKEND_DATABASE_URL=url, BACKEND_API_TOKEN=token), Database(url))
