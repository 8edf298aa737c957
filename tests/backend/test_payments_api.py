"""Payments and arrangements through the API (SQLite and PostgreSQL): docs/contracts.md, "Payments"."""

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from backend.payments.processor import WebhookEventType
from backend.payments.simulated_processor import SimulatedProcessor
from tests.backend.conftest import STAFF, TODAY

BOT = {"X-Actor": "bot:rasa"}
ALICE, CARLA, FARID = 1, 3, 6


def balance(client: TestClient, cid: int) -> dict[str, str]:
    return client.get(f"/api/v1/customers/{cid}/balance").json()


def quote(client: TestClient, cid: int, **body: object) -> dict[str, object]:
    response = client.post(f"/api/v1/customers/{cid}/payment-quotes", json=body, headers=BOT)
    assert response.status_code == 201, response.text
    return response.json()


def confirm(client: TestClient, cid: int, quote_id: object, key: str, actor: dict[str, str] = BOT):
    return client.post(
        f"/api/v1/customers/{cid}/payment-quotes/{quote_id}/confirm",
        headers={**actor, "Idempotency-Key": key},
    )


def save_card(client: TestClient, app, cid: int, number: str, key: str) -> dict[str, object]:
    card = app.state.processor.tokenize_card(number=number, exp_month=12, exp_year=2031, cvc="123")
    response = client.post(
        f"/api/v1/customers/{cid}/payment-methods",
        json={"token": card.token},
        headers={**BOT, "Idempotency-Key": key},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_pay_an_amount_posts_at_once_and_every_figure_follows(client: TestClient, demo) -> None:
    before = balance(client, ALICE)
    offer = quote(client, ALICE, amount_choice="amount", amount="50.00")
    assert offer["summary"] == "Pay $50.00 now with Visa ending 1111?"
    assert Decimal(offer["total_due_after"]) == Decimal(before["total_due"]) - Decimal("50.00")
    paid = confirm(client, ALICE, offer["quote_id"], "pay-alice-0001")
    assert paid.status_code == 201 and paid.json()["status"] == "posted" and paid.json()["source"] == "bot"
    after = balance(client, ALICE)
    assert (
        Decimal(after["total_due"])
        == Decimal(before["total_due"]) - Decimal("50.00")
        == Decimal(paid.json()["total_due"])
    )
    latest = client.get(f"/api/v1/customers/{ALICE}/invoices").json()[0]
    assert Decimal(latest["amount_due"]) == Decimal(latest["total"]) - Decimal("50.00")
    listed = client.get(f"/api/v1/customers/{ALICE}/payments").json()[0]
    assert listed["status"] == "posted" and listed["actor"] == "bot:rasa"
    # A double click (same key) and a second tab (another key): the same single payment, answered 200.
    for key in ("pay-alice-0001", "pay-alice-0002"):
        again = confirm(client, ALICE, offer["quote_id"], key)
        assert again.status_code == 200 and again.json()["id"] == paid.json()["id"]
    assert balance(client, ALICE)["total_due"] == after["total_due"]
    # The same key for another request is refused.
    other = quote(client, ALICE, amount_choice="amount", amount="1.00")
    reused = confirm(client, ALICE, other["quote_id"], "pay-alice-0001")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"amount_choice": "amount", "amount": "0"}, "invalid_amount"),
        ({"amount_choice": "amount", "amount": "-5.00"}, "invalid_amount"),
        ({"amount_choice": "amount", "amount": "10.005"}, "invalid_amount"),
        ({"amount_choice": "amount", "amount": "fifty"}, "invalid_amount"),
        ({"amount_choice": "amount", "amount": 50}, "invalid_amount"),
        ({"amount_choice": "amount", "amount": "85.01"}, "amount_above_balance"),
        ({"amount_choice": "past_due"}, "nothing_due"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_charged(client: TestClient, demo, body, code) -> None:
    response = client.post(f"/api/v1/customers/{ALICE}/payment-quotes", json=body, headers=BOT)
    assert response.status_code == 422 and response.json()["error"]["code"] == code, response.text
    assert balance(client, ALICE)["total_due"] == "85.00"


def test_writes_need_an_actor_and_a_key(client: TestClient, demo) -> None:
    no_actor = client.post(
        f"/api/v1/customers/{ALICE}/payment-quotes", json={"amount_choice": "full_balance"}
    )
    assert no_actor.status_code == 422
    system = client.post(
        f"/api/v1/customers/{ALICE}/payment-quotes",
        json={"amount_choice": "full_balance"},
        headers={"X-Actor": "system:me"},
    )
    assert system.status_code == 403
    offer = quote(client, ALICE, amount_choice="full_balance")
    assert (
        client.post(
            f"/api/v1/customers/{ALICE}/payment-quotes/{offer['quote_id']}/confirm", headers=BOT
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/customers/{CARLA}/payment-quotes/{offer['quote_id']}/confirm",
            headers={**BOT, "Idempotency-Key": "other-customer"},
        ).status_code
        == 404
    )


def test_farid_updates_his_card_pays_the_past_due_and_turns_autopay_back_on(
    client: TestClient, app, demo
) -> None:
    methods = client.get(f"/api/v1/customers/{FARID}/payment-methods").json()
    assert {a["code"] for a in methods["alerts"]} == {"method_expired", "autopay_failed"}
    expired = client.post(
        f"/api/v1/customers/{FARID}/payment-quotes", json={"amount_choice": "past_due"}, headers=BOT
    )
    assert expired.status_code == 409 and expired.json()["error"]["code"] == "method_expired"
    card = save_card(client, app, FARID, "4242424242424242", "farid-card-01")
    assert card["masked"] == "Visa ending 4242 (expires 12/2031)" and card["is_default"]
    paid = confirm(client, FARID, quote(client, FARID, amount_choice="past_due")["quote_id"], "farid-pay-01")
    assert paid.json()["status"] == "posted" and paid.json()["past_due"] == "0.00"
    assert paid.json()["total_due"] == "100.00"
    on = client.put(
        f"/api/v1/customers/{FARID}/autopay",
        json={"enabled": True},
        headers={**BOT, "Idempotency-Key": "farid-autopay-1"},
    )
    assert on.status_code == 200 and on.json()["next_autopay_date"] == balance(client, FARID)["next_due_date"]
    assert "Visa ending 4242" in on.json()["message"]
    assert client.get(f"/api/v1/customers/{FARID}/payment-methods").json()["alerts"] == [
        a
        for a in client.get(f"/api/v1/customers/{FARID}/payment-methods").json()["alerts"]
        if a["code"] == "autopay_failed"
    ]


def test_a_declined_card_records_a_failed_attempt_and_changes_no_balance(
    client: TestClient, app, demo
) -> None:
    save_card(client, app, ALICE, "4000000000009995", "alice-card-funds")
    paid = confirm(
        client, ALICE, quote(client, ALICE, amount_choice="full_balance")["quote_id"], "alice-funds-1"
    )
    body = paid.json()
    assert (
        paid.status_code == 201
        and body["status"] == "failed"
        and body["failure_reason"] == "insufficient_funds"
    )
    assert body["total_due"] == "85.00" and balance(client, ALICE)["total_due"] == "85.00"


def test_processor_down_records_nothing_and_the_same_key_works_later(client: TestClient, app, demo) -> None:
    offer = quote(client, ALICE, amount_choice="full_balance")
    app.state.processor.outage = True
    down = confirm(client, ALICE, offer["quote_id"], "alice-down-1")
    assert down.status_code == 503 and down.json()["error"]["code"] == "processor_unavailable"
    assert client.get(f"/api/v1/customers/{ALICE}/payments").json()[0]["source"] != "bot"
    app.state.processor.outage = False
    assert confirm(client, ALICE, offer["quote_id"], "alice-down-1").json()["status"] == "posted"


def webhook(
    client: TestClient,
    processor: SimulatedProcessor,
    event_type: WebhookEventType,
    reference: str,
    event_id: str | None = None,
):
    body, headers = processor.event_payload(event_type=event_type, reference=reference, event_id=event_id)
    return client.post("/api/v1/processor/webhooks", content=body, headers=headers)


def test_three_d_secure_payment_pends_then_posts_by_webhook_once(client: TestClient, app, demo) -> None:
    save_card(client, app, ALICE, "4000000000003220", "alice-card-3ds")
    paid = confirm(
        client, ALICE, quote(client, ALICE, amount_choice="full_balance")["quote_id"], "alice-3ds-1"
    ).json()
    assert (
        paid["status"] == "pending" and paid["pending_payments"] == "85.00" and paid["total_due"] == "85.00"
    )
    reference = paid["processor_reference"]
    first = webhook(client, app.state.processor, WebhookEventType.payment_succeeded, reference, "evt_3ds1")
    assert first.json() == {"event_id": "evt_3ds1", "outcome": "applied"}
    assert (
        webhook(
            client, app.state.processor, WebhookEventType.payment_succeeded, reference, "evt_3ds1"
        ).json()["outcome"]
        == "duplicate"
    )
    # A late failure for a posted payment changes nothing.
    assert (
        webhook(client, app.state.processor, WebhookEventType.payment_failed, reference, "evt_3ds2").json()[
            "outcome"
        ]
        == "ignored"
    )
    assert balance(client, ALICE)["total_due"] == "0.00"


def test_a_webhook_before_the_api_answer_is_applied_when_the_payment_is_recorded(
    client: TestClient, app, demo
) -> None:
    save_card(client, app, ALICE, "4000000000003220", "alice-card-3ds2")
    offer = quote(client, ALICE, amount_choice="full_balance")
    reference = app.state.processor.charge(
        token="x", amount=Decimal("1.00"), currency="USD", idempotency_key=offer["quote_id"], description=""
    ).reference
    early = webhook(client, app.state.processor, WebhookEventType.payment_succeeded, reference, "evt_early")
    assert early.json()["outcome"] == "deferred"
    assert confirm(client, ALICE, offer["quote_id"], "alice-early-1").json()["status"] == "posted"


def test_webhook_signature_is_required(client: TestClient, app, demo) -> None:
    body, _headers = app.state.processor.event_payload(
        event_type=WebhookEventType.payment_succeeded, reference="simch_" + "0" * 24
    )
    forged = SimulatedProcessor(webhook_secret="not-the-secret").event_payload(
        event_type=WebhookEventType.payment_succeeded, reference="simch_" + "0" * 24
    )
    assert client.post("/api/v1/processor/webhooks", content=body).status_code == 400
    assert (
        client.post("/api/v1/processor/webhooks", content=forged[0], headers=forged[1]).json()["error"][
            "code"
        ]
        == "invalid_webhook"
    )


def test_a_signed_event_of_a_type_we_do_not_handle_is_acknowledged_once(
    client: TestClient, app, db_session, demo
) -> None:
    from backend.payments.models import ProcessorEvent

    processor: SimulatedProcessor = app.state.processor
    body, headers = processor.event_payload(event_type="payment.refunded", event_id="evt_refund1")
    first = client.post("/api/v1/processor/webhooks", content=body, headers=headers)
    # 200, so the processor stops redelivering it; a 400 would be retried for days.
    assert first.status_code == 200 and first.json() == {"event_id": "evt_refund1", "outcome": "ignored"}
    again = client.post("/api/v1/processor/webhooks", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    stored = db_session.get(ProcessorEvent, "evt_refund1")
    assert stored is not None and (stored.type, stored.outcome) == ("unhandled", "ignored")
    assert stored.details == {"processor_type": "payment.refunded"}
    # Only the signature, the timestamp and the shape decide a 400.
    unsigned = client.post("/api/v1/processor/webhooks", content=body)
    forged_body, forged_headers = SimulatedProcessor(webhook_secret="not-the-secret").event_payload(
        event_type="payment.refunded"
    )
    forged = client.post("/api/v1/processor/webhooks", content=forged_body, headers=forged_headers)
    junk_body, junk_headers = processor.event_payload(event_type="Not A Type!")
    junk = client.post("/api/v1/processor/webhooks", content=junk_body, headers=junk_headers)
    assert [unsigned.status_code, forged.status_code, junk.status_code] == [400, 400, 400]


def test_alice_gets_her_late_fee_waived_once(client: TestClient, demo) -> None:
    options = client.get(f"/api/v1/customers/{ALICE}/arrangement-options").json()
    assert options["late_fee_waiver"]["eligible"] and options["late_fee_waiver"]["amount"] == "25.00"
    waived = client.post(
        f"/api/v1/customers/{ALICE}/late-fee-waivers",
        json={},
        headers={**BOT, "Idempotency-Key": "alice-waive-1"},
    )
    assert waived.status_code == 201 and waived.json()["total_due"] == "60.00"
    assert balance(client, ALICE)["total_due"] == "60.00"
    again = client.get(f"/api/v1/customers/{ALICE}/arrangement-options").json()["late_fee_waiver"]
    assert not again["eligible"] and again["reasons"][0]["code"] == "no_late_fee"


def test_the_bill_explanation_and_comparison_state_the_waiver_credit_the_balance_counts(
    client: TestClient, demo
) -> None:
    invoices = client.get(f"/api/v1/customers/{ALICE}/invoices").json()
    fee = next(
        line
        for invoice in invoices
        for line in client.get(f"/api/v1/customers/{ALICE}/invoices/{invoice['number']}").json()["line_items"]
        if line["charge_type"] == "late_fee"
    )
    explanation_url = f"/api/v1/customers/{ALICE}/line-items/{fee['id']}/explanation"
    before = client.get(explanation_url).json()
    assert "credit" not in before["summary"].lower() and "credited" not in before["facts"]
    waived = client.post(
        f"/api/v1/customers/{ALICE}/late-fee-waivers",
        json={"line_item_id": fee["id"]},
        headers={**BOT, "Idempotency-Key": "alice-waive-explain"},
    )
    assert waived.status_code == 201, waived.text
    credit = waived.json()["credit"]

    after = client.get(explanation_url).json()
    assert after["summary"].startswith(before["summary"])  # the fee's own explanation is unchanged
    assert "A credit was issued on this charge ($25.00 on " in after["summary"]
    assert "One-time late-fee waiver" in after["summary"]
    assert "no longer adds to what you owe" in after["summary"]
    assert after["facts"]["credited"] == "25.00" and after["facts"]["still_owed"] == "0.00"
    assert [c["id"] for c in after["facts"]["credits"]] == [credit["id"]]

    # "Why is my bill higher": the fee is still on the bill, and the comparison says it was credited.
    comparison = client.get(f"/api/v1/customers/{ALICE}/bill-comparison").json()
    late = next(change for change in comparison["changes"] if change["charge_type"] == "late_fee")
    assert "A credit was issued on this charge ($25.00" in late["explanation"]
    assert "no longer adds to what you owe" in comparison["summary"]
    # The figures agree: what the explanation says is still owed is what the balance counts for the fee.
    owed = Decimal(balance(client, ALICE)["total_due"])
    assert owed == Decimal(waived.json()["total_due"]) == Decimal("60.00")


def test_promise_and_plan_follow_the_policy(client: TestClient, demo) -> None:
    farid = client.get(f"/api/v1/customers/{FARID}/arrangement-options").json()
    assert not farid["promise_to_pay"]["eligible"]
    assert farid["promise_to_pay"]["reasons"][0]["code"] == "promise_window_passed"
    assert [c["amount_each"] for c in farid["instalment_plan"]["choices"]] == ["37.50", "25.00"]
    plan = client.post(
        f"/api/v1/customers/{FARID}/arrangements",
        json={"kind": "instalment_plan", "instalments": 3},
        headers={**BOT, "Idempotency-Key": "farid-plan-1"},
    )
    assert plan.status_code == 201 and [i["amount"] for i in plan.json()["instalments"]] == ["25.00"] * 3
    second = client.post(
        f"/api/v1/customers/{FARID}/arrangements",
        json={"kind": "instalment_plan", "instalments": 2},
        headers={**BOT, "Idempotency-Key": "farid-plan-2"},
    )
    assert second.status_code == 422 and second.json()["error"]["reasons"][0]["code"] == "active_arrangement"

    carla = client.get(f"/api/v1/customers/{CARLA}/arrangement-options").json()["promise_to_pay"]
    assert carla["eligible"] and carla["minimum_amount"] == "125.00"
    late = client.post(
        f"/api/v1/customers/{CARLA}/arrangements",
        json={"kind": "promise_to_pay", "amount": "125.00", "pay_by": "2099-01-01"},
        headers={**BOT, "Idempotency-Key": "carla-promise-0"},
    )
    assert late.status_code == 422 and late.json()["error"]["code"] == "outside_policy"
    approved = client.post(
        f"/api/v1/customers/{CARLA}/arrangements",
        json={
            "kind": "promise_to_pay",
            "amount": "125.00",
            "pay_by": "2099-01-01",
            "override_policy": True,
            "note": "hardship, approved",
        },
        headers={**STAFF, "Idempotency-Key": "carla-promise-1"},
    )
    assert approved.status_code == 201 and approved.json()["approved_outside_policy"]


def test_the_job_is_idempotent_and_breaks_a_missed_promise(client: TestClient, app, db_session, demo) -> None:
    from datetime import timedelta

    from backend.payments.jobs import run_billing_jobs

    carla = client.get(f"/api/v1/customers/{CARLA}/arrangement-options").json()["promise_to_pay"]
    client.post(
        f"/api/v1/customers/{CARLA}/arrangements",
        json={"kind": "promise_to_pay", "amount": carla["minimum_amount"], "pay_by": carla["latest_date"]},
        headers={**BOT, "Idempotency-Key": "carla-promise-9"},
    )
    settings, processor = app.state.settings, app.state.processor
    due_day = TODAY + timedelta(days=15)
    first = run_billing_jobs(db_session, day=due_day, processor=processor, settings=settings)
    assert (
        first.counts.get("autopay_posted") == 2 and first.counts.get("autopay_failed") == 1
    )  # Ben, Grace; Farid
    totals = {cid: balance(client, cid)["total_due"] for cid in range(1, 9)}
    assert run_billing_jobs(db_session, day=due_day, processor=processor, settings=settings).counts == {}
    assert {cid: balance(client, cid)["total_due"] for cid in range(1, 9)} == totals
    broken_day = TODAY + timedelta(days=30)
    report = run_billing_jobs(db_session, day=broken_day, processor=processor, settings=settings)
    assert report.counts.get("promise_to_pay_broken") == 1
    assert client.get(f"/api/v1/customers/{CARLA}/arrangements").json()[0]["status"] == "broken"
