"""The account check through the API (SQLite and PostgreSQL): docs/contracts.md, "Account check"."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.disputes.models import Credit, Dispute
from backend.seed.account_check_demo import (
    JONAS_PROMO,
    KEMAL_ACTIVATION,
    NADIA_VISIT,
    seed_account_check_demo,
)
from backend.seed.demo import DAVID_INSTALLATION_FEE
from backend.seed.reference import LATE_FEE, SALES_TAX_RATE
from tests.backend.conftest import STAFF, TODAY

BOT = {"X-Actor": "bot:conv-18"}
DAVID, IVY, JONAS, KEMAL, LENA, MARCO, NADIA = 4, 9, 10, 11, 12, 13, 14


@pytest.fixture
def accounts(demo: Session) -> Session:
    assert seed_account_check_demo(demo, today=TODAY).created
    return demo


def findings(client: TestClient, cid: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/customers/{cid}/findings")
    assert response.status_code == 200, response.text
    return response.json()["findings"]


def only(client: TestClient, cid: int, kind: str) -> dict[str, Any]:
    matching = [f for f in findings(client, cid) if f["kind"] == kind]
    assert len(matching) == 1, matching
    return matching[0]


def fix(client: TestClient, cid: int, finding_id: str, key: str, actor: dict[str, str] = BOT):
    return client.post(
        f"/api/v1/customers/{cid}/findings/{finding_id}/fix",
        json={"conversation_id": "conv-18"},
        headers={**actor, "Idempotency-Key": key},
    )


def test_each_demo_customer_has_the_finding_of_its_scenario(client: TestClient, accounts) -> None:
    # The scenario customers 1-8 without an error are clean (Carla's and David's bills jumped: bill shock).
    for cid in (1, 2, 5, 6, 7, 8):
        assert findings(client, cid) == [], cid
    assert [f["kind"] for f in findings(client, 3)] == ["bill_shock"]
    david = findings(client, DAVID)
    assert [f["kind"] for f in david] == ["duplicate_charge", "bill_shock"]
    duplicate = david[0]
    assert duplicate["bot_may_fix"] and duplicate["amount"] == f"{DAVID_INSTALLATION_FEE:.2f}"
    assert duplicate["confidence"] >= 0.9 and duplicate["suggested_fix"]["action"] == "credit"
    lines = duplicate["evidence"]["line_items"]
    assert [line["description"] for line in lines] == ["Installation fee"] * 2
    assert duplicate["line_item_id"] == max(line["id"] for line in lines)
    assert duplicate["evidence"]["policy_rule"]["code"] == "ONE-TIME-ORDER"
    assert "ORD-55012" in duplicate["evidence"]["explanation"]

    ivy = only(client, IVY, "late_fee_paid_on_time")
    assert ivy["bot_may_fix"] and ivy["amount"] == f"{LATE_FEE:.2f}"
    assert ivy["evidence"]["policy_rule"]["code"] == "LATE-FEE-1" and "autopay" in ivy["summary"]
    assert ivy["evidence"]["dates"]["payment_date"] == ivy["evidence"]["dates"]["related_due_date"]

    jonas = only(client, JONAS, "promotion_missing")
    assert jonas["amount"] == f"{JONAS_PROMO:.2f}" and not jonas["bot_may_fix"]
    assert [r["code"] for r in jonas["handover_reasons"]] == ["kind_needs_specialist"]

    kemal = only(client, KEMAL, "tax_wrong_base")
    assert Decimal(kemal["amount"]) == (KEMAL_ACTIVATION * SALES_TAX_RATE).quantize(Decimal("0.01"))
    assert "Activation fee" in [line["description"] for line in kemal["evidence"]["line_items"]]

    lena = only(client, LENA, "usage_mismatch")
    assert lena["amount"] == "18.00" and lena["evidence"]["amounts"]["expected"] == "35.00"

    marco = findings(client, MARCO)
    assert [f["kind"] for f in marco] == ["bill_shock"] and "Data overage" in marco[0]["evidence"][
        "explanation"
    ]
    assert marco[0]["suggested_fix"]["action"] == "explain" and not marco[0]["bot_may_fix"]

    nadia = only(client, NADIA, "duplicate_charge")
    assert nadia["amount"] == f"{NADIA_VISIT:.2f}" and not nadia["bot_may_fix"]
    assert [r["code"] for r in nadia["handover_reasons"]] == ["above_credit_limit"]
    assert len({line["invoice_number"] for line in nadia["evidence"]["line_items"]}) == 2  # consecutive bills


def test_finding_ids_are_stable_and_unknown_ones_are_refused(client: TestClient, accounts) -> None:
    first = [f["id"] for f in findings(client, DAVID)]
    assert first == [f["id"] for f in findings(client, DAVID)]
    other = findings(client, IVY)[0]["id"]
    wrong_customer = fix(client, DAVID, other, "fix-wrong-0001")
    assert wrong_customer.status_code == 404 and wrong_customer.json()["error"]["code"] == "finding_not_found"
    assert fix(client, DAVID, "fnd_" + "0" * 24, "fix-none-0001").status_code == 404
    assert fix(client, DAVID, "not-a-finding", "fix-bad-00001").status_code == 422
    assert client.get("/api/v1/customers/999/findings").status_code == 404


def test_david_duplicate_is_fixed_by_the_system_once(client: TestClient, accounts: Session) -> None:
    duplicate = findings(client, DAVID)[0]
    before = client.get(f"/api/v1/customers/{DAVID}/balance").json()["total_due"]
    done = fix(client, DAVID, duplicate["id"], "fix-david-0001")
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["status"] == "fixed" and body["kind"] == "duplicate_charge"
    dispute, credit = body["dispute"], body["credit"]
    assert dispute["status"] == "accepted" and dispute["opened_by"] == "bot:conv-18"
    assert dispute["resolved_by"] == "system:account-check" and dispute["conversation_id"] == "conv-18"
    assert "ONE-TIME-ORDER" in dispute["reason"] and duplicate["id"] in dispute["reason"]
    assert credit["amount"] == "49.00" and credit["issued_by"] == "system:account-check"
    assert Decimal(body["total_due"]) == Decimal(before) - DAVID_INSTALLATION_FEE == Decimal("94.00")
    assert client.get(f"/api/v1/customers/{DAVID}/balance").json()["total_due"] == "94.00"
    assert "$94.00" in body["summary"]

    again = fix(client, DAVID, duplicate["id"], "fix-david-0001")
    other_tab = fix(client, DAVID, duplicate["id"], "fix-david-tab2")
    assert again.status_code == other_tab.status_code == 200
    assert again.json()["credit"]["id"] == other_tab.json()["credit"]["id"] == credit["id"]
    assert [f["kind"] for f in findings(client, DAVID)] == ["bill_shock"]  # fixed: no longer a finding
    assert (
        accounts.scalar(select(func.count()).select_from(Credit).where(Credit.dispute_id == dispute["id"]))
        == 1
    )

    log = client.get("/api/v1/audit-log").json()
    fixed = [entry for entry in log if entry["action"] == "write.account_check.fix"]
    assert len(fixed) == 1 and fixed[0]["actor"] == "bot:conv-18"
    assert fixed[0]["details"]["finding"]["evidence"]["policy_rule"]["code"] == "ONE-TIME-ORDER"
    assert any(e["action"] == "write.dispute.accepted" and e["actor"] == "system:account-check" for e in log)
    # The same key for another request is refused.
    ivy = findings(client, IVY)[0]
    assert fix(client, IVY, ivy["id"], "fix-david-0001").json()["error"]["code"] == "idempotency_key_reused"


def test_ivy_late_fee_is_credited_by_the_system(client: TestClient, accounts) -> None:
    finding = only(client, IVY, "late_fee_paid_on_time")
    done = fix(client, IVY, finding["id"], "fix-ivy-00001", actor=STAFF)
    assert done.status_code == 201 and done.json()["credit"]["amount"] == "25.00"
    assert done.json()["dispute"]["opened_by"] == "specialist:dana"
    assert findings(client, IVY) == []


@pytest.mark.parametrize(
    ("cid", "kind", "code"),
    [
        (NADIA, "duplicate_charge", "above_credit_limit"),
        (JONAS, "promotion_missing", "kind_needs_specialist"),
        (LENA, "usage_mismatch", "kind_needs_specialist"),
        (MARCO, "bill_shock", "nothing_to_fix"),
    ],
)
def test_outside_policy_goes_to_a_specialist_with_the_summary(
    client: TestClient, accounts: Session, cid: int, kind: str, code: str
) -> None:
    finding = only(client, cid, kind)
    refused = fix(client, cid, finding["id"], f"fix-{cid}-refused")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "specialist_required" and error["summary"] == finding["summary"]
    assert code in [reason["code"] for reason in error["reasons"]] and error["finding"]["id"] == finding["id"]
    assert accounts.scalar(select(func.count()).select_from(Dispute).where(Dispute.customer_id == cid)) == 0


def test_limits_and_threshold_come_from_settings(client: TestClient, app, accounts) -> None:
    duplicate_id = findings(client, DAVID)[0]["id"]
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"account_check_min_confidence": 1.0})
    assert [r["code"] for r in findings(client, DAVID)[0]["handover_reasons"]] == ["low_confidence"]
    app.state.settings = settings.model_copy(update={"account_check_max_credit_12_months": Decimal("60.00")})
    assert fix(client, DAVID, duplicate_id, "fix-david-limit").status_code == 201
    ivy = findings(client, IVY)[0]
    assert ivy["bot_may_fix"]  # the yearly limit is per customer
    app.state.settings = settings.model_copy(update={"account_check_max_credit_12_months": Decimal("20.00")})
    refused = fix(client, IVY, ivy["id"], "fix-ivy-limit1")
    assert [r["code"] for r in refused.json()["error"]["reasons"]] == ["above_yearly_limit"]


def test_who_may_fix(client: TestClient, accounts) -> None:
    finding_id = findings(client, DAVID)[0]["id"]
    url = f"/api/v1/customers/{DAVID}/findings/{finding_id}/fix"
    assert client.post(url, headers={"Idempotency-Key": "fix-none-actor"}).status_code == 422
    assert client.post(url, headers={**BOT}).status_code == 422  # no Idempotency-Key
    for role in ("secure_page:customer-4", "system:me", "customer:david"):
        answer = client.post(url, headers={"X-Actor": role, "Idempotency-Key": "fix-role-0001"})
        assert answer.status_code == 403, role
    assert client.post(url, headers={**BOT, "Idempotency-Key": "fix-no-body-1"}).status_code == 201


def test_staff_reads_of_findings_are_audited(client: TestClient, accounts) -> None:
    client.get(f"/api/v1/customers/{DAVID}/findings", headers=STAFF)
    log = client.get("/api/v1/audit-log").json()
    assert any(e["resource"] == "findings" and e["actor"] == "specialist:dana" for e in log)


def test_seeding_the_account_check_customers_twice_changes_nothing(client: TestClient, accounts) -> None:
    assert not seed_account_check_demo(accounts, today=TODAY).created
    assert client.get("/api/v1/customers/14").json()["first_name"] == "Nadia"
