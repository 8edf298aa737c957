"""The secure payment page in chromium against a real backend process: Farid opens the link the bot asked for,
a declined card first, then a good one pays the past due and turns autopay on; the chat's side (a recording
stand-in of the handoff service) is told once; the link is then refused; and neither the backend's database
file nor its log (access lines included) holds the card number or the link."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.recorder import Recorder, recording_server
from tests.support.stack import APP_PYTHON, REPO_ROOT, Service, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

TOKEN = "e2e-page-backend-token"
HANDOFF_TOKEN = "e2e-page-handoff-token"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


@pytest.fixture
def handoff() -> Iterator[Recorder]:
    with recording_server() as recorder:
        yield recorder


@pytest.fixture
def backend(tmp_path: Path, handoff: Recorder) -> Iterator[Service]:
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin", "APP_ENV": "development", "BACKEND_API_TOKEN": TOKEN,
        "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path / 'backend.db'}", "PAYMENTS_PROCESSOR": "simulated",
        "PAYMENT_PAGE_BASE_URL": f"http://127.0.0.1:{port}", "HANDOFF_URL": handoff.url,
        "HANDOFF_API_TOKEN": HANDOFF_TOKEN,
    }
    for command in ("migrate", "seed-demo"):
        subprocess.run([str(APP_PYTHON), "-m", "backend.cli", command], cwd=REPO_ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
    service = Service("backend", [str(APP_PYTHON), "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1",
                                  "--port", str(port)], f"http://127.0.0.1:{port}/health", port)
    service.start(env, tmp_path)
    try:
        service.wait_healthy(60)
        yield service
    finally:
        service.stop()


def api(backend: Service) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{backend.port}", timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}", "X-Actor": "bot:conv-e2e-farid"})


def pay_with(page, number: str) -> None:
    page.fill("#card-number", f"{number[:4]} {number[4:8]} {number[8:12]} {number[12:]}")
    page.fill("#card-expiry", "12/34")
    page.fill("#card-cvc", "123")
    page.click("#submit")


def test_farid_updates_his_card_pays_the_past_due_and_turns_autopay_on(
    browser, backend: Service, handoff: Recorder, tmp_path: Path, artifacts: Path
) -> None:
    with api(backend) as client:
        link = client.post("/api/v1/customers/6/payment-page-links",
                           json={"purpose": "pay", "conversation_id": "conv-e2e-farid"},
                           headers={"Idempotency-Key": "conv-e2e-farid-payment-page-1"})
        assert link.status_code == 201, link.text
        url = link.json()["url"]
        assert client.get("/api/v1/customers/6/balance").json()["past_due"] == "75.00"

    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    # Script errors and CSP refusals; failed loads are checked by status (the favicon probe 404s: not ours).
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    failed_loads: list[str] = []
    page.on("response", lambda response: failed_loads.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(url)
        assert page.locator("#past-due").text_content() == "$75.00"
        assert page.locator("input[value=past_due]").is_checked()
        page.check("#autopay")

        pay_with(page, DECLINED_CARD)
        page.wait_for_selector("#status.error", timeout=15_000)
        assert "did not go through" in (page.locator("#status").text_content() or "")
        assert handoff.posts == []

        pay_with(page, GOOD_CARD)
        page.wait_for_selector("#result:not([hidden])", timeout=15_000)
        summary = page.locator("#result-summary").text_content() or ""
        page.screenshot(path=str(artifacts / "secure-page-farid.png"), full_page=True)
        assert "Visa ending 4242" in summary and "$75.00 has posted" in summary and "Autopay is on" in summary

        assert failed_loads == [], failed_loads
        page.goto(url)  # the same link again
        assert page.locator("#refused").get_attribute("data-code") == "link_used"
        assert "already used" in (page.locator("#refused").text_content() or "")
        assert problems == [], problems
    finally:
        context.close()

    assert [(p["path"], p["authorization"]) for p in handoff.posts] == [
        ("/api/payment-page/outcomes", f"Bearer {HANDOFF_TOKEN}")]
    assert handoff.posts[0]["body"]["conversation_id"] == "conv-e2e-farid"
    assert handoff.posts[0]["body"]["summary"] == summary
    with api(backend) as client:
        balance = client.get("/api/v1/customers/6/balance").json()
        methods = client.get("/api/v1/customers/6/payment-methods").json()
    assert balance["past_due"] == "0.00" and methods["autopay"] is True
    assert [m["last4"] for m in methods["on_file"] if m["is_default"]] == ["4242"]

    backend.stop()
    token = url.rsplit("/", 1)[1]
    log = backend.log_path.read_text(errors="replace") if backend.log_path else ""
    assert "/pay/[redacted]" in log and token not in log  # the access lines were written, without the link
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("backend.db*")).decode("latin-1")
    for number in (GOOD_CARD, DECLINED_CARD):
        card = re.compile("[ -]?".join(number))
        assert card.search(log) is None and card.search(stored) is None
