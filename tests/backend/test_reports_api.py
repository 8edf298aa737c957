"""GET /api/v1/reports/billing-activity (docs/contracts.md, "Supervisor reports"): credits by reason and
issuer, disputes by outcome and resolver, payments taken in chat by source and staff member, Decimal sums as
strings."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.seed.demo import DAVID_INSTALLATION_FEE
from tests.backend.conftest import NOW, STAFF

pytestmark = pytest.mark.usefixtures("demo")

BOT = {"X-Actor": "bot:rasa"}
ALICE, DAVID = 1, 4
REPORT = "/api/v1/reports/billing-activity"


def report(client: TestClient, start: datetime, end: datetime) -> dict:
    response = client.get(REPORT, params={"start": start.isoformat(), "end": end.isoformat()}, headers=STAFF)
    assert response.status_code == 200, response.text
    return response.json()


def rows(table: list[dict], *key: str) -> dict[tuple, tuple[int, str | None]]:
    return {tuple(row[k] for k in key): (row["count"], row.get("amount")) for row in table}


def test_credits_disputes_and_chat_payments_are_counted_by_reason_outcome_and_source(client: TestClient):
    start = datetime.now(UTC) - timedelta(seconds=1)
    fees = client.get(f"/api/v1/customers/{DAVID}/line-items", params={"name": "installation"}).json()
    goodwill = client.post(
        f"/api/v1/customers/{DAVID}/credits", headers={**STAFF, "Idempotency-Key": "rep-cr-01"},
        json={"amount": "10.50", "reason": "goodwill: long wait", "line_item_id": fees[0]["id"]})
    assert goodwill.status_code == 201, goodwill.text
    accepted = client.post(f"/api/v1/customers/{DAVID}/disputes",
                           json={"line_item_id": fees[1]["id"], "reason": "Billed twice"}).json()
    settled = client.post(f"/api/v1/disputes/{accepted['id']}/settle",
                          headers={**STAFF, "Idempotency-Key": "rep-settle-01"},
                          json={"decision": "accepted", "note": "Duplicate confirmed"})
    assert settled.status_code == 200, settled.text
    rejected = client.post(
        f"/api/v1/customers/{DAVID}/disputes",
        json={"line_item_id": fees[0]["id"], "reason": "Too high", "amount": "5.00"}).json()
    assert client.post(f"/api/v1/disputes/{rejected['id']}/settle", headers={"X-Actor": "supervisor:sam"},
                       json={"decision": "rejected", "note": "Installation was done"}).status_code == 200
    waiver = client.post(f"/api/v1/customers/{ALICE}/late-fee-waivers", json={},
                         headers={**BOT, "Idempotency-Key": "rep-waive-01"})
    assert waiver.status_code == 201, waiver.text
    quote = client.post(f"/api/v1/customers/{ALICE}/payment-quotes", json={"amount_choice": "full_balance"},
                        headers=BOT).json()
    paid = client.post(f"/api/v1/customers/{ALICE}/payment-quotes/{quote['quote_id']}/confirm",
                       headers={**STAFF, "Idempotency-Key": "rep-pay-01"})
    assert paid.status_code == 201, paid.text
    end = datetime.now(UTC) + timedelta(seconds=1)

    body = report(client, start, end)
    credits, disputes, payments = body["credits"], body["disputes"], body["payments"]
    assert credits["count"] == 3
    assert rows(credits["by_reason"], "reason", "currency") == {
        ("goodwill", "USD"): (1, "10.50"), ("dispute", "USD"): (1, f"{DAVID_INSTALLATION_FEE:.2f}"),
        ("late_fee_waiver", "USD"): (1, "25.00")}
    assert rows(credits["by_issuer"], "issued_by", "currency") == {
        ("specialist:dana", "USD"): (2, f"{DAVID_INSTALLATION_FEE + Decimal('10.50'):.2f}"),
        ("bot:rasa", "USD"): (1, "25.00")}
    assert disputes["opened"] == 2 and disputes["by_outcome"] == []  # both decided, at the app's clock (NOW)
    decided = report(client, NOW - timedelta(seconds=1), NOW + timedelta(seconds=1))["disputes"]
    assert rows(decided["by_outcome"], "outcome", "currency") == {
        ("accepted", "USD"): (1, accepted["amount"]), ("rejected", "USD"): (1, "5.00")}
    assert rows(decided["by_resolver"], "resolved_by", "outcome") == {
        ("specialist:dana", "accepted"): (1, None), ("supervisor:sam", "rejected"): (1, None)}
    assert rows(payments["by_source"], "source", "status", "currency") == {
        ("specialist", paid.json()["status"], "USD"): (1, "60.00")}
    assert rows(payments["by_actor"], "actor", "currency") == {("specialist:dana", "USD"): (1, "60.00")}

    open_one = client.post(f"/api/v1/customers/{DAVID}/disputes",
                           json={"line_item_id": fees[1]["id"], "reason": "Still twice?", "amount": "1.00"})
    assert open_one.status_code == 201, open_one.text
    undecided = report(client, start, datetime.now(UTC) + timedelta(seconds=1))["disputes"]["by_outcome"]
    assert rows(undecided, "outcome", "currency") == {("open", "USD"): (1, "1.00")}
    before = report(client, start - timedelta(days=1), start)
    assert before["credits"]["count"] == 0 and before["payments"]["by_source"] == []


def test_the_range_is_checked_and_the_read_audited(client: TestClient):
    now = datetime.now(UTC)
    backwards = client.get(REPORT, params={"start": now.isoformat(), "end": (now - timedelta(1)).isoformat()})
    assert backwards.status_code == 422 and backwards.json()["error"]["message"] == "end must be after start."
    assert client.get(REPORT, params={"start": "yesterday", "end": now.isoformat()}).status_code == 422
    # found by schemathesis: a time whose UTC equivalent is before year 1 was a 500 (OverflowError)
    too_early = client.get(REPORT, params={"start": "0001-01-01T00:00:00+01:00", "end": now.isoformat()})
    assert too_early.status_code == 422
    assert "between the years 1 and 9999" in too_early.json()["error"]["message"]
    report(client, now - timedelta(days=1), now)
    log = client.get("/api/v1/audit-log", params={"limit": 5}).json()
    assert any(e["resource"] == "reports/billing-activity" and e["actor"] == "specialist:dana" for e in log)
