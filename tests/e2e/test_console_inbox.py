"""The specialist's inbox in chromium (issue 17), against real backend and handoff processes (demo seed; no
Rasa needed): internal notes, unread badges and desktop alerts for messages in any of one's chats,
online/away, human labels, canned responses filled from the account, credits without a dispute with
maker-checker, a settled dispute's buttons, routing by team with transfers, the SLA, names and money as
people read them. One stack for the module; each test uses its own customers."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from websockets.sync.client import ClientConnection, connect

from tests.handoff.conftest import JWT_SECRET, customer_token
from tests.support.demo_page import sign_in_to_console
from tests.support.stack import APP_PYTHON, REPO_ROOT, Service, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

BACKEND_TOKEN = "e2e-inbox-backend-token"
PAYMENTS_SLA_SECONDS = 3
HANDOFF_TOKEN = "e2e-inbox-handoff-token"
# Records what the page hands to the browser's real Notification (permission granted by the context).
RECORD_NOTIFICATIONS = """
  window.__alerts = [];
  if (window.Notification) {
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__alerts.push({ title, body: options.body });
      }
    };
  }
"""


@dataclass
class Stack:
    backend: str
    handoff: str

    def backend_api(self, actor: str) -> httpx.Client:
        return httpx.Client(base_url=self.backend, timeout=20,
                            headers={"Authorization": f"Bearer {BACKEND_TOKEN}", "X-Actor": actor})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("inbox")
    backend_port, handoff_port = free_port(), free_port()
    backend_url, handoff_url = f"http://127.0.0.1:{backend_port}", f"http://127.0.0.1:{handoff_port}"
    common = {"PATH": "/usr/bin:/bin", "APP_ENV": "development", "BACKEND_API_TOKEN": BACKEND_TOKEN,
              "HANDOFF_API_TOKEN": HANDOFF_TOKEN, "BACKEND_URL": backend_url, "HANDOFF_URL": handoff_url}
    backend_env = {**common, "BACKEND_DATABASE_URL": f"sqlite:///{workdir / 'backend.db'}",
                   "PAYMENTS_PROCESSOR": "simulated", "PAYMENT_PAGE_BASE_URL": backend_url}
    handoff_env = {**common, "HANDOFF_DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}",
                   "CUSTOMER_JWT_SECRET": JWT_SECRET, "RASA_URL": f"http://127.0.0.1:{free_port()}",
                   "HANDOFF_TICKET_WHEN_NOBODY_ONLINE": "false", "HANDOFF_CREDIT_APPROVAL_LIMIT": "50.00",
                   # the payments team's SLA is short, so a chat passes it within the test
                   "HANDOFF_SLA_SECONDS": f"disputes=300,payments={PAYMENTS_SLA_SECONDS},general=600",
                   "HANDOFF_HOUSEKEEPING_SECONDS": "1"}
    for module, env in (("backend.cli", backend_env), ("handoff.cli", handoff_env)):
        for command in ("migrate", "seed-demo"):
            subprocess_run([str(APP_PYTHON), "-m", module, command], env)
    services = []
    for name, app, port, env in (("backend", "backend.main:app", backend_port, backend_env),
                                 ("handoff", "handoff.main:app", handoff_port, handoff_env)):
        command = [str(APP_PYTHON), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
        service = Service(name, command, f"http://127.0.0.1:{port}/health", port)
        service.start(env, workdir)
        services.append(service)
    try:
        for service in services:
            service.wait_healthy(60)
        yield Stack(backend=backend_url, handoff=handoff_url)
    finally:
        for service in services:
            service.stop()


def subprocess_run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=120)


class Customer:
    """A signed-in customer's widget connection (the widget protocol over a real WebSocket)."""

    def __init__(self, stack: Stack, customer_id: int | None, name: str) -> None:
        token = customer_token(customer_id, name) if customer_id else ""  # none: an anonymous visitor
        url = f"{stack.handoff.replace('http', 'ws')}/ws/chat?token={token}"
        self.socket: ClientConnection = connect(url, origin=stack.handoff)
        self.socket.send(json.dumps({"type": "hello", "conversation_id": None, "last_seq": 0}))
        self.conversation_id: str = self.receive()["conversation_id"]
        self.frames: list[dict[str, Any]] = []

    def receive(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(self.socket.recv(timeout=timeout))

    def drain(self) -> list[dict[str, Any]]:
        while True:
            try:
                self.frames.append(self.receive(timeout=0.5))
            except TimeoutError:
                return self.frames

    def say(self, text: str) -> None:
        self.socket.send(json.dumps({"type": "message", "client_id": str(uuid.uuid4()), "text": text}))

    def close(self) -> None:
        self.socket.close()


def escalate(stack: Stack, customer: Customer, customer_id: int, **extra: Any) -> None:
    body = {"conversation_id": customer.conversation_id, "reason": "request_human",
            "customer_id": customer_id, "summary": "Wants a person.", **extra}
    answer = httpx.post(f"{stack.handoff}/api/escalations", json=body, timeout=20,
                        headers={"Authorization": f"Bearer {HANDOFF_TOKEN}"})
    assert answer.status_code == 200 and answer.json()["state"] == "queued", answer.text


@pytest.fixture
def pages(stack: Stack, browser: Browser) -> Iterator[dict[str, tuple[Page, list[str]]]]:
    """Dana's (specialist) and Sam's (supervisor) consoles, each with the script errors it shows."""
    opened: dict[str, tuple[Page, list[str]]] = {}
    contexts = []
    for username in ("dana", "sam"):
        context = browser.new_context(viewport={"width": 1366, "height": 800})
        context.grant_permissions(["notifications"], origin=stack.handoff)
        context.add_init_script(RECORD_NOTIFICATIONS)
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error, problems=problems: problems.append(str(error)))
        sign_in_to_console(page, stack.handoff, username, f"{username}-demo-pass")
        expect(page.locator("[data-testid=console-connection]")).to_have_attribute("data-state", "connected")
        opened[username] = (page, problems)
    try:
        yield opened
    finally:
        for context in contexts:
            context.close()


