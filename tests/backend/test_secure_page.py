"""The secure payment page's link rules (single use, expiry, tampering, another customer's link) and its flow:
the card goes to the simulated processor's tokenize endpoint, the backend gets the token, saves it, pays,
turns autopay on, and tells the handoff service (a real HTTP stand-in here) what happened."""

import base64
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.audit.models import AuditLog
from backend.clock import get_now
from backend.payment_page.models import LinkPurpose, LinkStatus, PaymentPageLink
from backend.payment_page.tokens import LinkClaims, sign_link
from tests.backend.conftest import NOW
from tests.support.recorder import Recorder, recording_server

pytestmark = pytest.mark.usefixtures("demo")

FARID = 6
BOT = {"X-Actor": "bot:conv-farid"}
TOKENIZE = "/sim-processor/v1/payment_methods"
HANDOFF_TOKEN = "test-handoff-token"


@pytest.fixture
def handoff(app: FastAPI) -> Iterator[Recorder]:
    with recording_server() as recorder:
        app.state.settings = app.state.settings.model_copy(
            update={"handoff_url": recorder.url, "handoff_api_token": SecretStr(HANDOFF_TOKEN)}
        )
        yield recorder


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": f"link-{secrets.token_hex(8)}"}


def new_link(client: TestClient, customer_id: int = FARID, purpose: str = "pay") -> str:
    answer = client.post(
        f"/api/v1/customers/{customer_id}/payment-page-links",
        headers={**BOT, **new_key()},
        json={"purpose": purpose, "conversation_id": "conv-farid"},
    )
    assert answer.status_code == 201, answer.text
    link = answer.json()
    assert link["url"].endswith(link["path"]) and link["purpose"] == purpose
    assert datetime.fromisoformat(link["expires_at"]) == NOW + timedelta(minutes=15)
    return str(link["path"])


