"""The backend's own event emails (issue 19; backend/mail/events.py): a payment received, a dispute settled, a
credit issued outside a dispute each queue one email to the address on file, once, with only what the
customer's account shows (never the staff note or a credit's internal reason). SQLite and PostgreSQL."""

import base64
import io
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import service as audit
from backend.config import Settings
from backend.customers.models import Account
from backend.enums import PaymentStatus
from backend.mail.events import queue_event_mail
from backend.mail.models import MailMessage
from backend.payments.models import Payment
from tests.backend.conftest import NOW, STAFF

DAVID = 4  # david.kim@example.com; his installation fee was billed twice (docs/demo-data.md)


def _fee(client) -> dict:
    items = client.get(f"/api/v1/customers/{DAVID}/line-items", params={"name": "installation"}).json()
    return items[0]


def test_each_event_queues_one_email_with_only_the_customers_own_figures(client, demo: Session) -> None:
    settings = Settings(APP_ENV="development")
    fee = _fee(client)
    dispute = client.post(
        f"/api/v1/customers/{DAVID}/disputes", json={"line_item_id": fee["id"], "reason": "Billed twice"}
    ).json()
    settled = client.post(
        f"/api/v1/disputes/{dispute['id']}/settle",
        json={"decision": "accepted", "note": "INTERNAL: duplicate order 5521"},
        headers={**STAFF, "Idempotency-Key": "settle-mail-0001"},
    )
    assert settled.status_code == 200, settled.text
    goodwill = client.post(
        f"/api/v1/customers/{DAVID}/credits",
        json={
            "amount": "5.00",
            "reason": "code: goodwill (SECRET-NOTE)",
            "invoice_number": fee["invoice_number"],
        },
        headers={**STAFF, "Idempotency-Key": "credit-mail-0001"},
    )
    assert goodwill.status_code == 201, goodwill.text
    account = demo.scalars(select(Account).where(Account.customer_id == DAVID)).one()
    for number, (amount, status) in enumerate(
        [("20.00", PaymentStatus.posted), ("30.00", PaymentStatus.pending)]
    ):
        payment = Payment(
            account_id=account.id,
            amount=Decimal(amount),
            method="online: Visa ending 4242",
            received_date=NOW.date(),
            status=status,
            source="bot",
            idempotency_key=f"pay-mail-{number}",
        )
        demo.add(payment)
        demo.flush()
        audit.record(
            demo, actor=None, action="write.payment", resource=f"payment:{payment.id}", customer_id=DAVID
        )
    demo.commit()  # the pending one is not received yet: no receipt

    assert queue_event_mail(demo, settings=settings, now=NOW) == {
        "credit_issued": 1,
        "dispute_outcome": 1,
        "payment_receipt": 1,
    }
    assert queue_event_mail(demo, settings=settings, now=NOW) == {}  # once per event
    queued = demo.scalars(select(MailMessage).where(MailMessage.customer_id == DAVID))
    rows = {row.template: row for row in queued}
    assert set(rows) == {"credit_issued", "dispute_outcome", "payment_receipt"}
    total_due = client.get(f"/api/v1/customers/{DAVID}/balance").json()["total_due"]
    for row in rows.values():
        assert row.to_address == "david.kim@example.com" and row.status == "queued"
        assert row.headers == {"Auto-Submitted": "auto-generated"}
        assert "Hello David," in row.body_text
        balance = f"${Decimal(total_due):,.2f}"
        assert (
            f"Balance now: {balance}" in row.body_text
            or f"Balance after this payment: {balance}" in row.body_text
        )
        for secret in ("INTERNAL", "5521", "SECRET-NOTE", "goodwill"):
            assert secret not in row.body_text and secret not in row.body_html
    assert rows["payment_receipt"].subject == "Payment received: $20.00"
    assert (
        "($20.00" not in rows["payment_receipt"].body_text
        and "(Visa ending 4242)" in rows["payment_receipt"].body_text
    )
    assert "accepted it. A credit of $" in rows["dispute_outcome"].body_text
    assert f'"{fee["description"]}"' in rows["dispute_outcome"].body_text
    assert rows["credit_issued"].subject == "A credit of $5.00 was applied to your account"
    assert fee["invoice_number"] in rows["credit_issued"].body_text
    # every credit announced carries its credit memo (issue 18: the account check's fix; issue 19: documents)
    assert rows["payment_receipt"].attachments is None
    for template, amount in (("dispute_outcome", fee["amount"]), ("credit_issued", "5.00")):
        [memo] = rows[template].attachments
        assert memo["content_type"] == "application/pdf" and memo["filename"].endswith(".pdf")
        pdf = PdfReader(io.BytesIO(base64.b64decode(memo["data"])))
        text = "\n".join(page.extract_text() for page in pdf.pages)
        assert f"${Decimal(amount):,.2f}" in text, text
