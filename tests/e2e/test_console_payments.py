"""The handoff service against a real backend process (demo seed; no Rasa needed):
- the secure payment page's outcome reaches Farid's open chat over a real WebSocket, once;
- in chromium, a specialist who claims Farid's chat sees his expired card, the failed autopay and the alerts
  in the account panel;
- in chromium, a specialist takes Alice's balance with her card on file (quote, confirmation dialog,
  double-clicked confirm: one payment) and approves Farid's promise to pay outside policy with a note."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page
from websockets.sync.client import connect

from tests.handoff.conftest import JWT_SECRET, Widget, customer_token
from tests.support.demo_page import sign_in_to_console
from tests.support.stack import APP_PYTHON, REPO_ROOT, Service, free_port

pytestmark = [pytest.mark.e2e]

BACKEND_TOKEN = "e2e-console-backend-token"
HANDOFF_TOKEN = "e2e-console-handoff-token"
GOOD_CARD = "4242424242424242"


@dataclass
class Services:
    backend: str
    handoff: str

    @property
    def handoff_ws(self) -> str:
        return self.handoff.replace("http://", "ws://")


def _cli(module: str, command: str, env: dict[str, str]) -> None:
    subprocess.run([str(APP_PYTHON), "-m", module, command], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)


def _serve(name: str, app: str, port: int, env: dict[str, str], workdir: Path) -> Service:
    command = [str(APP_PYTHON), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    service = Service(name, command, f"http://127.0.0.1:{port}/health", port)
    service.start(env, workdir)
    return service


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    backend_port, handoff_port = free_port(), free_port()
    backend_url, handoff_url = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{handoff_port}"
    common = {"PATH": "/usr/bin:/bin", "APP_ENV": "development", "BACKEND_API_TOKEN": BACKEND_TOKEN,
              "HANDOFF_API_TOKEN": HANDOFF_TOKEN, "BACKEND_URL": backend_url, "HANDOFF_URL": handoff_url}
    backend_env = {**common, "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'backend.db'}",
                   "PAYMENTS_PROCESSOR": "simulated", "PAYMENT_PAGE_BASE_URL": backend_url}
    handoff_env = {**common, "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'handoff.db'}",
                   "CUSTOMER_JWT_SECRET": JWT_SECRET, "RASA_URL": f"http://127.0.0.1:{free_port()}",
                   "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "false"}
    for module, env in (("backend.cli", backend_env), ("handoff.cli", handoff_env)):
        _cli(module, "migrate", env)
        _cli(module, "seed-demo", env)
    started = [_serve("backend", "backend.main:app", backend_port, backend_env, tmp_path),
               _serve("handoff", "handoff.main:app", handoff_port, handoff_env, tmp_path)]
    try:
        for service in started:
            service.wait_healthy(60)
        yield Services(backend=backend_url, handoff=handoff_url)
    finally:
        for service in started:
            service.stop()


def _backend(services: Services, actor: str) -> httpx.Client:
    return httpx.Client(base_url=services.backend, timeout=20,
                        headers={"Authorization": f"Bearer {BACKEND_TOKEN}", "X-Actor": actor})


def _complete_the_page_as_farid(services: Services, conversation_id: str) -> dict:
    """What the page's script does: a link for this chat, the card to the processor side, then complete."""
    with _backend(services, f"bot:{conversation_id}") as api:
        link = api.post("/api/v1/customers/6/payment-page-links",
                        json={"purpose": "pay", "conversation_id": conversation_id},
                        headers={"Idempotency-Key": f"{conversation_id}-page-1"})
        assert link.status_code == 201, link.text
        path = link.json()["path"]
    with httpx.Client(base_url=services.backend, timeout=20) as browser:
        card = browser.post("/sim-processor/v1/payment_methods", data={
            "type": "card", "card[number]": GOOD_CARD, "card[exp_month]": "12", "card[exp_year]": "2034",
            "card[cvc]": "123"})
        assert card.status_code == 200, card.text
        done = browser.post(f"{path}/complete",
                            json={"payment_token": card.json()["id"], "pay": "past_due", "autopay": True})
        assert done.status_code == 200, done.text
        return done.json()