def card_token(client: TestClient, number: str = "4242424242424242") -> str:
    answer = client.post(
        TOKENIZE,
        data={
            "type": "card",
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "34",
            "card[cvc]": "123",
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def balance(client: TestClient, customer_id: int = FARID) -> str:
    return str(client.get(f"/api/v1/customers/{customer_id}/balance").json()["total_due"])


def test_a_link_completes_once_pays_saves_the_card_turns_on_autopay_and_tells_the_chat(
    client: TestClient, db_session: Session, handoff: Recorder
) -> None:
    path = new_link(client)
    page = client.get(path)
    assert page.status_code == 200 and "Farid" in page.text and "$75.00" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text and ' name="card' not in page.text  # card fields are never form fields

    done = client.post(
        f"{path}/complete", json={"payment_token": card_token(client), "pay": "past_due", "autopay": True}
    )
    assert done.status_code == 200, done.text
    outcome = done.json()
    assert outcome["status"] == "completed" and outcome["payment"]["status"] == "posted"
    assert outcome["payment"]["amount"] == "75.00" and outcome["autopay"]["enabled"] is True
    assert outcome["method"]["masked"].startswith("Visa ending 4242")
    assert balance(client) == outcome["total_due"] == "100.00"
    methods = client.get(f"/api/v1/customers/{FARID}/payment-methods").json()
    assert methods["autopay"] is True
    assert [m["masked"] for m in methods["on_file"] if m["is_default"]] == [outcome["method"]["masked"]]

    assert [(p["path"], p["authorization"]) for p in handoff.posts] == [
        ("/api/payment-page/outcomes", f"Bearer {HANDOFF_TOKEN}")
    ]
    told = handoff.posts[0]["body"]
    assert (told["conversation_id"], told["customer_id"], told["status"]) == (
        "conv-farid",
        FARID,
        "completed",
    )
    assert told["summary"] == outcome["summary"] and "$75.00 has posted" in told["summary"]
    assert told["event_id"].startswith("payment-page-")
    link = db_session.scalar(select(PaymentPageLink))
    assert link is not None and link.status == LinkStatus.completed and link.notified_at is not None

    again = client.post(f"{path}/complete", json={"payment_token": card_token(client), "pay": "past_due"})
    assert (again.status_code, again.json()["error"]["code"]) == (410, "link_used")
    reopened = client.get(path)
    assert reopened.status_code == 410 and "already used" in reopened.text
    assert balance(client) == "100.00" and len(handoff.posts) == 1
    actors = set(db_session.scalars(select(AuditLog.actor).where(AuditLog.customer_id == FARID)))
    assert {"bot:conv-farid", f"secure_page:customer-{FARID}"} <= actors


def test_an_expired_link_is_refused_and_charges_nothing(app: FastAPI, client: TestClient) -> None:
    path = new_link(client)
    token = card_token(client)

    async def sixteen_minutes_later() -> datetime:
        return NOW + timedelta(minutes=16)

    app.dependency_overrides[get_now] = sixteen_minutes_later
    page = client.get(path)
    assert page.status_code == 410 and "expired" in page.text
    refused = client.post(f"{path}/complete", json={"payment_token": token, "pay": "full_balance"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (410, "link_expired")
    assert balance(client) == "175.00"


def _payload(path: str) -> tuple[dict[str, object], str]:
    payload, signature = path.removeprefix("/pay/").split(".")
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))), signature


def _encode(body: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=").decode()


def forged_path(*, secret: str, nonce: str) -> str:
    """A link for Farid signed with `secret`, naming `nonce`."""
    claims = LinkClaims(
        customer_id=FARID, purpose=LinkPurpose.pay, expires_at=NOW + timedelta(minutes=5), nonce=nonce
    )
    return "/pay/" + sign_link(secret=secret, claims=claims)


def test_tampered_forged_and_other_customers_links_are_refused(app: FastAPI, client: TestClient) -> None:
    path = new_link(client)
    body, signature = _payload(path)
    alice_path = new_link(client, customer_id=1)
    alice_body, _ = _payload(alice_path)
    secret = app.state.settings.payment_page_secret.get_secret_value()
    forged = {
        "signature edited": f"{path[:-2]}{'A' if path[-2] != 'A' else 'B'}{path[-1]}",
        "customer edited": f"/pay/{_encode({**body, 'c': 1})}.{signature}",
        "expiry edited": f"/pay/{_encode({**body, 'e': int(body['e']) + 3600})}.{signature}",  # type: ignore[call-overload]
        "other key": forged_path(secret="another-secret", nonce=str(body["n"])),
        # Signed right, but it names Alice's link (nonce) for Farid: the row says the link is Alice's.
        "another customer's link": forged_path(secret=secret, nonce=str(alice_body["n"])),
        "never issued": forged_path(secret=secret, nonce="0" * 32),
        "garbage": "/pay/not-a-token",
    }
    token = card_token(client)
    for name, bad_path in forged.items():
        page = client.get(bad_path)
        assert page.status_code == 404 and "not valid" in page.text, name
        refused = client.post(f"{bad_path}/complete", json={"payment_token": token, "pay": "full_balance"})
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "link_invalid", name
    naming_alice = client.post(
        f"{path}/complete", json={"payment_token": token, "pay": "full_balance", "customer_id": 1}
    )
    assert naming_alice.status_code == 422  # the page cannot name a customer: only the signed link does
    assert (
        balance(client) == "175.00"
        and balance(client, 1) == client.get("/api/v1/customers/1/balance").json()["total_due"]
    )
    assert (
        client.get(path).status_code == 200 and client.get(alice_path).status_code == 200
    )  # both still usable


def test_only_the_bot_or_staff_with_the_service_token_make_links(client: TestClient) -> None:
    body = {"purpose": "update_method", "conversation_id": "conv-1"}
    url = f"/api/v1/customers/{FARID}/payment-page-links"
    bot = {**BOT, **new_key()}
    assert client.post(url, json=body, headers={**bot, "Authorization": "Bearer wrong"}).status_code == 401
    assert client.post(url, json=body, headers=new_key()).status_code == 422  # no X-Actor
    page_actor = {"X-Actor": f"secure_page:customer-{FARID}", **new_key()}
    assert client.post(url, json=body, headers=page_actor).status_code == 403
    assert client.post("/api/v1/customers/999/payment-page-links", json=body, headers=bot).status_code == 404
    assert client.post(url, json={**body, "purpose": "refund"}, headers=bot).status_code == 422
    assert client.post(url, json=body, headers={"X-Actor": "specialist:dana", **new_key()}).status_code == 201


def test_a_resent_request_gets_the_same_link_and_a_new_key_a_new_one(
    client: TestClient, db_session: Session
) -> None:
    url = f"/api/v1/customers/{FARID}/payment-page-links"
    body = {"purpose": "pay", "conversation_id": "conv-farid"}
    key = {**BOT, "Idempotency-Key": "conv-farid-payment-page-7"}
    first = client.post(url, json=body, headers=key)
    again = client.post(url, json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()  # the same link: one row, one single-use nonce
    links = db_session.scalars(select(PaymentPageLink).where(PaymentPageLink.customer_id == FARID)).all()
    assert len(links) == 1
    assert client.get(again.json()["path"]).status_code == 200
    other = client.post(url, json=body, headers={**BOT, **new_key()})
    assert other.status_code == 201 and other.json()["url"] != first.json()["url"]
    # The same key for another request is refused; a link-making write needs a key like every write.
    reused = client.post(url, json={**body, "purpose": "update_method"}, headers=key)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert client.post(url, json=body, headers=BOT).status_code == 422


def test_a_declined_card_keeps_the_link_open_and_the_old_default_then_another_card_pays(
    client: TestClient, handoff: Recorder
) -> None:
    path = new_link(client)
    before = [
        m["masked"]
        for m in client.get(f"/api/v1/customers/{FARID}/payment-methods").json()["on_file"]
        if m["is_default"]
    ]
    declined = client.post(
        f"{path}/complete", json={"payment_token": card_token(client, "4000000000000002"), "pay": "past_due"}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert "did not go through" in declined.json()["summary"] and balance(client) == "175.00"
    after = [
        m["masked"]
        for m in client.get(f"/api/v1/customers/{FARID}/payment-methods").json()["on_file"]
        if m["is_default"]
    ]
    assert after == before and handoff.posts == []
    paid = client.post(f"{path}/complete", json={"payment_token": card_token(client), "pay": "past_due"})
    assert paid.json()["status"] == "completed" and balance(client) == "100.00" and len(handoff.posts) == 1


def test_a_link_in_use_in_another_window_is_refused_and_a_processor_outage_gives_it_back(
    app: FastAPI, client: TestClient, db_session: Session
) -> None:
    path = new_link(client)
    token = card_token(client)
    db_session.execute(update(PaymentPageLink).values(status=LinkStatus.processing))
    busy = client.post(f"{path}/complete", json={"payment_token": token, "pay": "past_due"})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "link_in_use")
    db_session.execute(update(PaymentPageLink).values(status=LinkStatus.open))
    app.state.processor.outage = True
    down = client.post(f"{path}/complete", json={"payment_token": token, "pay": "past_due"})
    assert (down.status_code, down.json()["error"]["code"]) == (503, "processor_unavailable")
    assert balance(client) == "175.00"
    app.state.processor.outage = False
    assert (
        client.post(f"{path}/complete", json={"payment_token": token, "pay": "past_due"}).status_code == 200
    )


def test_the_simulated_processor_refuses_bad_cards_without_echoing_them(client: TestClient) -> None:
    for number in ("4242424242424241", "1234", ""):
        refused = client.post(
            TOKENIZE,
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "34",
                "card[cvc]": "123",
            },
        )
        assert refused.status_code == 402 and refused.json()["error"]["code"] == "incorrect_number"
        assert number not in refused.text or not number
    past = client.post(
        TOKENIZE,
        data={
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": "01",
            "card[exp_year]": "20",
            "card[cvc]": "123",
        },
    )
    assert past.status_code == 402 and past.json()["error"]["code"] == "invalid_expiry"
    assert client.post(TOKENIZE, json={"number": "4242424242424242"}).status_code == 400
