"""The widget's payment-reminder notice with real processes (issue 19, "Outreach on time"): the real backend
(demo seed, the billing job for the day sent Farid's reminders) and the handoff service as uvicorn processes,
a signed-in customer's widget over a real WebSocket: the newest unseen reminder ("You have $75.00 past due
since February 23.") arrives with Pay now / Talk to someone, Pay now reaches the bot, the backend marks it
seen, and the next chat shows the next unseen one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backend.conftest import TODAY
from tests.handoff.conftest import REPO_ROOT, Widget, customer_token, free_port

BACKEND_TOKEN = "test-backend-token"  # what the handoff test process sends (tests/handoff/conftest.py)


@pytest.fixture
def real_backend(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "APP_ENV": "development", "BACKEND_API_TOKEN": BACKEND_TOKEN,
           "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'billing.db'}"}
    for args in (["migrate"], ["seed-demo", "--today", TODAY.isoformat()],
                 ["run-billing-jobs", "--date", TODAY.isoformat()]):
        subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=REPO_ROOT, env=env, check=True,
                       capture_output=True, timeout=180)
    log = open(tmp_path / "backend.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "backend.log").read_text()[-3000:]
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _unseen(backend_url: str) -> list[str]:
    answer = httpx.get(f"{backend_url}/api/v1/customers/6/reminders", params={"unseen": "true"},
                       headers={"Authorization": f"Bearer {BACKEND_TOKEN}"}, timeout=10)
    answer.raise_for_status()
    return [item["kind"] for item in answer.json()]


async def test_a_signed_in_customer_sees_the_newest_unseen_reminder_once(make_handoff, real_backend,
                                                                         stand_in):
    assert _unseen(real_backend) == ["past_due", "autopay_failed", "card_expiring"]
    handoff = make_handoff(extra_env={"BACKEND_URL": real_backend})
    widget = Widget(handoff.ws_url, customer_token(6, "Farid"))
    await widget.connect()
    notice = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert notice["text"] == "You have $75.00 past due since February 23."
    assert [(b["title"], b["payload"]) for b in notice["buttons"]] == [
        ("Pay now", "/pay_bill"), ("Talk to someone", "/handoff_human")]
    assert _unseen(real_backend) == ["autopay_failed", "card_expiring"]

    client_id = await widget.send("Pay now", payload="/pay_bill")  # the button, as the widget sends it
    ack = await widget.wait_for(lambda f: f.get("client_id") == client_id)
    assert ack["type"] == "ack", ack
    await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "bot" and f["seq"] > ack["seq"])
    assert [m["message"] for m in stand_in.rasa_messages] == ["/pay_bill"]
    await widget.close()

    # The next chat shows the next unseen reminder, once.
    again = Widget(handoff.ws_url, customer_token(6, "Farid"))
    await again.connect()
    second = await again.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert second["text"] == "Your automatic payment of $75.00 did not go through."
    assert len([f for f in again.frames if f["type"] == "message" and f["sender"] == "system"]) == 1
    await again.close()
    assert _unseen(real_backend) == ["card_expiring"]