def claim(console: Page, customer_name: str) -> None:
    console.click(f"[data-testid=queue-item]:has-text('{customer_name}') [data-testid=queue-claim]")
    expect(console.locator("[data-testid=conversation-title]")).to_contain_text(customer_name)
    expect(console.locator("[data-testid=conversation-view]")).to_have_attribute("data-state", "assigned")


def test_notes_badges_alerts_presence_and_labels(stack: Stack, pages) -> None:
    dana, dana_problems = pages["dana"]
    _sam, sam_problems = pages["sam"]
    expect(dana.locator("[data-testid=conversation-empty]")).to_be_visible()
    expect(dana.locator("[data-testid=my-chats-empty]")).to_be_visible()

    alice = Customer(stack, 1, "Alice")
    escalate(stack, alice, 1, slots={"dispute_line_item_id": "30", "customer_first_name": "Alice"})
    expect(dana.locator("[data-testid=queue-item-meta]").first).to_contain_text("Asked for a person")
    claim(dana, "Alice")
    expect(dana.locator("[data-testid=conversation-empty]")).to_be_hidden()
    expect(dana.locator("[data-testid=context-reason]")).to_have_text("Asked for a person")
    slot = dana.locator("[data-testid=context-slot][data-slot=dispute_line_item_id]")
    expect(slot).to_have_text("30")
    assert "dispute_line_item_id" not in (dana.text_content("[data-testid=context-slots]") or "")
    assert "Disputed charge (line item)" in (dana.text_content("[data-testid=context-slots]") or "")

    # An internal note: colleagues and supervisors read it; the customer never gets it.
    note = "Alice called twice last week about the same charge; be gentle."
    dana.fill("[data-testid=note-input]", note)
    dana.click("[data-testid=note-add]")
    expect(dana.locator("[data-testid=note-item] [data-testid=note-text]")).to_have_text([note])
    with httpx.Client(base_url=stack.handoff, timeout=20) as http:
        token = http.post("/api/console/login", json={"username": "sam", "password": "sam-demo-pass"}).json()
        seen = http.get(f"/api/console/conversations/{alice.conversation_id}",
                        headers={"Authorization": f"Bearer {token['token']}"}).json()
    assert [n["text"] for n in seen["notes"]] == [note]  # a supervisor reads it
    assert all(note not in m["text"] for m in seen["messages"])  # never a message of the chat
    frames = alice.drain()
    assert not any(note in json.dumps(frame) for frame in frames), frames  # the widget never got it

    # A second chat is open; Alice writes: a badge, a preview, the tab title and a desktop alert.
    farid = Customer(stack, 6, "Farid")
    escalate(stack, farid, 6)
    claim(dana, "Farid")
    alice.say("Are you still there? I need this sorted before Friday.")
    alice_item = dana.locator(f"[data-testid=my-chat-item][data-conversation-id='{alice.conversation_id}']")
    expect(alice_item.locator("[data-testid=my-chat-unread]")).to_have_text("1")
    expect(alice_item.locator("[data-testid=my-chat-preview]")).to_have_text(
        "Are you still there? I need this sorted before Friday.")
    expect(dana).to_have_title("(1) Billing console")
    alerts = dana.evaluate("() => window.__alerts")
    assert alerts == [{"title": "New message from Alice",
                       "body": "Are you still there? I need this sorted before Friday."}]
    alice_item.locator("[data-testid=my-chat-open]").click()
    expect(dana.locator("[data-testid=conversation-title]")).to_contain_text("Alice")
    expect(alice_item.locator("[data-testid=my-chat-unread]")).to_have_count(0)
    expect(dana).to_have_title("Billing console")
    expect(dana.locator("[data-testid=transcript-message][data-sender=customer]").last).to_contain_text(
        "before Friday")

    # Away: the toggle and the API agree, and colleagues see it.
    toggle = dana.locator("[data-testid=presence-toggle]")
    expect(toggle).to_have_attribute("data-status", "online")
    toggle.click()
    expect(toggle).to_have_attribute("data-status", "away")
    with httpx.Client(base_url=stack.handoff, timeout=20) as http:
        colleagues = http.get("/api/console/staff", headers={"Authorization": f"Bearer {token['token']}"})
    assert {c["username"]: c["away"] for c in colleagues.json()["staff"]}["dana"] is True
    toggle.click()
    expect(toggle).to_have_attribute("data-status", "online")
    dana.screenshot(path=str(Path("/tmp/console_shots") / "inbox.png"))
    alice.close()
    farid.close()
    assert dana_problems == [] and sam_problems == [], (dana_problems, sam_problems)


