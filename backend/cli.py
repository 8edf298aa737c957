"""Command line: python -m backend.cli migrate | seed-demo [--reset] | seed-bulk --customers N --seed 42."""
import argparse
import sys
import time
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from backend.config import get_settings, normalize_database_url
from backend.database import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.cli", description="Billing backend administration"
    )
    parser.add_argument("--database-url", help="Overrides BACKEND_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="Apply Alembic migrations up to head")
    demo = commands.add_parser("seed-demo", help="Create the 8 demo customers (ids 1-8)")
    demo.add_argument("--reset", action="store_true", help="Delete all customers and billing data first")
    demo.add_argument("--today", type=date.fromisoformat, help="Anchor date (default: today, UTC)")
    bulk = commands.add_parser("seed-bulk", help="Add N generated customers with 12 months of invoices each")
    bulk.add_argument("--customers", type=int, required=True)
    bulk.add_argument("--seed", type=int, default=42)
    bulk.add_argument("--batch", type=int, default=2000, help="Customers per insert batch")
    jobs = commands.add_parser("run-billing-jobs", help="Autopay, retries, arrangements, late fees")
    jobs.add_argument("--date", type=date.fromisoformat, help="The day (default: today, UTC)")
    mail = commands.add_parser("send-mail", help="Send queued email (a loop; --once: what is due now)")
    mail.add_argument("--once", action="store_true", help="Send what is due now, print the counts, exit")
    mail.add_argument("--interval", type=float, default=5.0, help="Seconds between rounds of the loop")
    webhook = commands.add_parser("simulate-webhook", help="Send a signed simulated processor event")
    webhook.add_argument("--event", required=True, choices=["payment.succeeded", "payment.failed"])
    webhook.add_argument("--reference", required=True, help="The charge reference (simch_...)")
    webhook.add_argument("--decline-reason", default=None)
    webhook.add_argument("--url", default="http://127.0.0.1:8000", help="The backend's base URL")
    args = parser.parse_args(argv)
    if args.command == "simulate-webhook":
        return _simulate_webhook(args)

    url = normalize_database_url(args.database_url) if args.database_url else get_settings().database_url
    engine = make_engine(url)
    try:
        if args.command == "migrate":
            from backend.migrations_api import upgrade

            upgrade(engine=engine)
            print(f"migrated {engine.url.render_as_string(hide_password=True)} to head")
        elif args.command == "seed-demo":
            from sqlalchemy.orm import Session

            from backend.seed.demo import SeedError, seed_demo

            with Session(engine) as session:
                try:
                    created = seed_demo(
                        session, today=args.today or datetime.now(UTC).date(), reset=args.reset
                    )
                except SeedError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                # The account check's demo customers (ids 9-14), also into a database seeded before them.
                from backend.seed.account_check_demo import seed_account_check_demo

                if seed_account_check_demo(session, today=args.today or datetime.now(UTC).date()).created:
                    print("seeded the account-check demo customers 9-14 (see docs/demo-data.md)")
            if created:
                print("seeded the 8 demo customers (see docs/demo-data.md)")
            else:
                print("demo customers already present (seed-demo --reset refreshes them to today's dates)")
        elif args.command == "seed-bulk":
            from backend.seed.bulk import seed_bulk

            started = time.perf_counter()
            result = seed_bulk(engine=engine, customers=args.customers, seed=args.seed, batch_size=args.batch,
                               progress=lambda text: print(text, flush=True))
            print(
                f"seeded {result.customers} customers, {result.invoices} invoices, {result.line_items} line "
                f"items, {result.payments} payments in {time.perf_counter() - started:.1f}s"
            )
        elif args.command == "run-billing-jobs":
            import json

            from sqlalchemy.orm import Session

            from backend.payments.jobs import run_billing_jobs
            from backend.payments.processor import make_processor

            settings = get_settings()
            day = args.date or datetime.now(UTC).date()
            with Session(engine, expire_on_commit=False) as session:
                processor = make_processor(settings)
                report = run_billing_jobs(session, day=day, processor=processor, settings=settings)
            print(json.dumps({"date": day.isoformat(), **report.counts}, sort_keys=True))
        elif args.command == "send-mail":
            return _send_mail(engine, once=args.once, interval=args.interval)
    finally:
        engine.dispose()
    return 0


def _send_mail(engine: Engine, *, once: bool, interval: float) -> int:
    """The outbox's send loop (docs/contracts.md, "Email"): SIGTERM/Ctrl-C stop it between two messages."""
    import json
    import logging
    import signal
    import threading

    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from backend.base import utcnow
    from backend.mail.events import queue_event_mail
    from backend.mail.sender import send_due

    def queue_events() -> None:  # receipts, dispute outcomes, credits (backend/mail/events.py)
        with factory() as session:
            queue_event_mail(session, settings=settings, now=utcnow())

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    factory = sessionmaker(engine, expire_on_commit=False)
    if once:
        queue_events()
        print(json.dumps(send_due(factory, settings=settings).counts, sort_keys=True))
        return 0
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    logging.getLogger("backend.mail").info(
        "send loop: relay %s:%d, every %.0fs", settings.mail_smtp_host, settings.mail_smtp_port, interval
    )
    while not stop.is_set():
        try:
            queue_events()
            send_due(factory, settings=settings, should_stop=stop.is_set)
        except OperationalError as exc:
            logging.getLogger("backend.mail").warning("send loop: database unavailable (%s)", exc.orig)
        stop.wait(interval)
    return 0


def _simulate_webhook(args: argparse.Namespace) -> int:
    """Posts what the simulated processor would send (e.g. to finish a 3-D Secure style pending charge)."""
    import urllib.request

    from backend.payments.processor import DeclineReason, WebhookEventType
    from backend.payments.simulated_processor import SimulatedProcessor

    settings = get_settings()
    processor = SimulatedProcessor(webhook_secret=settings.payments_webhook_secret.get_secret_value())
    body, headers = processor.event_payload(
        event_type=WebhookEventType(args.event), reference=args.reference,
        decline_reason=DeclineReason(args.decline_reason) if args.decline_reason else None,
    )
    request = urllib.request.Request(f"{args.url}/api/v1/processor/webhooks", data=body, headers=headers,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.read().decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