async def test_the_payment_pages_outcome_reaches_farids_open_chat_once(services: Services) -> None:
    widget = Widget(services.handoff_ws, customer_token(6, "Farid"))
    await widget.connect()
    outcome = await asyncio.to_thread(_complete_the_page_as_farid, services, widget.conversation_id)
    assert outcome["status"] == "completed" and "$75.00" in outcome["summary"]
    shown = await widget.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    assert shown["text"] == outcome["summary"]
    async with httpx.AsyncClient(base_url=services.handoff, timeout=20) as client:
        other = await client.post(
            "/api/payment-page/outcomes", headers={"Authorization": f"Bearer {HANDOFF_TOKEN}"},
            json={"event_id": f"payment-page-{'x' * 32}", "conversation_id": widget.conversation_id,
                  "customer_id": 7, "summary": "not Farid's"})
    assert other.status_code == 404  # another customer's outcome never reaches Farid's chat
    await widget.close()
    fresh = Widget(services.handoff_ws, customer_token(6, "Farid"), conversation_id=widget.conversation_id)
    await fresh.connect()  # replays the whole conversation: the outcome is in it exactly once
    await fresh.wait_for(lambda f: f["type"] == "message" and f["sender"] == "system")
    await asyncio.sleep(0.5)
    system = [f for f in fresh.frames if f["type"] == "message" and f["sender"] == "system"]
    assert [f["text"] for f in system] == [outcome["summary"]]
    await fresh.close()


def _waiting_for_a_specialist(services: Services, customer_id: int = 6, name: str = "Farid") -> str:
    with connect(f"{services.handoff_ws}/ws/chat?token={customer_token(customer_id, name)}",
                 origin=services.handoff) as socket:
        socket.send(json.dumps({"type": "hello", "conversation_id": None, "last_seq": 0}))
        welcome = json.loads(socket.recv(timeout=10))
        conversation_id = welcome["conversation_id"]
    escalated = httpx.post(f"{services.handoff}/api/escalations", timeout=20,
                           headers={"Authorization": f"Bearer {HANDOFF_TOKEN}"},
                           json={"conversation_id": conversation_id, "reason": "request_human",
                                 "customer_id": customer_id, "summary": f"{name} asks about paying."})
    assert escalated.status_code == 200 and escalated.json()["state"] == "queued", escalated.text
    return conversation_id


@pytest.fixture
def dana(services: Services, browser) -> Iterator[tuple[Page, list[str]]]:
    """Dana's console in chromium, signed in, with the script errors it shows."""
    context = browser.new_context()
    console = context.new_page()
    problems: list[str] = []
    console.on("pageerror", lambda error: problems.append(str(error)))
    sign_in_to_console(console, services.handoff, "dana", "dana-demo-pass")
    try:
        yield console, problems
    finally:
        context.close()


@pytest.mark.browser
def test_a_specialist_sees_farids_failed_autopay_and_expired_card(services: Services, dana) -> None:
    _waiting_for_a_specialist(services)
    console, problems = dana
    console.wait_for_selector("[data-testid=queue-item]")
    console.click("[data-testid=queue-claim]")
    console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
    expired = console.wait_for_selector("[data-testid=account-method][data-expired=true]")
    assert "Visa ending 0119" in (expired.text_content() or "")
    assert "EXPIRED" in (expired.text_content() or "")
    codes = console.eval_on_selector_all("[data-testid=account-alert]",
                                         "nodes => nodes.map(n => n.getAttribute('data-code'))")
    assert {"method_expired", "autopay_failed"} <= set(codes)
    failed = console.locator("[data-testid=account-payment][data-status=failed]")
    assert failed.count() == 1
    assert "expired" in (failed.text_content() or "") and "75.00" in (failed.text_content() or "")
    autopay = console.text_content("[data-testid=account-autopay]") or ""
    assert autopay.startswith("Autopay on") and "failed" in autopay
    assert console.text_content("[data-testid=account-arrangements]") == "None"
    assert problems == [], problems


def _claim_next(console, customer_name: str) -> None:
    console.click(f"[data-testid=queue-item]:has-text('{customer_name}') [data-testid=queue-claim]")
    console.wait_for_selector("[data-testid=conversation-view][data-state=assigned]")
    console.wait_for_selector(f"[data-testid=account-customer]:has-text('{customer_name}')")


