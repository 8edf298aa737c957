"""POST/GET /api/v1/mail/messages (issue 19; docs/contracts.md, "Email"): idempotent per key, the address on
file, threading headers, templates (plain text + escaped HTML), the reminder preference link. SQLite and
PostgreSQL."""
import hashlib
import hmac
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.mail.models import MailMessage
from backend.mail.sender import build_message
from tests.backend.conftest import API_TOKEN

ALICE = 1  # demo customer: Alice Moreno, alice.moreno@example.com
SECRET = "dev-email-reply-secret"


def _post(client, body: dict, key: str = "mail-key-0001", **headers: str):
    return client.post("/api/v1/mail/messages", json=body, headers={"Idempotency-Key": key, **headers})


def _row(session: Session, mail_id: str) -> MailMessage:
    row = session.scalar(select(MailMessage).where(MailMessage.id == mail_id))
    assert row is not None
    return row


def test_ticket_ack_to_the_address_on_file_once_per_key(client, demo: Session) -> None:
    body = {"template": "ticket_ack", "customer_id": ALICE,
            "context": {"ticket_number": "T-000123", "summary": "Late fee <b>question</b>"},
            "thread": {"conversation_id": "c0ffee12", "in_reply_to": "<abc@mail.example.org>"}}
    first = _post(client, body, **{"X-Actor": "bot:c0ffee12"})
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["status"] == "queued" and answer["to"] == "alice.moreno@example.com"
    assert answer["requested_by"] == "bot:c0ffee12"
    assert re.fullmatch(r"<conv-c0ffee12-[0-9a-f]{32}@reply\.example\.test>", answer["message_id"])
    assert "T-000123" in answer["subject"]

    again = _post(client, body, **{"X-Actor": "bot:c0ffee12"})
    assert again.status_code == 200 and again.json()["id"] == answer["id"]
    other = _post(client, {**body, "context": {"ticket_number": "T-000999"}})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert len(demo.scalars(select(MailMessage).where(MailMessage.customer_id == ALICE)).all()) == 1

    row = _row(demo, answer["id"])
    signature = hmac.new(SECRET.encode(), b"c0ffee12", hashlib.sha256).hexdigest()[:16]
    assert row.headers["Reply-To"] == f"reply+c0ffee12.{signature}@reply.example.test"
    assert row.headers["In-Reply-To"] == row.headers["References"] == "<abc@mail.example.org>"
    assert row.headers["Auto-Submitted"] == "auto-generated"
    assert "Hello Alice," in row.body_text and "T-000123" in row.body_text
    assert "Late fee &lt;b&gt;question&lt;/b&gt;" in row.body_html  # escaped in HTML, verbatim in text
    assert "Late fee <b>question</b>" in row.body_text

    listed = client.get("/api/v1/mail/messages", params={"customer_id": ALICE}).json()
    assert [m["id"] for m in listed] == [answer["id"]]
    by_conversation = client.get("/api/v1/mail/messages", params={"conversation_id": "c0ffee12"}).json()
    assert [m["id"] for m in by_conversation] == [answer["id"]]
    assert client.get(f"/api/v1/mail/messages/{answer['id']}").json()["template"] == "ticket_ack"


def test_refusals_are_clear_errors(client, demo: Session) -> None:
    ack = {"template": "ticket_ack", "context": {"ticket_number": "T-1"}}
    assert client.post("/api/v1/mail/messages", json={**ack, "to": "a@example.org"}).json()["error"][
        "code"] == "invalid_input"  # no Idempotency-Key
    cases = [
        ({**ack, "customer_id": ALICE, "to": "someone.else@example.org"}, 422, "address on file"),
        ({**ack, "customer_id": 99999}, 404, "No such customer"),
        (ack, 422, "no address"),
        ({**ack, "to": "a@example.org\r\nBcc: victim@example.org"}, 422, "to"),
        ({**ack, "to": "a@example.org", "template": "nope"}, 422, "Unknown template"),
        ({"template": "ticket_ack", "to": "a@example.org", "context": {}}, 422, "ticket_number"),
        ({**ack, "to": "a@example.org", "context": {"ticket_number": "T-1", "extra": 1}}, 422, "extra"),
        ({"template": "payment_reminder", "to": "a@example.org", "context": {"kind": "past_due"}}, 422,
         "customer_id"),
        ({"template": "payment_reminder", "customer_id": ALICE,
          "context": {"kind": "past_due", "pay_url": "javascript:alert(1)"}}, 422, "pay_url"),
        ({**ack, "to": "a@example.org", "attachments": [{"kind": "invoice_pdf"}]}, 422, "give customer_id"),
        ({**ack, "customer_id": ALICE,
          "attachments": [{"kind": "invoice_pdf", "invoice_number": "INV-1999-000001"}]}, 404, ""),
        ({**ack, "to": "a@example.org", "thread": {"conversation_id": "bad id!"}}, 422, "conversation_id"),
        ({"template": "document_copy", "customer_id": ALICE, "context": {"title": "Invoice"}}, 422,
         "exactly one document"),
        ({"template": "document_copy", "customer_id": ALICE, "context": {"title": "Invoice"},
          "attachments": [{"kind": "invoice_pdf"}, {"kind": "statement_pdf"}]}, 422, "exactly one document"),
    ]
    for number, (body, status, words) in enumerate(cases):
        answer = _post(client, body, key=f"refused-{number:04d}")
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["error"]["message"], (body, answer.text)
    assert demo.scalars(select(MailMessage)).all() == []
    assert client.get("/api/v1/mail/messages").status_code == 422
    unauthenticated = client.post("/api/v1/mail/messages", json={**ack, "to": "a@example.org"},
                                  headers={"Authorization": "Bearer wrong", "Idempotency-Key": "k-00000001"})
    assert unauthenticated.status_code == 401
    assert API_TOKEN != "wrong"


