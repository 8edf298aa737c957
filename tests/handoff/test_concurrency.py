"""50 simultaneous claims of one chat: exactly one winner, enforced by the database (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from handoff.assignments import claim as claiming
from handoff.conversations import store
from handoff.db import Database
from handoff.errors import ServiceError
from handoff.migrate import upgrade_database
from handoff.models import Assignment, Message, StaffUser, StateChange
from handoff.specialists.auth import staff_from_user
from tests.handoff.conftest import API_TOKEN, Widget

CLAIMANTS = 50


def _race_claims(database_url: str) -> None:
    upgrade_database(database_url=database_url)
    db = Database(database_url)
    try:
        with db.session() as session:
            # Rows without real hashes: logging in is not what this test is about.
            users = [StaffUser(username=f"spec{i}", display_name=f"S{i}", role="specialist", active=True,
                               password_hash="unused", created_at=store.utcnow()) for i in range(CLAIMANTS)]
            session.add_all(users)
            session.flush()
            staff = [staff_from_user(user) for user in users]
            conversation_id = store.create_conversation(session, customer_id=4, customer_name="David").id
            store.transition(session, conversation_id=conversation_id, target="queued", actor="bot",
                             queued_at=store.utcnow())
        barrier = threading.Barrier(CLAIMANTS)

        def claim(member):
            barrier.wait()  # everyone fires at the same moment
            try:
                db.run_sync(claiming.claim_in_session, conversation_id=conversation_id, staff=member)
                return "won"
            except ServiceError as refusal:
                assert refusal.code == "already_claimed"
                return "told"

        with ThreadPoolExecutor(max_workers=CLAIMANTS) as pool:
            outcomes = list(pool.map(claim, staff))
        assert outcomes.count("won") == 1 and outcomes.count("told") == CLAIMANTS - 1
        with db.session() as session:
            winner = store.get_conversation(session, conversation_id=conversation_id)
            assert winner.state == "assigned"
            assignments = session.scalars(
                select(Assignment).where(Assignment.conversation_id == conversation_id)
            ).all()
            assert len(assignments) == 1 and assignments[0].specialist_id == winner.assigned_specialist_id
            assert session.scalar(select(func.count()).select_from(StateChange).where(
                StateChange.conversation_id == conversation_id, StateChange.to_state == "assigned")) == 1
            joined = session.scalars(select(Message).where(Message.conversation_id == conversation_id)).all()
            assert len(joined) == 1 and joined[0].text.endswith("has joined the chat.")
    finally:
        db.dispose()


def test_fifty_simultaneous_claims_on_sqlite(tmp_path):
    _race_claims(f"sqlite:///{tmp_path / 'race.db'}")


@pytest.mark.postgres
def test_fifty_simultaneous_claims_on_postgres(postgres_url):
    _race_claims(postgres_url)


@pytest.mark.slow
async def test_fifty_simultaneous_claims_over_http(handoff):
    """The same race through the running service: 50 requests from two logged-in colleagues."""
    sessions = []
    async with httpx.AsyncClient(base_url=handoff.url, timeout=60) as client:
        for username in ("dana", "sam"):
            password = f"{username}-demo-pass"
            login = await client.post("/api/console/login", json={"username": username, "password": password})
            token = login.json()["token"]
            sessions.append(token)
        widget = Widget(handoff.ws_url, "")
        await widget.connect()
        queued = await client.post("/api/escalations", headers={"Authorization": f"Bearer {API_TOKEN}"},
                                   json={"conversation_id": widget.conversation_id, "reason": "request_human",
                                         "summary": "wants a person"})
        assert queued.json()["state"] == "queued"
        url = f"/api/console/conversations/{widget.conversation_id}/claim"
        responses = await asyncio.gather(*(
            client.post(url, headers={"Authorization": f"Bearer {sessions[i % len(sessions)]}"})
            for i in range(CLAIMANTS)))
        codes = [r.status_code for r in responses]
        assert codes.count(200) == 1 and codes.count(409) == CLAIMANTS - 1
        assert all(r.json()["error"]["code"] == "already_claimed" for r in responses if r.status_code == 409)
        await widget.close()
