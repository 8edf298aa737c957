"""The demo seed explains each scenario correctly through the API; figures come from the seed constants."""
from datetime import timedelta
from decimal import Decimal

import pytest

from backend.money import format_date
from backend.seed.demo import (
    ALICE_DAYS_LATE,
    BEN_UPGRADE_DAY,
    CARLA_USED_GB,
    CYCLE_DAYS,
    DAVID_INSTALLATION_FEE,
    DEMO_CUSTOMERS,
    HIRO_PROMO_AMOUNT,
    demo_cycles,
)
from backend.seed.reference import E911_FEE, FUSF_RATE, LATE_FEE, LATE_FEE_GRACE_DAYS, SALES_TAX_RATE
from tests.backend.conftest import TODAY

pytestmark = pytest.mark.usefixtures("demo")
LATEST, PREVIOUS = demo_cycles(TODAY)[-1], demo_cycles(TODAY)[-2]


def money(value: str) -> Decimal:
    assert isinstance(value, str) and value.count(".") == 1 and len(value.split(".")[1]) == 2, value
    return Decimal(value)


def latest_invoice(client, customer_id: int) -> dict:
    invoices = client.get(f"/api/v1/customers/{customer_id}/invoices").json()
    return client.get(f"/api/v1/customers/{customer_id}/invoices/{invoices[0]['number']}").json()


def test_demo_customers_have_stable_ids_and_verify(client):
    for demo in DEMO_CUSTOMERS:
        customer = client.get(f"/api/v1/customers/{demo.id}").json()
        assert (
            customer["first_name"] == demo.first_name
            and customer["account"]["account_number"] == demo.account_number
        )
        verified = client.post(
            "/api/v1/verifications",
            json={"account_number": demo.account_number, "postal_code": demo.postal_code},
        ).json()
        assert verified == {"verified": True, "customer_id": demo.id, "first_name": demo.first_name,
                            "account_number": demo.account_number}


def test_alice_late_fee_names_due_date_payment_date_and_rule(client):
    invoice = latest_invoice(client, 1)
    fee = next(line for line in invoice["line_items"] if line["charge_type"] == "late_fee")
    assert money(fee["amount"]) == LATE_FEE
    assert money(invoice["total"]) == Decimal("60.00") + LATE_FEE
    explained = client.get(f"/api/v1/customers/1/line-items/{fee['id']}/explanation").json()
    paid_on = PREVIOUS.due_date + timedelta(days=ALICE_DAYS_LATE)
    assert format_date(PREVIOUS.due_date) in explained["summary"]
    assert format_date(paid_on) in explained["summary"]
    assert f"{ALICE_DAYS_LATE} days late" in explained["summary"]
    assert explained["policy"].startswith("LATE-FEE-1")
    assert f"{LATE_FEE_GRACE_DAYS}-day grace period" in explained["computation"]
    assert explained["facts"]["days_late"] == ALICE_DAYS_LATE
    # The synonym the customer uses finds the same line.
    found = client.get("/api/v1/customers/1/line-items", params={"name": "late payment charge"}).json()
    assert [line["id"] for line in found] == [fee["id"]]
    balance = client.get("/api/v1/customers/1/balance").json()
    assert money(balance["total_due"]) == Decimal("85.00") and money(balance["past_due"]) == 0
    assert balance["next_due_date"] == LATEST.due_date.isoformat()


def test_ben_proration_charge_and_credit(client):
    invoice = latest_invoice(client, 2)
    prorations = [line for line in invoice["line_items"] if line["charge_type"] == "proration"]
    days = CYCLE_DAYS - BEN_UPGRADE_DAY + 1
    by_sign = {money(line["amount"]) > 0: line for line in prorations}
    assert money(by_sign[True]["amount"]) == Decimal("75.00") * days / CYCLE_DAYS  # Premium 75
    assert money(by_sign[False]["amount"]) == -Decimal("45.00") * days / CYCLE_DAYS  # Basic 45 credited
    explained = client.get(f"/api/v1/customers/2/line-items/{by_sign[True]['id']}/explanation").json()
    assert f"{days} days" in explained["summary"] and "$2.50 per day" in explained["computation"]
    assert explained["facts"]["days_in_period"] == CYCLE_DAYS
    comparison = client.get("/api/v1/customers/2/bill-comparison").json()
    assert money(comparison["difference"]) == Decimal("15.00")
    assert [c["kind"] for c in comparison["changes"]] == ["new", "new"]
    assert sum(money(c["difference"]) for c in comparison["changes"]) == money(comparison["difference"])