def test_reminder_has_a_preference_link_that_turns_reminders_off(client, demo: Session) -> None:
    body = {"template": "payment_reminder", "customer_id": ALICE,
            "context": {"kind": "past_due", "amount": "75.00", "due_date": "2026-02-17",
                        "invoice_number": "INV-2026-000001", "pay_url": "https://pay.example.test/x"}}
    first = _post(client, body, key="reminder-0001")
    assert first.status_code == 202 and first.json()["status"] == "queued"
    row = _row(demo, first.json()["id"])
    assert "$75.00 (invoice INV-2026-000001) is past due since February 17, 2026" in row.body_text
    link = re.search(r"http://127\.0\.0\.1:8000(/mail/preferences/[0-9]+\.[0-9a-f]{32})", row.body_text)
    assert link is not None and link.group(0) in row.body_html
    assert row.headers["List-Unsubscribe"] == f"<{link.group(0)}>"
    path = link.group(1)

    page = client.get(path)
    assert page.status_code == 200 and "reminder emails are <strong>on</strong>" in page.text
    forged = client.get(path[:-1] + ("0" if path[-1] != "0" else "1"))
    assert forged.status_code == 404
    other_customer = client.get(path.replace("/preferences/1.", "/preferences/2.", 1))
    assert other_customer.status_code == 404
    off = client.post(path, data={"reminders": "off"})
    assert off.status_code == 200 and "<strong>off</strong>" in off.text

    second = _post(client, body, key="reminder-0002")
    assert second.status_code == 202 and second.json()["status"] == "suppressed"
    ack = _post(client, {"template": "ticket_ack", "customer_id": ALICE, "context": {"ticket_number": "T-2"}},
                key="ack-after-off")
    assert ack.json()["status"] == "queued"  # only reminders are turned off
    assert "preferences" not in _row(demo, ack.json()["id"]).body_text


def test_the_reply_secret_is_refused_outside_development_at_its_default() -> None:
    import pytest
    from pydantic import ValidationError

    from backend.config import Settings

    real = {"APP_ENV": "production", "BACKEND_API_TOKEN": "b-s3", "PAYMENTS_WEBHOOK_SECRET": "wh-s3",
            "PAYMENT_PAGE_SECRET": "pp-s3", "HANDOFF_API_TOKEN": "h-s3", "DOCUMENTS_LINK_SECRET": "dl-s3"}
    for value in (None, "CHANGE_ME-email-reply-secret", ""):
        with pytest.raises(ValidationError, match="EMAIL_REPLY_SECRET"):
            Settings(**real, **({} if value is None else {"EMAIL_REPLY_SECRET": value}))
    assert Settings(**real, EMAIL_REPLY_SECRET="s3").email_reply_secret.get_secret_value() == "s3"


def test_a_document_is_attached_as_it_was_when_asked_for(client, demo: Session) -> None:
    body = {"template": "bot_reply", "customer_id": ALICE,
            "context": {"body_text": "Here is your latest bill."}, "attachments": [{"kind": "invoice_pdf"}]}
    answer = _post(client, body, key="with-invoice-01")
    assert answer.status_code == 202, answer.text
    row = _row(demo, answer.json()["id"])
    assert row.attachments is not None and len(row.attachments) == 1
    message = build_message(row, settings=Settings(APP_ENV="development"))
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert (pdf.get_filename() or "").endswith(".pdf")
    assert pdf.get_payload(decode=True).startswith(b"%PDF")
    assert message.get_body(("plain",)).get_content().count("Here is your latest bill.") == 1
