"""Supervisors review, reverse and limit the account check's credits (SQLite and PostgreSQL):
docs/contracts.md, "System credits: review, reversal and limits" (issue 18)."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.account_check.service import granted_in_12_months
from backend.audit.models import AuditLog
from backend.customers.models import Account
from backend.disputes.models import Credit, Dispute
from backend.seed.account_check_demo import seed_account_check_demo
from backend.seed.demo import DAVID_INSTALLATION_FEE
from tests.backend.conftest import NOW, TODAY

BOT = {"X-Actor": "bot:conv-18"}
SAM = {"X-Actor": "supervisor:sam"}
DAVID, IVY = 4, 9
RANGE = {"start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
LIMITS = "/api/v1/account-check/limits"


@pytest.fixture
def accounts(demo: Session) -> Session:
    assert seed_account_check_demo(demo, today=TODAY).created
    return demo


def balance(client: TestClient, cid: int) -> Decimal:
    return Decimal(client.get(f"/api/v1/customers/{cid}/balance").json()["total_due"])


def finding(client: TestClient, cid: int, kind: str) -> dict[str, Any]:
    found = client.get(f"/api/v1/customers/{cid}/findings").json()["findings"]
    return next(f for f in found if f["kind"] == kind)


def fix(client: TestClient, cid: int, kind: str, key: str) -> Any:
    return client.post(
        f"/api/v1/customers/{cid}/findings/{finding(client, cid, kind)['id']}/fix",
        json={"conversation_id": "conv-18"}, headers={**BOT, "Idempotency-Key": key},
    )


def reverse(client: TestClient, credit_id: int, key: str, actor: dict[str, str] = SAM,
            reason: str | None = "Customer had ordered two installations") -> Any:
    body = {"reason": reason} if reason is not None else {}
    return client.post(
        f"/api/v1/system-credits/{credit_id}/reverse", json=body, headers={**actor, "Idempotency-Key": key}
    )


def test_supervisor_lists_and_reverses_a_system_credit_once(client: TestClient, accounts: Session) -> None:
    before = balance(client, DAVID)
    fixed = fix(client, DAVID, "duplicate_charge", "fix-david-rev1")
    assert fixed.status_code == 201, fixed.text
    credit_id = fixed.json()["credit"]["id"]
    assert balance(client, DAVID) == before - DAVID_INSTALLATION_FEE

    listed = client.get("/api/v1/system-credits", params=RANGE, headers=SAM)
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["credits"]
    assert row["credit_id"] == credit_id and row["customer_id"] == DAVID and row["reversal"] is None
    assert row["amount"] == "49.00" and row["issued_by"] == "system:account-check" and row["currency"]

    done = reverse(client, credit_id, "reverse-david-1")
    assert done.status_code == 201, done.text
    reversal = done.json()["reversal"]
    assert reversal["amount"] == "-49.00" and reversal["reversed_by"] == "supervisor:sam"
    assert reversal["reason"] == "Customer had ordered two installations"
    assert balance(client, DAVID) == before

    # Twice (the same key, another key, another supervisor): one reversal, the balance moves once.
    for key, actor in (("reverse-david-1", SAM), ("reverse-david-2", {"X-Actor": "supervisor:lee"})):
        again = reverse(client, credit_id, key, actor=actor)
        assert again.status_code == 200, again.text
        assert again.json()["reversal"]["credit_id"] == reversal["credit_id"]
    assert balance(client, DAVID) == before
    reversals = accounts.scalar(
        select(func.count()).select_from(Credit).where(Credit.idempotency_key.startswith("reversal:"))
    )
    assert reversals == 1

    dispute = accounts.get(Dispute, fixed.json()["dispute"]["id"])
    assert dispute is not None and dispute.reversed_by == "supervisor:sam"
    assert dispute.reversal_reason == "Customer had ordered two installations" and dispute.reversed_at
    entry = accounts.scalar(select(AuditLog).where(AuditLog.action == "write.credit.reverse"))
    assert entry is not None and entry.actor == "supervisor:sam"
    assert entry.reason == "Customer had ordered two installations" and entry.details["amount"] == "49.00"
    [row] = client.get("/api/v1/system-credits", params=RANGE, headers=SAM).json()["credits"]
    assert row["reversal"]["credit_id"] == reversal["credit_id"]
    # The bot does not offer the reversed fix again, and the report names the reversal.
    assert [f["kind"] for f in client.get(f"/api/v1/customers/{DAVID}/findings").json()["findings"]] == [
        "bill_shock"
    ]
    report = client.get("/api/v1/reports/billing-activity", params=RANGE).json()["credits"]["by_reason"]
    assert {r["reason"]: r["amount"] for r in report}["account_check_reversal"] == "-49.00"


def test_reversal_needs_a_supervisor_a_reason_and_a_key(client: TestClient, accounts: Session) -> None:
    credit_id = fix(client, IVY, "late_fee_paid_on_time", "fix-ivy-rev-01").json()["credit"]["id"]
    assert reverse(client, credit_id, "reverse-ivy-01", actor={}).status_code == 422
    forbidden = reverse(client, credit_id, "reverse-ivy-01", actor={"X-Actor": "specialist:dana"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "forbidden"
    assert reverse(client, credit_id, "reverse-ivy-01", actor=BOT).status_code == 403
    assert reverse(client, credit_id, "reverse-ivy-01", reason=None).status_code == 422
    assert reverse(client, credit_id, "reverse-ivy-01", reason="   ").status_code == 422
    no_key = client.post(f"/api/v1/system-credits/{credit_id}/reverse", json={"reason": "x"}, headers=SAM)
    assert no_key.status_code == 422
    assert reverse(client, 999_999, "reverse-ivy-02").status_code == 404
    # A credit a specialist issued is not the system's: not reversible here.
    staff_credit = client.post(
        f"/api/v1/customers/{DAVID}/credits",
        json={"amount": "5.00", "reason": "goodwill", "invoice_number": finding(
            client, DAVID, "duplicate_charge")["invoice_number"]},
        headers={"X-Actor": "specialist:dana", "Idempotency-Key": "staff-credit-01"},
    )
    assert staff_credit.status_code == 201, staff_credit.text
    assert reverse(client, staff_credit.json()["id"], "reverse-staff-1").status_code == 404
    assert accounts.scalar(select(func.count()).select_from(Credit).where(Credit.amount < 0)) == 0
    # The same key cannot reverse another credit.
    assert reverse(client, credit_id, "reverse-ivy-03").status_code == 201
    david = fix(client, DAVID, "duplicate_charge", "fix-david-rev2").json()["credit"]["id"]
    reused = reverse(client, david, "reverse-ivy-03")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert client.get("/api/v1/system-credits", params={"start": RANGE["end"], "end": RANGE["start"]},
                      headers=SAM).status_code == 422


def test_a_lowered_limit_sends_the_bots_fix_to_a_specialist(client: TestClient, accounts: Session) -> None:
    shown = client.get(LIMITS).json()
    assert shown["source"] == "settings" and shown["max_credit"] == "100.00"
    defaults = {"max_credit": "100.00", "max_credit_12_months": "150.00", "min_confidence": 0.9}
    assert shown["defaults"] == defaults
    new = {"max_credit": "20.00", "max_credit_12_months": "150.00", "min_confidence": 0.9,
           "reason": "Too many duplicate credits this week"}
    assert client.post(LIMITS, json=new, headers={"X-Actor": "specialist:dana"}).status_code == 403
    assert client.post(LIMITS, json=new).status_code == 422
    assert client.post(LIMITS, json={**new, "max_credit": "-1"}, headers=SAM).status_code == 422
    assert client.post(LIMITS, json={**new, "min_confidence": 1.5}, headers=SAM).status_code == 422
    changed = client.post(LIMITS, json=new, headers=SAM)
    assert changed.status_code == 200, changed.text
    assert changed.json()["source"] == "override" and changed.json()["max_credit"] == "20.00"
    assert changed.json()["updated_by"] == "supervisor:sam"
    assert client.get(LIMITS).json()["max_credit"] == "20.00"
    entry = accounts.scalar(select(AuditLog).where(AuditLog.action == "write.account_check.limits"))
    assert entry is not None and entry.actor == "supervisor:sam"
    assert entry.details["before"]["max_credit"] == "100.00"
    assert entry.details["after"]["max_credit"] == "20.00"

    duplicate = finding(client, DAVID, "duplicate_charge")
    assert not duplicate["bot_may_fix"]
    assert [r["code"] for r in duplicate["handover_reasons"]] == ["above_credit_limit"]
    refused = fix(client, DAVID, "duplicate_charge", "fix-david-lim1")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "specialist_required"
    assert accounts.scalar(select(func.count()).select_from(Credit)) == 0

    # Raised again (a second change updates the one row): the bot may fix it.
    back = {**new, "max_credit": "100.00", "reason": "back to normal"}
    raised = client.post(LIMITS, json=back, headers=SAM)
    assert raised.status_code == 200 and raised.json()["max_credit"] == "100.00"
    assert fix(client, DAVID, "duplicate_charge", "fix-david-lim2").status_code == 201


def test_a_reversed_credit_does_not_count_toward_the_yearly_limit(
    client: TestClient, accounts: Session
) -> None:
    new = {"max_credit": "100.00", "max_credit_12_months": "60.00", "min_confidence": 0.9, "reason": "test"}
    assert client.post(LIMITS, json=new, headers=SAM).status_code == 200
    credit_id = fix(client, DAVID, "duplicate_charge", "fix-david-yr01").json()["credit"]["id"]  # 49.00
    assert reverse(client, credit_id, "reverse-yr-0001").status_code == 201
    account = accounts.scalar(select(Account).where(Account.customer_id == DAVID))
    assert account is not None
    assert granted_in_12_months(accounts, account=account, now=NOW) == Decimal("0.00")