def test_carla_usage_overage(client):
    invoice = latest_invoice(client, 3)
    usage = next(line for line in invoice["line_items"] if line["charge_type"] == "usage")
    over = CARLA_USED_GB[0] - 20
    assert money(usage["amount"]) == over * 10 and Decimal(usage["quantity"]) == over
    explained = client.get(f"/api/v1/customers/3/line-items/{usage['id']}/explanation").json()
    assert f"{CARLA_USED_GB[0]} GB" in explained["summary"] and "20 GB" in explained["summary"]
    comparison = client.get("/api/v1/customers/3/bill-comparison").json()
    (change,) = comparison["changes"]
    assert (
        change["kind"] == "changed"
        and money(change["difference"]) == (CARLA_USED_GB[0] - CARLA_USED_GB[1]) * 10
    )


def test_david_duplicate_one_time_charge_is_flagged_and_disputable(client):
    invoice = latest_invoice(client, 4)
    fees = [line for line in invoice["line_items"] if line["charge_type"] == "one_time"]
    assert len(fees) == 2 and all(money(f["amount"]) == DAVID_INSTALLATION_FEE for f in fees)
    explained = client.get(f"/api/v1/customers/4/line-items/{fees[1]['id']}/explanation").json()
    assert "duplicate" in explained["summary"] and explained["facts"]["identical_line_item_ids"] == [
        fees[0]["id"]
    ]
    dispute = client.post(
        "/api/v1/customers/4/disputes",
        json={"line_item_id": fees[1]["id"], "reason": "Billed twice", "conversation_id": "conv-1"},
    )
    assert dispute.status_code == 201
    assert money(dispute.json()["amount"]) == DAVID_INSTALLATION_FEE
    assert dispute.json()["invoice_number"] == invoice["number"] and dispute.json()["status"] == "open"


def test_elena_pending_payment_from_yesterday(client):
    yesterday = TODAY - timedelta(days=1)
    payments = client.get("/api/v1/customers/5/payments", params={"date": yesterday.isoformat()}).json()
    assert [(p["status"], p["amount"]) for p in payments] == [("pending", "60.00")]
    balance = client.get("/api/v1/customers/5/balance").json()
    assert balance["last_payment"]["status"] == "pending"
    assert money(balance["pending_payments"]) == Decimal("60.00") and money(balance["total_due"]) == Decimal(
        "60.00"
    )


def test_farid_failed_autopay_and_overdue_invoice(client):
    balance = client.get("/api/v1/customers/6/balance").json()
    assert money(balance["past_due"]) == Decimal("75.00")
    assert money(balance["total_due"]) == Decimal("75.00") + Decimal("75.00") + LATE_FEE
    assert balance["last_payment"]["status"] == "failed"
    payments = client.get("/api/v1/customers/6/payments").json()
    assert "expired" in payments[0]["failure_reason"].lower()
    invoices = client.get("/api/v1/customers/6/invoices").json()
    assert invoices[1]["status"] == "overdue" and invoices[1]["due_date"] == PREVIOUS.due_date.isoformat()
    methods = client.get("/api/v1/customers/6/payment-methods").json()
    assert methods["autopay"] is True and methods["on_file"][0]["expired"] is True
    assert {way["kind"] for way in methods["ways_to_pay"]} >= {"online", "phone"}


def test_grace_taxes_and_regulatory_fees(client):
    invoice = latest_invoice(client, 7)
    taxes = {line["policy_rule"]: line for line in invoice["line_items"] if line["charge_type"] == "tax"}
    assert money(taxes["TAX-STATE-SALES"]["amount"]) == (Decimal("80.00") * SALES_TAX_RATE).quantize(
        Decimal("0.01")
    )
    assert money(taxes["REG-FUSF"]["amount"]) == (Decimal("60.00") * FUSF_RATE).quantize(Decimal("0.01"))
    assert money(taxes["REG-911"]["amount"]) == E911_FEE
    assert money(invoice["total"]) == sum(money(line["amount"]) for line in invoice["line_items"])
    explained = client.get(
        f"/api/v1/customers/7/line-items/{taxes['TAX-STATE-SALES']['id']}/explanation"
    ).json()
    assert "6.25% x $80.00" in explained["computation"] and explained["facts"]["taxable_base"] == "80.00"


def test_hiro_promotion_ended(client):
    comparison = client.get("/api/v1/customers/8/bill-comparison").json()
    (change,) = comparison["changes"]
    assert change["kind"] == "removed" and change["charge_type"] == "discount"
    assert money(change["difference"]) == HIRO_PROMO_AMOUNT == money(comparison["difference"])
    assert format_date(PREVIOUS.period_end) in change["explanation"]