@pytest.mark.browser
def test_a_specialist_takes_a_payment_once_and_approves_an_arrangement_outside_policy(
    services: Services, dana
) -> None:
    _waiting_for_a_specialist(services, 1, "Alice")
    console, problems = dana
    _claim_next(console, "Alice")
    console.select_option("[data-testid=payment-choice]", "full_balance")
    console.click("[data-testid=payment-quote-button]")
    summary = console.wait_for_selector("[data-testid=payment-dialog] [data-testid=payment-summary]")
    assert summary.text_content() == "Pay $85.00 now with Visa ending 1111?"
    console.dblclick("[data-testid=payment-confirm-button]")
    console.wait_for_selector("[data-testid=payment-result]:has-text('posted')")
    told = "[data-testid=transcript-message][data-sender=system] >> text=Dana took a payment"
    console.wait_for_selector(told)
    with _backend(services, "specialist:dana") as api:
        made = [p for p in api.get("/api/v1/customers/1/payments").json() if p["source"] == "specialist"]
        paid = [(p["amount"], p["status"], p["actor"]) for p in made]
        assert paid == [("85.00", "posted", "specialist:dana")]  # a double click pays once
        assert api.get("/api/v1/customers/1/balance").json()["total_due"] == "0.00"

    _waiting_for_a_specialist(services, 6, "Farid")
    _claim_next(console, "Farid")
    console.fill("[data-testid=arrangement-amount]", "75.00")
    with _backend(services, "specialist:dana") as api:
        latest = api.get("/api/v1/customers/6/arrangement-options").json()["promise_to_pay"]
    assert latest["eligible"] is False  # the policy's window is over: a specialist's call
    pay_by = (date.today() + timedelta(days=7)).isoformat()
    console.fill("[data-testid=arrangement-pay-by]", pay_by)
    console.click("[data-testid=arrangement-button]")
    refused = "[data-testid=arrangement-result]:has-text('within 14 days of the due date')"
    console.wait_for_selector(refused)  # without the override: the policy's reason
    console.check("[data-testid=arrangement-override]")
    console.fill("[data-testid=arrangement-note]", "Card replaced after fraud; pays on payday")
    console.dblclick("[data-testid=arrangement-button]")
    console.wait_for_selector("[data-testid=arrangement-result]:has-text('approved outside policy')")
    shown = console.wait_for_selector("[data-testid=account-arrangement][data-kind=promise_to_pay]")
    assert "outside policy" in (shown.text_content() or "")
    with _backend(services, "specialist:dana") as api:
        arrangements = api.get("/api/v1/customers/6/arrangements").json()
    made_now = [(a["kind"], a["approved_outside_policy"], a["created_by"], a["pay_by"])
                for a in arrangements]
    assert made_now == [("promise_to_pay", True, "specialist:dana", pay_by)]  # one, double-clicked

    # Farid's late fee is his first: Dana applies the one-time waiver (a double click waives once)
    with _backend(services, "specialist:dana") as api:
        before = Decimal(api.get("/api/v1/customers/6/balance").json()["total_due"])
        fee = api.get("/api/v1/customers/6/arrangement-options").json()["late_fee_waiver"]
    assert fee["eligible"], fee
    console.dblclick("[data-testid=waiver-button]")
    waived = f"${Decimal(fee['amount']):,.2f}"
    console.wait_for_selector(f"[data-testid=waiver-result]:has-text('Waived {waived}')")
    console.wait_for_selector("[data-testid=transcript-message][data-sender=system] >> text=Dana waived")
    with _backend(services, "specialist:dana") as api:
        waivers = [(a["status"], a["created_by"]) for a in api.get("/api/v1/customers/6/arrangements").json()
                   if a["kind"] == "late_fee_waiver"]
        after = Decimal(api.get("/api/v1/customers/6/balance").json()["total_due"])
    assert waivers == [("applied", "specialist:dana")] and after == before - Decimal(fee["amount"])
    console.click("[data-testid=waiver-button]")  # not again: the policy allows one
    console.wait_for_selector("[data-testid=waiver-result]:has-text('Waived')")  # the same answer (same key)
    assert problems == [], problems
