"""The supervisor's "System credits" in Debian's chromium against a real backend and a real handoff process
(no Rasa: the credit is the account check's fix through the backend API, as the bot asks it). Sam sees the
credit David's duplicate got, reverses it with a reason (the balance goes back up, once), and lowers the
bot's per-credit limit, after which the backend refuses the bot's fix of Ivy's late fee (issue 18)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.axe import blocking_violations
from tests.support.browser import chromium
from tests.support.demo_page import sign_in_to_console
from tests.support.stack import APP_PYTHON, REPO_ROOT, Service, free_port

pytestmark = [pytest.mark.browser]
DAVID, IVY = 4, 9
TOKEN = "system-credits-backend-token"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("system-credits")
    ports = {"backend": free_port(), "handoff": free_port()}
    env = {
        **os.environ, "APP_ENV": "development",
        "BACKEND_URL": f"http://127.0.0.1:{ports['backend']}",
        "BACKEND_DATABASE_URL": f"sqlite:///{workdir / 'backend.db'}", "BACKEND_API_TOKEN": TOKEN,
        "HANDOFF_URL": f"http://127.0.0.1:{ports['handoff']}",
        "HANDOFF_DATABASE_URL": f"sqlite:///{workdir / 'handoff.db'}",
        "HANDOFF_API_TOKEN": "sc-handoff-token",
        "CUSTOMER_JWT_SECRET": "sc-customer-jwt-secret", "RASA_URL": f"http://127.0.0.1:{free_port()}",
        "RASA_AUTH_TOKEN": "sc-rasa-token", "RASA_CHANNEL_TOKEN": "sc-rasa-channel-token",
        "IDENTITY_ASSERTION_SECRET": "sc-identity-assertion-secret-at-least-32-bytes",
    }
    for cli in ("backend.cli", "handoff.cli"):
        for command in ("migrate", "seed-demo"):
            subprocess.run([str(APP_PYTHON), "-m", cli, command], cwd=REPO_ROOT, env=env, check=True,
                           capture_output=True)
    running = [
        Service(name, [str(APP_PYTHON), "-m", "uvicorn", f"{name}.main:app", "--host", "127.0.0.1", "--port",
                       str(ports[name])], f"http://127.0.0.1:{ports[name]}/health", ports[name])
        for name in ("backend", "handoff")
    ]
    log_dir = Path(workdir / "logs")
    log_dir.mkdir()
    for service in running:
        service.start(env, log_dir)
    try:
        for service in running:
            service.wait_healthy(60)
        yield {"backend": env["BACKEND_URL"], "handoff": env["HANDOFF_URL"]}
    finally:
        for service in running:
            service.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def backend(urls: dict[str, str], method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
    return httpx.request(method, urls["backend"] + "/api/v1" + path, headers=headers, timeout=10, **kwargs)


def bot_fix(urls: dict[str, str], cid: int, kind: str, key: str) -> httpx.Response:
    found = backend(urls, "GET", f"/customers/{cid}/findings").json()["findings"]
    finding = next(f for f in found if f["kind"] == kind)
    return backend(urls, "POST", f"/customers/{cid}/findings/{finding['id']}/fix", json={},
                   headers={"X-Actor": "bot:conv-sc", "Idempotency-Key": key})


def total_due(urls: dict[str, str], cid: int) -> Decimal:
    return Decimal(backend(urls, "GET", f"/customers/{cid}/balance").json()["total_due"])


def test_sam_reverses_a_system_credit_and_lowers_the_bots_limit(services, browser) -> None:
    before = total_due(services, DAVID)
    fixed = bot_fix(services, DAVID, "duplicate_charge", "sc-fix-david-1")
    assert fixed.status_code == 201, fixed.text
    credit = fixed.json()["credit"]
    assert total_due(services, DAVID) == before - Decimal(credit["amount"])

    page = browser.new_context().new_page()
    sign_in_to_console(page, services["handoff"], "sam", "sam-demo-pass")
    page.click("[data-testid=nav-supervisor]")
    row = page.locator(f"[data-testid=system-credit][data-credit-id='{credit['id']}']")
    expect(row).to_be_visible()
    expect(row.locator("[data-testid=system-credit-amount]")).to_have_text("$" + credit["amount"])
    page.once("dialog", lambda dialog: dialog.accept("Two installations were ordered"))
    row.locator("[data-testid=system-credit-reverse]").click()
    expect(row.locator("[data-testid=system-credit-state]")).to_contain_text(
        "Reversed by supervisor:sam", timeout=10_000)
    expect(row.locator("[data-testid=system-credit-state]")).to_contain_text("Two installations were ordered")
    expect(row.locator("[data-testid=system-credit-reverse]")).to_have_count(0)
    assert total_due(services, DAVID) == before
    assert blocking_violations(page, include="[data-testid=system-credits]") == []

    expect(page.locator("[data-testid=limit-max-credit]")).to_have_value("100.00")
    page.fill("[data-testid=limit-max-credit]", "5.00")
    page.fill("[data-testid=limit-reason]", "Too many duplicate credits this week")
    page.click("[data-testid=limits-save]")
    expect(page.locator("[data-testid=limits-source]")).to_contain_text("Set by supervisor:sam")
    limits = backend(services, "GET", "/account-check/limits").json()
    assert (limits["source"], limits["max_credit"]) == ("override", "5.00")
    assert blocking_violations(page, include="[data-testid=limits-form]") == []
    refused = bot_fix(services, IVY, "late_fee_paid_on_time", "sc-fix-ivy-001")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "specialist_required"

    # The billing system's audit log, exported by the supervisor from the console (issue 18: "in the reports
    # and audit export"): the system's credit and Sam's reversal, with who did each.
    window = {"start": "2000-01-01T00:00:00Z", "end": "2999-01-01T00:00:00Z", "format": "json",
              "source": "billing"}
    exported = page.request.get(services["handoff"] + "/api/console/audit/export", params=window)
    assert exported.status == 200, exported.text()
    assert 'filename="billing-audit-' in exported.headers["content-disposition"]
    entries = exported.json()["entries"]
    done = {(entry["actor"], entry["action"], entry["target"]) for entry in entries}
    actions = {(actor, action) for actor, action, _ in done}
    # the bot's fix, then the dispute settled with the credit by the system (the account check's actor)
    assert {("system:account-check", "write.dispute.accepted")} <= actions
    assert any(action == "write.account_check.fix" for _, action in actions)
    assert any(actor == "supervisor:sam" and action == "write.credit.reverse" for actor, action, _ in done)
    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)  # oldest first
    with page.expect_download() as download:  # the supervisor page's link, for the report's dates
        page.click("[data-testid=audit-export-billing]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "id,at,actor,action,target,details"
    assert any(",supervisor:sam,write.credit.reverse,credit:" in line for line in lines[1:])
