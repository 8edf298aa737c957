"""Payment reminders (issue 19, "Outreach on time"; backend/reminders): each kind is found on the right day,
queued through the mail outbox once per (customer, subject, kind) however often the billing job runs for a
day, recorded on the account (GET .../reminders) and in the audit log, suppressed when the customer turned
reminders off. SQLite and PostgreSQL (the demo seed, anchored on TODAY)."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.arrangements.models import Arrangement
from backend.audit.models import AuditLog
from backend.config import Settings
from backend.customers.models import Account
from backend.mail.models import MailMessage, MailStatus
from backend.mail.service import set_reminders
from backend.payments.jobs import run_billing_jobs
from backend.payments.simulated_processor import SimulatedProcessor
from backend.reminders.models import Reminder
from backend.reminders.service import send_reminders
from tests.backend.conftest import NOW, TODAY

ALICE, BEN, ELENA, FARID, GRACE = 1, 2, 5, 6, 7
SETTINGS = Settings(APP_ENV="development", REMINDER_DAYS_BEFORE_DUE=3)


def _reminders(session: Session, customer_id: int) -> dict[str, Reminder]:
    rows = session.scalars(select(Reminder).where(Reminder.customer_id == customer_id))
    return {f"{row.kind}:{row.subject}": row for row in rows}


def _mail_count(session: Session, customer_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(MailMessage).where(
            MailMessage.customer_id == customer_id, MailMessage.template == "payment_reminder"
        )
    ) or 0


def test_the_billing_job_twice_for_a_day_sends_each_reminder_once(demo: Session) -> None:
    processor = SimulatedProcessor(webhook_secret="test-webhook-secret")
    first = run_billing_jobs(demo, day=TODAY, processor=processor, settings=SETTINGS)
    # Farid (docs/demo-data.md): autopay of ...605 failed on D-15 (card expired), $75.00 past due since then,
    # and the expired card is still the one on file for the next due date D+15.
    assert first.counts["reminder_past_due"] >= 1
    assert first.counts["reminder_autopay_failed"] == 1 and first.counts["reminder_card_expiring"] == 1
    farid = _reminders(demo, FARID)
    assert sorted(row.kind for row in farid.values()) == ["autopay_failed", "card_expiring", "past_due"]
    past_due = farid["past_due:invoice:INV-2026-000605"]
    assert past_due.amount == Decimal("75.00") and past_due.due_date == TODAY - timedelta(days=15)
    mail = demo.get(MailMessage, past_due.mail_id)
    assert mail is not None and mail.to_address == "farid.haddad@example.com"
    assert "$75.00 (invoice INV-2026-000605) is past due since February 23, 2026." in mail.body_text
    assert "List-Unsubscribe" in mail.headers
    assert "Pay now: http://127.0.0.1:8000/reminders/pay/" in mail.body_text  # the signed pay link
    assert _mail_count(demo, FARID) == 3

    second = run_billing_jobs(demo, day=TODAY, processor=processor, settings=SETTINGS)
    assert not [what for what in second.counts if what.startswith("reminder_")], second.counts
    send_reminders(demo, day=TODAY + timedelta(days=1), settings=SETTINGS)
    assert _mail_count(demo, FARID) == 3  # once per customer, subject and kind, whatever the day
    audited = demo.scalar(
        select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "write.reminder", AuditLog.customer_id == FARID
        )
    )
    assert audited == 3


def test_due_soon_only_without_autopay_and_not_when_a_pending_payment_covers_it(demo: Session) -> None:
    due_in_three = TODAY + timedelta(days=12)  # the latest invoices are due on TODAY + 15
    assert send_reminders(demo, day=due_in_three - timedelta(days=1), settings=SETTINGS).get(
        "reminder_due_soon") is None
    counts = send_reminders(demo, day=due_in_three, settings=SETTINGS)
    assert counts["reminder_due_soon"] >= 1
    alice = _reminders(demo, ALICE)
    assert set(alice) == {"due_soon:invoice:INV-2026-000106"}
    assert alice["due_soon:invoice:INV-2026-000106"].amount == Decimal("85.00")
    assert not [k for k in _reminders(demo, BEN) if k.startswith("due_soon")]  # autopay on
    assert not [k for k in _reminders(demo, GRACE) if k.startswith("due_soon")]
    assert not _reminders(demo, ELENA)  # her $60.00 payment is pending
    assert send_reminders(demo, day=due_in_three + timedelta(days=1), settings=SETTINGS).get(
        "reminder_due_soon") is None  # already sent for those invoices


def test_a_promise_is_reminded_the_day_before(demo: Session) -> None:
    account = demo.scalars(select(Account).where(Account.customer_id == ALICE)).one()
    promise = Arrangement(account_id=account.id, kind="promise_to_pay", status="active",
                          amount=Decimal("85.00"), pay_by=TODAY + timedelta(days=3),
                          covers_due_through=TODAY + timedelta(days=15),
                          created_by="bot:test", created_on=TODAY)
    demo.add(promise)
    demo.commit()
    assert "reminder_promise_due" not in send_reminders(demo, day=TODAY + timedelta(1), settings=SETTINGS)
    counts = send_reminders(demo, day=TODAY + timedelta(days=2), settings=SETTINGS)
    assert counts["reminder_promise_due"] == 1
    reminder = _reminders(demo, ALICE)[f"promise_due:arrangement:{promise.id}"]
    mail = demo.get(MailMessage, reminder.mail_id)
    assert mail is not None and "As agreed, a payment of $85.00 is due on March 13, 2026." in mail.body_text
    assert "reminder_promise_due" not in send_reminders(demo, day=TODAY + timedelta(3), settings=SETTINGS)


def test_opted_out_customer_gets_no_email_but_the_reminder_is_recorded(demo: Session) -> None:
    set_reminders(demo, customer_id=FARID, enabled=False, now=NOW)
    send_reminders(demo, day=TODAY, settings=SETTINGS)
    mails = [demo.get(MailMessage, row.mail_id) for row in _reminders(demo, FARID).values()]
    assert len(mails) == 3
    statuses = {mail.status for mail in mails if mail is not None}
    assert statuses == {MailStatus.suppressed}


def test_the_account_lists_its_reminders_and_the_chat_marks_them_seen(client, demo: Session) -> None:
    send_reminders(demo, day=TODAY, settings=SETTINGS)
    listed = client.get(f"/api/v1/customers/{FARID}/reminders")
    assert listed.status_code == 200, listed.text
    assert [item["kind"] for item in listed.json()] == ["past_due", "autopay_failed", "card_expiring"]
    by_kind = {item["kind"]: item for item in listed.json()}
    assert set(by_kind) == {"past_due", "autopay_failed", "card_expiring"}
    past_due = by_kind["past_due"]
    assert past_due["headline"] == "You have $75.00 past due since February 23"
    assert past_due["amount"] == "75.00" and past_due["mail_status"] == "queued"
    assert past_due["seen_at"] is None
    seen = client.post(f"/api/v1/customers/{FARID}/reminders/{past_due['id']}/seen")
    assert seen.status_code == 200 and seen.json()["seen_at"] is not None
    again = client.post(f"/api/v1/customers/{FARID}/reminders/{past_due['id']}/seen")
    assert again.json()["seen_at"] == seen.json()["seen_at"]  # the first time is kept
    unseen = client.get(f"/api/v1/customers/{FARID}/reminders", params={"unseen": "true"}).json()
    assert past_due["id"] not in [item["id"] for item in unseen] and len(unseen) == 2
    assert client.post(f"/api/v1/customers/{ALICE}/reminders/{past_due['id']}/seen").status_code == 404
    assert client.get("/api/v1/customers/999999/reminders").status_code == 404
    assert client.get(f"/api/v1/customers/{ALICE}/reminders").json() == []
    reads = lambda: demo.scalar(select(func.count()).select_from(AuditLog).where(  # noqa: E731
        AuditLog.action == "read", AuditLog.resource == "reminders", AuditLog.customer_id == FARID))
    assert reads() == 0  # the chat's own reads (system:widget) and unnamed ones are not audited
    client.get(f"/api/v1/customers/{FARID}/reminders", headers={"X-Actor": "system:widget"})
    assert reads() == 0
    client.get(f"/api/v1/customers/{FARID}/reminders", headers={"X-Actor": "specialist:dana"})
    assert reads() == 1
