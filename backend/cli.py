"""Command line: python -m backend.cli migrate | seed-demo [--reset] | seed-bulk --customers N --seed 42."""
import argparse
import sys
import time
from datetime import UTC, date, datetime

from backend.config import get_settings, normalize_database_url
from backend.database import make_engine


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.cli", description="Billing backend administration")
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
    args = parser.parse_args(argv)

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
                    created = seed_demo(session, today=args.today or datetime.now(UTC).date(), reset=args.reset)
                except SeedError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
            if created:
                print("seeded the 8 demo customers (see docs/demo-data.md)")
            else:
                print("demo customers already present (seed-demo --reset refreshes them to today's dates)")
        elif args.command == "seed-bulk":
            from backend.seed.bulk import seed_bulk

            started = time.perf_counter()
            result = seed_bulk(engine=engine, customers=args.customers, seed=args.seed, batch_size=args.batch,
                               progress=lambda text: print(text, flush=True))
            print(f"seeded {result.customers} customers, {result.invoices} invoices, {result.line_items} line items, "
                  f"{result.payments} payments in {time.perf_counter() - started:.1f}s")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
