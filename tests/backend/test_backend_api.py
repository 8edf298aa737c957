"""API rules: auth, customer isolation, errors, verification lock, disputes, credits, settlement, audit."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.customers.models import VerificationState
from backend.seed.demo import DAVID_INSTALLATION_FEE
from tests.backend.conftest import NOW, STAFF

pytestmark = pytest.mark.usefixtures("demo")


def line_items(client, customer_id: int, **params) -> list[dict]:
    return client.get(f"/api/v1/customers/{customer_id}/line-items", params=params).json()


def david_fee(client) -> dict:
    return line_items(client, 4, name="installation")[0]


def test_health_needs_no_token_but_everything_else_does(client):
    assert client.get("/health", headers={"Authorization": ""}).json() == {"status": "ok"}
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/customers/1/balance", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_another_customers_data_is_never_readable(client):
    alice_invoice = client.get("/api/v1/customers/1/invoices").json()[0]["number"]
    alice_line = line_items(client, 1)[0]["id"]
    for path in (
        f"/api/v1/customers/2/invoices/{alice_invoice}",
        f"/api/v1/customers/2/line-items/{alice_line}/explanation",
        f"/api/v1/customers/2/bill-comparison?invoice={alice_invoice}",
        "/api/v1/customers/999/balance",
        "/api/v1/customers/999",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert alice_invoice not in response.text or "No invoice" in response.json()["error"]["message"]
        assert "Alice" not in response.text and "85.00" not in response.text
    assert client.get("/api/v1/customers/2/line-items", params={"invoice": alice_invoice}).json() == []
    dispute = client.post(
        "/api/v1/customers/2/disputes", json={"line_item_id": alice_line, "reason": "not mine"}
    )
    assert dispute.status_code == 404
    credit = client.post(
        "/api/v1/customers/2/credits", headers={**STAFF, "Idempotency-Key": "cross-customer-1"},
        json={"amount": "1.00", "reason": "x", "line_item_id": alice_line},
    )
    assert credit.status_code == 404


def test_bad_input_is_a_clear_422_without_trace(client):
    response = client.post("/api/v1/verifications", json={"account_number": "ACC-100001"})
    assert response.status_code == 422
    assert "exactly one of postal_code or phone_last4" in response.json()["error"]["message"]
    response = client.get("/api/v1/customers/1/line-items", params={"amount": "abc"})
    assert response.status_code == 422 and response.json()["error"]["message"].startswith("query.amount")
    response = client.post(
        "/api/v1/customers/4/disputes", json={"line_item_id": 1, "reason": "x", "amount": 1.005}
    )
    assert response.status_code == 422
    assert client.get("/api/v1/customers/abc/balance").status_code == 422
    assert client.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"
    assert "Traceback" not in response.text


def test_unexpected_errors_are_500_json_without_trace(app, client):
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_verification_by_phone_and_lock_after_three_failures(client, demo):
    ok = client.post("/api/v1/verifications", json={"account_number": "acc-100002", "phone_last4": "3307"})
    assert ok.json()["verified"] is True and ok.json()["customer_id"] == 2
    wrong = {"account_number": "ACC-100002", "postal_code": "00000"}
    assert client.post("/api/v1/verifications", json=wrong).json() == {
        "verified": False, "attempts_remaining": 2,
    }
    assert client.post("/api/v1/verifications", json=wrong).json() == {
        "verified": False, "attempts_remaining": 1,
    }
    locked = client.post("/api/v1/verifications", json=wrong)
    assert locked.status_code == 423
    error = locked.json()["error"]
    assert error["code"] == "verification_locked" and error["locked_until"].startswith(
        (NOW + timedelta(minutes=15)).isoformat()[:16]
    )
    # Even the right answer is refused while locked.
    right = {"account_number": "ACC-100002", "postal_code": "10001"}
    assert client.post("/api/v1/verifications", json=right).status_code == 423
    # 15 minutes later it works again.
    state = demo.scalar(select(VerificationState).where(VerificationState.account_number == "ACC-100002"))
    state.locked_until = NOW - timedelta(seconds=1)
    demo.commit()
    assert client.post("/api/v1/verifications", json=right).json()["verified"] is True


def test_unknown_account_numbers_fail_like_real_ones(client):
    wrong = {"account_number": "ACC-999999", "postal_code": "12345"}
    assert client.post("/api/v1/verifications", json=wrong).json() == {
        "verified": False, "attempts_remaining": 2,
    }
    client.post("/api/v1/verifications", json=wrong)
    assert client.post("/api/v1/verifications", json=wrong).status_code == 423


def test_dispute_rules(client):
    fee = david_fee(client)
    too_much = client.post("/api/v1/customers/4/disputes",
                           json={"line_item_id": fee["id"], "reason": "twice", "amount": "49.01"})
    assert too_much.status_code == 422 and "more than the charge" in too_much.json()["error"]["message"]
    first = client.post(
        "/api/v1/customers/4/disputes", json={"line_item_id": fee["id"], "reason": "twice", "amount": "20.00"}
    )
    assert (
        first.status_code == 201
        and first.json()["amount"] == "20.00"
        and first.json()["opened_by"] == "service:api"
    )
    again = client.post("/api/v1/customers/4/disputes", json={"line_item_id": fee["id"], "reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["dispute_id"] == first.json()["id"]
    hiro_discount = line_items(client, 8, name="discount")[0]
    assert client.post("/api/v1/customers/8/disputes",
                       json={"line_item_id": hiro_discount["id"], "reason": "x"}).status_code == 422
    listed = client.get("/api/v1/customers/4/disputes").json()
    assert [d["id"] for d in listed] == [first.json()["id"]]


def test_credit_needs_staff_actor_and_idempotency_key(client):
    fee = david_fee(client)
    body = {"amount": "49.00", "reason": "Duplicate installation fee", "line_item_id": fee["id"]}
    assert (
        client.post(
            "/api/v1/customers/4/credits", json=body, headers={"Idempotency-Key": "key-00000001"}
        ).status_code
        == 422
    )
    assert client.post("/api/v1/customers/4/credits", json=body,
                       headers={"X-Actor": "bot:rasa", "Idempotency-Key": "key-00000001"}).status_code == 403
    assert (
        client.post(
            "/api/v1/customers/4/credits", json=body,
            headers={"X-Actor": "not an actor", "Idempotency-Key": "key-00000001"},
        ).status_code
        == 422
    )
    missing_key = client.post("/api/v1/customers/4/credits", json=body, headers=STAFF)
    assert missing_key.status_code == 422 and "Idempotency-Key" in missing_key.json()["error"]["message"]


def test_credit_is_idempotent_capped_and_lowers_the_balance(client):
    fee = david_fee(client)
    before = Decimal(client.get("/api/v1/customers/4/balance").json()["total_due"])
    body = {"amount": "49.00", "reason": "Duplicate installation fee", "line_item_id": fee["id"]}
    headers = {**STAFF, "Idempotency-Key": "credit-david-0001"}
    created = client.post("/api/v1/customers/4/credits", json=body, headers=headers)
    assert created.status_code == 201
    credit = created.json()
    assert credit["issued_by"] == "specialist:dana" and credit["invoice_number"] == fee["invoice_number"]
    replay = client.post("/api/v1/customers/4/credits", json=body, headers=headers)
    assert replay.status_code == 200 and replay.json() == credit
    changed = client.post("/api/v1/customers/4/credits", json={**body, "amount": "1.00"}, headers=headers)
    assert changed.status_code == 409
    more = client.post("/api/v1/customers/4/credits", json={**body, "amount": "0.01"},
                       headers={**STAFF, "Idempotency-Key": "credit-david-0002"})
    assert more.status_code == 422 and "can still be credited" in more.json()["error"]["message"]
    after = Decimal(client.get("/api/v1/customers/4/balance").json()["total_due"])
    assert before - after == DAVID_INSTALLATION_FEE
    no_link = client.post("/api/v1/customers/4/credits", json={"amount": "1.00", "reason": "x"},
                          headers={**STAFF, "Idempotency-Key": "credit-david-0003"})
    assert no_link.status_code == 422


def test_settle_accepted_issues_one_credit(client):
    fee = david_fee(client)
    dispute = client.post(
        "/api/v1/customers/4/disputes", json={"line_item_id": fee["id"], "reason": "Billed twice"}
    ).json()
    body = {"decision": "accepted", "note": "Duplicate confirmed"}
    assert (
        client.post(f"/api/v1/disputes/{dispute['id']}/settle", json=body, headers=STAFF).status_code == 422
    )
    headers = {**STAFF, "Idempotency-Key": "settle-david-0001"}
    settled = client.post(f"/api/v1/disputes/{dispute['id']}/settle", json=body, headers=headers)
    assert settled.status_code == 200
    result = settled.json()
    assert result["status"] == "accepted" and result["resolved_by"] == "specialist:dana"
    assert (
        result["credit"]["amount"] == f"{DAVID_INSTALLATION_FEE:.2f}"
        and result["credit"]["dispute_id"] == dispute["id"]
    )
    assert (
        client.post(f"/api/v1/disputes/{dispute['id']}/settle", json=body, headers=headers).json()["credit"]
        == result["credit"]
    )
    again = client.post(f"/api/v1/disputes/{dispute['id']}/settle", json=body,
                        headers={**STAFF, "Idempotency-Key": "settle-david-0002"})
    assert again.status_code == 409
    assert client.get("/api/v1/customers/4/disputes").json()[0]["credit"]["id"] == result["credit"]["id"]


def test_settle_rejected_and_credit_cap_on_dispute(client):
    fees = line_items(client, 4, name="installation")
    rejected = client.post(
        "/api/v1/customers/4/disputes", json={"line_item_id": fees[0]["id"], "reason": "hm"}
    ).json()
    outcome = client.post(f"/api/v1/disputes/{rejected['id']}/settle", headers=STAFF,
                          json={"decision": "rejected", "note": "Installation was done"})
    assert outcome.json()["status"] == "rejected" and outcome.json()["credit"] is None
    partial = client.post("/api/v1/customers/4/disputes",
                          json={"line_item_id": fees[1]["id"], "reason": "part", "amount": "10.00"}).json()
    over = client.post(
        f"/api/v1/disputes/{partial['id']}/settle", headers={**STAFF, "Idempotency-Key": "settle-over-01"},
        json={"decision": "accepted", "note": "ok", "credit_amount": "10.01"},
    )
    assert over.status_code == 422


def test_audit_log_records_staff_reads_and_all_writes(client):
    client.get("/api/v1/customers/1/balance")  # the bot's own read: not audited
    client.get("/api/v1/customers/1/balance", headers={**STAFF, "X-Audit-Reason": "handoff conv-7"})
    fee = david_fee(client)
    client.post("/api/v1/customers/4/disputes", json={"line_item_id": fee["id"], "reason": "twice"})
    client.post("/api/v1/customers/4/credits", headers={**STAFF, "Idempotency-Key": "audit-credit-01"},
                json={"amount": "5.00", "reason": "goodwill", "line_item_id": fee["id"]})
    entries = client.get("/api/v1/audit-log").json()
    summary = [(e["actor"], e["action"], e["customer_id"]) for e in entries]
    assert ("specialist:dana", "read", 1) in summary
    assert summary.count(("specialist:dana", "read", 1)) == 1
    assert next(e for e in entries if e["action"] == "read")["reason"] == "handoff conv-7"
    assert ("service:api", "write.dispute.open", 4) in summary
    assert ("specialist:dana", "write.credit", 4) in summary
    credit_entry = next(e for e in entries if e["action"] == "write.credit")
    assert credit_entry["reason"] == "goodwill" and credit_entry["details"]["amount"] == "5.00"
    window = client.get(
        "/api/v1/audit-log", params={"start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"}
    )
    assert window.json() == []