def long_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day:%B} {day.day}, {day.year}"


def test_canned_responses_and_a_credit_with_maker_checker(stack: Stack, pages) -> None:
    dana, dana_problems = pages["dana"]
    sam, sam_problems = pages["sam"]
    # Sam (supervisor) keeps the canned responses; a typo in a placeholder is refused.
    sam.click("[data-testid=nav-canned]")
    sam.fill("[data-testid=canned-title]", "Balance reminder")
    sam.fill("[data-testid=canned-body]", "Hi {firstname}")
    sam.click("[data-testid=canned-save]")
    expect(sam.locator("[data-testid=console-notice]")).to_contain_text("Unknown placeholder {firstname}")
    sam.fill("[data-testid=canned-body]", "Hi {first_name}, your balance is {total_due}, due on {due_date}.")
    sam.click("[data-testid=canned-save]")
    expect(sam.locator("[data-testid=canned-admin-item]")).to_have_count(1)
    sam.click("[data-testid=nav-queue]")

    david = Customer(stack, 4, "David")
    escalate(stack, david, 4)
    dana.reload()  # the canned list is read when the console starts
    claim(dana, "David")
    with stack.backend_api("specialist:dana") as backend:
        balance = backend.get("/api/v1/customers/4/balance").json()
    expected = (f"Hi David, your balance is ${Decimal(balance['total_due']):,.2f}, "
                f"due on {long_date(balance['next_due_date'])}.")
    dana.select_option("[data-testid=canned-select]", label="Balance reminder")
    dana.click("[data-testid=canned-insert]")
    expect(dana.locator("[data-testid=agent-input]")).to_have_value(expected)
    assert not any(f.get("sender") == "agent" for f in david.drain())  # inserted, not sent

    # Within the limit: issued at once, once for a double click, and the customer is told.
    dana.fill("[data-testid=credit-amount]", "10.00")
    dana.fill("[data-testid=credit-note]", "Sorry for the wait on Monday")
    dana.dblclick("[data-testid=credit-button]")
    expect(dana.locator("[data-testid=credit-result]")).to_have_text("Credit of $10.00 issued.")
    expect(dana.locator("[data-testid=credit-item][data-status=issued]")).to_have_count(1)
    told = "[data-testid=transcript-message][data-sender=system] >> text=A credit of $10.00 was applied"
    dana.wait_for_selector(told)
    with stack.backend_api("specialist:dana") as backend:
        after_goodwill = Decimal(backend.get("/api/v1/customers/4/balance").json()["total_due"])
    assert after_goodwill == Decimal(balance["total_due"]) - Decimal("10.00")

    # Above the limit: pending for Dana and in Sam's approvals; Sam approves; Dana sees it issued.
    dana.fill("[data-testid=credit-amount]", "75.00")
    dana.select_option("[data-testid=credit-reason]", "billing_error")
    dana.fill("[data-testid=credit-note]", "Installation billed twice")
    dana.click("[data-testid=credit-button]")
    expect(dana.locator("[data-testid=credit-result]")).to_contain_text("waits for a supervisor")
    pending = dana.locator("[data-testid=credit-item][data-status=pending_approval]")
    expect(pending).to_contain_text("$75.00")
    waiting = sam.locator("[data-testid=approval-item]")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("asked by Dana")
    with stack.backend_api("specialist:dana") as backend:  # nothing issued while it waits
        assert Decimal(backend.get("/api/v1/customers/4/balance").json()["total_due"]) == after_goodwill
    waiting.locator("[data-testid=approval-approve]").click()
    expect(sam.locator("[data-testid=approvals-empty]")).to_be_visible()
    expect(dana.locator("[data-testid=credit-item][data-status=issued]")).to_have_count(2)
    expect(dana.locator("[data-testid=credit-item]").first).to_contain_text("by Sam")
    with stack.backend_api("specialist:dana") as backend:
        assert Decimal(backend.get("/api/v1/customers/4/balance").json()["total_due"]) == (
            after_goodwill - Decimal("75.00"))
    david.close()
    assert dana_problems == [] and sam_problems == [], (dana_problems, sam_problems)


