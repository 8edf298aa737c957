"""The reminder email's pay link (issue 19: "a past-due notice ... with the amount and a pay link";
backend/reminders/pay_links.py): long-lived and signed per customer and reminder; each opening makes a fresh
secure payment page for what is owed then and redirects to it; forged, expired and nothing-owed links are
answered with a page. The real app and the demo seed (SQLite and PostgreSQL)."""

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.models import AuditLog
from backend.billing.models import Invoice
from backend.config import Settings
from backend.customers.models import Account
from backend.disputes.models import Credit
from backend.mail.models import MailMessage
from backend.reminders import pay_links
from backend.reminders.models import Reminder, ReminderKind
from backend.reminders.service import send_reminders
from tests.backend.conftest import TODAY

FARID, GRACE = 6, 7
BASE = "http://127.0.0.1:8000"  # PAYMENT_PAGE_BASE_URL's default: the app under test
SETTINGS = Settings(APP_ENV="development")
PUBLIC = {"Authorization": ""}  # the customer's browser: no service token


def test_the_past_due_notice_opens_a_fresh_payment_page_for_the_amount_due(client, demo: Session) -> None:
    send_reminders(demo, day=TODAY, settings=SETTINGS)
    reminder = demo.scalar(select(Reminder).where(Reminder.customer_id == FARID,
                                                  Reminder.kind == ReminderKind.past_due))
    assert reminder is not None
    mail = demo.get(MailMessage, reminder.mail_id)
    assert mail is not None
    match = re.search(r"Pay now: (\S+)", mail.body_text)
    assert match is not None and match.group(1).startswith(f"{BASE}/reminders/pay/")
    url = match.group(1)
    assert f'href="{url}"' in mail.body_html
    # the same link whenever the job signs it for that day (a second run queues the same email)
    assert url == pay_links.pay_url(SETTINGS, customer_id=FARID, subject=reminder.subject,
                                    kind=ReminderKind.past_due, day=TODAY)

    pages = []
    for _ in range(2):
        opened = client.get(url.removeprefix(BASE), headers=PUBLIC, follow_redirects=False)
        assert opened.status_code == 303, opened.text
        assert opened.headers["cache-control"] == "no-store"
        assert opened.headers["referrer-policy"] == "no-referrer"
        location = opened.headers["location"]
        assert re.fullmatch(rf"{BASE}/pay/[A-Za-z0-9_.-]+", location)
        pages.append(location)
    assert pages[0] != pages[1]  # a fresh secure page each time (each lives 15 minutes, once)
    page = client.get(pages[1].removeprefix(BASE), headers=PUBLIC)
    assert page.status_code == 200
    assert '<strong id="past-due">$75.00</strong>' in page.text
    assert re.search(r'value="past_due"\s+checked', page.text)  # the amount due is offered first
    made = demo.scalars(select(AuditLog).where(AuditLog.action == "write.payment_page_link",
                                               AuditLog.customer_id == FARID)).all()
    assert [entry.actor for entry in made] == ["system:reminder-link"] * 2


def test_forged_expired_and_nothing_owed_links_are_answered_with_a_page(client, demo: Session) -> None:
    def opened(url: str) -> tuple[int, str]:
        answer = client.get(url.removeprefix(BASE), headers=PUBLIC, follow_redirects=False)
        code = re.search(r'data-code="([a-z_]+)"', answer.text)
        return answer.status_code, code.group(1) if code else ""

    url = pay_links.pay_url(SETTINGS, customer_id=FARID, subject="invoice:INV-2026-000605",
                            kind=ReminderKind.past_due, day=TODAY)
    payload, signature = url.rsplit("/", 1)[1].split(".")
    edited = url.replace(payload, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"))
    assert opened(edited) == (404, "link_invalid")
    assert opened(f"{BASE}/reminders/pay/{payload}.{signature[::-1]}") == (404, "link_invalid")
    other_secret = Settings(APP_ENV="development", PAYMENT_PAGE_SECRET="another-secret-of-enough-length")
    forged = pay_links.pay_url(other_secret, customer_id=FARID, subject="s", kind=ReminderKind.past_due,
                               day=TODAY)
    assert opened(forged) == (404, "link_invalid")
    assert opened(f"{BASE}/reminders/pay/not-a-token") == (404, "link_invalid")
    long_ago = TODAY - timedelta(days=SETTINGS.reminder_link_days + 1)
    old = pay_links.pay_url(SETTINGS, customer_id=FARID, subject="invoice:INV-2026-000605",
                            kind=ReminderKind.past_due, day=long_ago)
    assert opened(old) == (410, "link_expired")
    unknown = pay_links.pay_url(SETTINGS, customer_id=999_999, subject="s", kind=ReminderKind.past_due,
                                day=TODAY)
    assert opened(unknown) == (404, "link_invalid")

    # Grace settles everything (a credit on each invoice that owes) after the reminder went out.
    account = demo.scalar(select(Account).where(Account.customer_id == GRACE))
    assert account is not None
    for number, invoice in enumerate(client.get(f"/api/v1/customers/{GRACE}/invoices").json()):
        if Decimal(invoice["amount_due"]) > 0:
            invoice_id = demo.scalar(select(Invoice.id).where(Invoice.number == invoice["number"]))
            demo.add(Credit(account_id=account.id, invoice_id=invoice_id,
                            amount=Decimal(invoice["amount_due"]), reason="settled",
                            issued_by="specialist:dana", idempotency_key=f"paid-up-{number}",
                            request_fingerprint="-"))
    demo.flush()
    assert client.get(f"/api/v1/customers/{GRACE}/balance").json()["total_due"] == "0.00"
    paid = pay_links.pay_url(SETTINGS, customer_id=GRACE, subject="s", kind=ReminderKind.due_soon, day=TODAY)
    assert opened(paid) == (200, "nothing_to_pay")
    assert not demo.scalars(select(AuditLog).where(AuditLog.action == "write.payment_page_link")).all()


def test_without_a_usable_secret_the_mail_points_to_the_chat() -> None:
    # The backend refuses to start like this (backend/config.py); the pay link still never signs with a
    # known secret if a caller builds such settings.
    production = SETTINGS.model_copy(update={"app_env": "production"})
    assert pay_links.pay_url(production, customer_id=FARID, subject="s", kind=ReminderKind.past_due,
                             day=TODAY) == production.reminder_pay_url
