"""Payment reminders under concurrency on PostgreSQL (issue 19): billing jobs running at once for the same day
(two replicas of the cron, or a manual run during the loop) send each reminder once: one reminder row and one
outbox email per (customer, subject, kind), real threads, sessions and commits."""

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.database import make_engine
from backend.mail.models import MailMessage
from backend.reminders.models import Reminder
from backend.reminders.service import send_reminders
from tests.backend.conftest import TODAY, seeded_postgres_database

pytestmark = pytest.mark.postgres
RUNS = 4


@pytest.fixture
def own_postgres() -> Iterator[str]:
    with seeded_postgres_database("billing_reminders_concurrency") as url:
        yield url


def test_concurrent_runs_for_the_same_day_send_each_reminder_once(own_postgres: str) -> None:
    engine = make_engine(own_postgres)
    settings = Settings(APP_ENV="development")
    start = threading.Barrier(RUNS)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait(timeout=30)
                results.append(send_reminders(session, day=TODAY, settings=settings))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with Session(engine) as session:
        reminders = list(session.scalars(select(Reminder)))
        mails = list(session.scalars(select(MailMessage).where(MailMessage.template == "payment_reminder")))
    engine.dispose()
    assert reminders, "the demo data has reminders due on TODAY (Farid)"
    recorded = sum(sum(counts.values()) for counts in results)
    assert recorded == len(reminders)  # every run counted only what it recorded itself
    assert max(Counter((r.customer_id, r.subject, r.kind) for r in reminders).values()) == 1
    assert len(mails) == len(reminders)
    assert {mail.id for mail in mails} == {reminder.mail_id for reminder in reminders}