def test_a_settled_dispute_disables_its_buttons_also_after_a_reload(stack: Stack, pages) -> None:
    dana, problems = pages["dana"]
    ben = Customer(stack, 2, "Ben")
    with stack.backend_api(f"bot:{ben.conversation_id}") as backend:
        invoice = backend.get("/api/v1/customers/2/invoices").json()[0]["number"]
        line = backend.get(f"/api/v1/customers/2/invoices/{invoice}").json()["line_items"][0]
        dispute = backend.post("/api/v1/customers/2/disputes", json={
            "line_item_id": line["id"], "reason": "I never asked for this",
            "conversation_id": ben.conversation_id})
        assert dispute.status_code == 201, dispute.text
    escalate(stack, ben, 2, reason="dispute", dispute_id=dispute.json()["id"],
             line_item={**line, "invoice_number": invoice})
    claim(dana, "Ben")
    expect(dana.locator("[data-testid=context-reason]")).to_have_text("Disputes a charge")
    dana.fill("[data-testid=settle-note]", "Charge confirmed wrong")
    dana.click("[data-testid=settle-accept-button]")
    expect(dana.locator("[data-testid=settle-accept-button]")).to_be_disabled()
    expect(dana.locator("[data-testid=settle-reject-button]")).to_be_disabled()
    # the refresh that disabled the buttons keeps what the settle call said (the credit), not the generic line
    expect(dana.locator("[data-testid=settle-result]")).to_contain_text("Dispute accepted; credit $")
    dana.reload()
    dana.click(f"[data-testid=my-chat-item][data-conversation-id='{ben.conversation_id}'] "
               "[data-testid=my-chat-open]")
    settled = dana.locator("[data-testid=settle-result]")
    expect(settled).to_have_text("Dispute accepted; nothing more to settle.")
    expect(dana.locator("[data-testid=settle-accept-button]")).to_be_disabled()
    expect(dana.locator("[data-testid=context-dispute-id]")).to_contain_text("accepted")

    # Search: the dispute number and the invoice find Ben's chat; opening a result opens the conversation.
    for query, matched in ((f"#{dispute.json()['id']}", "dispute"), (invoice, "invoice")):
        dana.fill("[data-testid=search-input]", query)
        dana.click("[data-testid=search-submit]")
        found = dana.locator(f"[data-testid=search-result][data-conversation-id='{ben.conversation_id}']")
        expect(found).to_have_attribute("data-matched", matched)
    found.locator("[data-testid=search-open]").click()
    expect(dana.locator("[data-testid=conversation-view]")).to_have_attribute(
        "data-conversation-id", ben.conversation_id)
    ben.close()
    assert problems == [], problems


