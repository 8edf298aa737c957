"""No card number reaches the backend's database or logs: a whole secure-page flow with a test card on a fresh
SQLite file (committed for real, no rolled-back test transaction), every logger at DEBUG, then the database
(and its WAL) is scanned byte for byte."""

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database import Database, make_engine
from backend.main import create_app
from backend.migrations_api import upgrade
from backend.seed.demo import seed_demo

CARD = "5555555555554444"
CVC = "987"
# The number with or without spaces or dashes between any of its digits.
CARD_PATTERN = re.compile("[ -]?".join(CARD))


def test_no_card_number_reaches_the_backends_database_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'backend.db'}"
    engine = make_engine(url)
    upgrade(engine=engine)
    with Session(engine) as session:
        seed_demo(session, today=datetime.now(UTC).date())
        session.commit()
    engine.dispose()
    settings = Settings(
        APP_ENV="development",
        BACKEND_DATABASE_URL=url,
        BACKEND_API_TOKEN="card-scan-token",
        HANDOFF_URL="http://127.0.0.1:9",
    )  # nothing listens: the warning is logged too
    database = Database(url)
    app = create_app(settings=settings, database=database)
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(app, headers={"Authorization": "Bearer card-scan-token"}) as client,
    ):
        link = client.post(
            "/api/v1/customers/6/payment-page-links",
            headers={"X-Actor": "bot:conv-scan", "Idempotency-Key": "conv-scan-payment-page-1"},
            json={"purpose": "pay", "conversation_id": "conv-scan"},
        ).json()
        assert client.get(link["path"]).status_code == 200
        tokenized = client.post(
            "/sim-processor/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
                "card[exp_month]": "11",
                "card[exp_year]": "2033",
                "card[cvc]": CVC,
            },
        )
        assert tokenized.status_code == 200
        done = client.post(
            f"{link['path']}/complete",
            json={"payment_token": tokenized.json()["id"], "pay": "full_balance", "autopay": True},
        )
        assert done.status_code == 200 and done.json()["payment"]["status"] == "posted"
    database.dispose()

    stored = b"".join(path.read_bytes() for path in tmp_path.glob("backend.db*"))
    assert (
        b"Mastercard" in stored and tokenized.json()["id"].encode() in stored
    )  # the scan sees the saved method
    assert CARD_PATTERN.search(stored.decode("latin-1")) is None
    assert "handoff not reachable" in caplog.text  # the scan sees the logs
    logged = caplog.text + " ".join(str(record.args) for record in caplog.records)
    assert CARD_PATTERN.search(logged) is None
    assert "card[cvc]" not in logged and "card[number]" not in logged