def queue_item(console: Page, customer: Customer) -> Any:
    return console.locator(f"[data-testid=queue-item][data-conversation-id='{customer.conversation_id}']")


def test_teams_route_by_reason_transfer_to_a_team_or_a_person_and_an_sla_breach_reaches_supervisors(
        stack: Stack, pages, browser: Browser) -> None:
    dana, dana_problems = pages["dana"]  # disputes + general
    sam, sam_problems = pages["sam"]  # supervisor: every queue
    pat_context = browser.new_context(viewport={"width": 1366, "height": 800})
    pat = pat_context.new_page()  # payments + general
    sign_in_to_console(pat, stack.handoff, "pat", "pat-demo-pass")
    expect(pat.locator("[data-testid=console-connection]")).to_have_attribute("data-state", "connected")
    expect(pat.locator("[data-testid=console-user]")).to_have_text(
        "Pat (specialist · Payments team, General billing)")  # the queues Pat works

    # The escalation reason picks the queue: a dispute, a payment arrangement, a request for a person.
    carla = Customer(stack, 3, "Carla")
    escalate(stack, carla, 3, reason="dispute")
    elena = Customer(stack, 5, "")  # signed in with a token without a name
    escalate(stack, elena, 5, reason="arrangement_request")
    grace = Customer(stack, 7, "Grace")
    escalate(stack, grace, 7)
    expect(queue_item(dana, carla)).to_have_attribute("data-team", "disputes")
    expect(queue_item(dana, grace)).to_have_attribute("data-team", "general")
    expect(queue_item(pat, elena)).to_have_attribute("data-team", "payments")
    expect(queue_item(pat, grace)).to_be_visible()  # Pat works two teams: payments and general
    expect(queue_item(pat, carla)).to_have_count(0)
    expect(queue_item(dana, elena)).to_have_count(0)
    # the name on file, not "Verified customer #5"
    expect(queue_item(pat, elena).locator("[data-testid=queue-item-customer]")).to_have_text(
        "Elena Petrova (#5)")
    expect(queue_item(pat, elena).locator("[data-testid=queue-item-meta]")).to_contain_text("Payments team")

    # SLA: Elena's chat waits past the payments team's threshold: highlighted, and supervisors are told.
    expect(queue_item(sam, elena)).to_have_attribute("data-sla-breached", "true", timeout=20_000)
    expect(queue_item(sam, elena).locator("[data-testid=queue-item-sla]")).to_have_text("Over SLA")
    expect(queue_item(pat, elena)).to_have_attribute("data-sla-breached", "true")
    expect(sam.locator("[data-testid=console-notice]")).to_contain_text(
        "Over SLA: a chat in the Payments team queue has waited")
    alerts = sam.evaluate("() => window.__alerts")
    assert [a["title"] for a in alerts] == ["Over SLA"] and "Payments team queue" in alerts[0]["body"], alerts
    expect(queue_item(dana, grace)).not_to_have_attribute("data-sla-breached", "true")  # general: 10 min

    # Claiming outside one's teams is refused.
    with httpx.Client(base_url=stack.handoff, timeout=20) as http:
        login = http.post("/api/console/login", json={"username": "dana", "password": "dana-demo-pass"})
        refused = http.post(f"/api/console/conversations/{elena.conversation_id}/claim",
                            headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_team", refused.text

    # Dana takes the dispute: the account panel writes money as people read it.
    claim(dana, "Carla")
    balance = dana.locator("[data-testid=account-balance]")
    dollars = r"\$[0-9,]+\.[0-9]{2}"
    long_date = r"[A-Z][a-z]+ [0-9]{1,2}, [0-9]{4}"  # December 17, 2026
    expect(balance).to_have_text(re.compile(
        rf"^Total due {dollars} \(past due {dollars}\) · next {dollars} on {long_date}$"))
    expect(balance).not_to_contain_text("USD")
    expect(dana.locator("[data-testid=account-invoice]").first).to_contain_text("$")

    # ...and sends it to the payments team's queue: it waits there again, for Pat, without an owner.
    dana.select_option("[data-testid=transfer-select]", "team:payments")
    dana.click("[data-testid=transfer-button]")
    expect(queue_item(pat, carla)).to_have_attribute("data-team", "payments")
    expect(dana.locator(f"[data-testid=my-chat-item][data-conversation-id='{carla.conversation_id}']")
           ).to_have_count(0)
    # Pat claims it and hands it to a person: Dana.
    queue_item(pat, carla).locator("[data-testid=queue-claim]").click()
    expect(pat.locator("[data-testid=conversation-view]")).to_have_attribute("data-state", "assigned")
    pat.select_option("[data-testid=transfer-select]", "dana")
    pat.click("[data-testid=transfer-button]")
    expect(dana.locator("[data-testid=console-notice]")).to_contain_text("Pat transferred a chat to you.")
    expect(dana.locator(f"[data-testid=my-chat-item][data-conversation-id='{carla.conversation_id}']")
           ).to_have_count(1)
    with httpx.Client(base_url=stack.handoff, timeout=20) as http:
        login = http.post("/api/console/login", json={"username": "sam", "password": "sam-demo-pass"})
        audit = http.get("/api/console/audit?limit=50",
                         headers={"Authorization": f"Bearer {login.json()['token']}"}).json()["entries"]
    transfers = [e["details"] for e in audit
                 if e["action"] == "transfer" and e["target"] == carla.conversation_id]
    assert {"to_team": "payments"} in transfers and {"to": "dana"} in transfers, transfers
    for customer in (carla, elena, grace):
        customer.close()
    pat_context.close()
    assert dana_problems == [] and sam_problems == [], (dana_problems, sam_problems)


def test_a_fresh_sign_in_is_online_and_a_reload_keeps_away(stack: Stack, pages, browser: Browser) -> None:
    dana, problems = pages["dana"]
    toggle = dana.locator("[data-testid=presence-toggle]")
    toggle.click()
    expect(toggle).to_have_attribute("data-status", "away")
    dana.reload()  # the same session: still away
    expect(toggle).to_have_attribute("data-status", "away")
    context = browser.new_context()
    again = context.new_page()
    sign_in_to_console(again, stack.handoff, "dana", "dana-demo-pass")  # a new sign-in: online
    expect(again.locator("[data-testid=presence-toggle]")).to_have_attribute("data-status", "online")
    dana.reload()
    expect(toggle).to_have_attribute("data-status", "online")
    context.close()
    assert problems == [], problems


def test_a_visitor_verified_by_the_bot_is_named_and_their_account_is_shown(stack: Stack, pages) -> None:
    dana, problems = pages["dana"]
    hiro = Customer(stack, None, "")  # anonymous; the bot verified Hiro by account number and postal code
    escalate(stack, hiro, 8, slots={"identity_verified": True})
    item = queue_item(dana, hiro)
    expect(item.locator("[data-testid=queue-item-customer]")).to_have_text("Hiro Tanaka (#8)")
    item.locator("[data-testid=queue-claim]").click()
    expect(dana.locator("[data-testid=conversation-title]")).to_have_text("Hiro Tanaka — customer #8")
    expect(dana.locator("[data-testid=account-customer]")).to_contain_text("Hiro Tanaka · ACC-100008")
    expect(dana.locator("[data-testid=account-balance]")).to_contain_text("Total due $")
    expect(dana.locator("[data-testid=account-error]")).to_be_hidden()
    hiro.close()
    assert problems == [], problems
