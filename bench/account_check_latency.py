"""Latency of the account check on the bulk seed: what `GET /findings` adds after verification.

    .venv/bin/python bench/account_check_latency.py --customers 100000 --requests 1000
    .venv/bin/python bench/account_check_latency.py --reuse            # the database of the last run

A fresh SQLite database (var/bench/account_check.db) or PostgreSQL database
(billing_account_check_bench, created from the `test` database), Alembic migrations, the demo seed and the
bulk seed (12 monthly invoices per customer), then the service behind the route
(`backend.account_check.service.list_findings`, a new session per call, as a request has) for random bulk
customers, after warm-up calls. Prints p50/p95/p99 and appends the table to bench/results/account_check.md.
Not a test: nothing here asserts timings.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend.account_check.service import list_findings  # noqa: E402 - after the repo root is on sys.path
from backend.config import Settings  # noqa: E402 - after the repo root is on sys.path
from backend.customers.models import Customer  # noqa: E402 - after the repo root is on sys.path
from backend.database import make_engine  # noqa: E402 - after the repo root is on sys.path
from backend.migrations_api import upgrade  # noqa: E402 - after the repo root is on sys.path
from backend.seed.bulk import BULK_TODAY, seed_bulk  # noqa: E402 - after the repo root is on sys.path
from backend.seed.demo import seed_demo  # noqa: E402 - after the repo root is on sys.path

POSTGRES_ADMIN_URL = os.environ.get(
    "BACKEND_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESULTS = REPO_ROOT / "bench" / "results" / "account_check.md"


def database_url(kind: str, *, fresh: bool) -> str:
    if kind == "sqlite":
        path = REPO_ROOT / "var" / "bench" / "account_check.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    name = "billing_account_check_bench"
    if fresh:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="measure the database of the last run again")
    args = parser.parse_args()

    url = database_url(args.database, fresh=not args.reuse)
    engine = make_engine(url)
    seed_seconds = None
    if not args.reuse:
        upgrade(engine=engine)
        with Session(engine) as session:
            seed_demo(session, today=BULK_TODAY)
        started = time.perf_counter()
        seed_bulk(
            engine=engine, customers=args.customers, seed=42, progress=lambda line: print(line, flush=True)
        )
        seed_seconds = time.perf_counter() - started
    with Session(engine) as session:
        customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    bulk_ids = list(range(9, customers + 1))
    rng = random.Random(18)
    settings = Settings()
    now = datetime.combine(BULK_TODAY, datetime.min.time(), tzinfo=UTC)
    kinds: Counter[str] = Counter()

    def check(customer_id: int) -> float:
        started = time.perf_counter()
        with Session(engine) as session:
            result = list_findings(
                session, customer_id=customer_id, today=BULK_TODAY, now=now, settings=settings
            )
        elapsed = (time.perf_counter() - started) * 1000
        kinds.update(finding.kind for finding in result.findings)
        return elapsed

    for _ in range(50):
        check(rng.choice(bulk_ids))
    kinds.clear()
    timings = [check(rng.choice(bulk_ids)) for _ in range(args.requests)]
    load = os.getloadavg()[0]
    engine.dispose()

    row = (
        f"| {args.database} | {customers - 8:,} | {args.requests} | {percentile(timings, 0.5):.2f} | "
        f"{percentile(timings, 0.95):.2f} | {percentile(timings, 0.99):.2f} | "
        f"{statistics.mean(timings):.2f} | "
        f"{load:.1f} | {', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'} |"
    )
    header = (
        "| database | bulk customers | checks | p50 ms | p95 ms | p99 ms | mean ms | load avg "
        "| findings seen |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    print(header)
    print(row)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    seeded = f"; bulk seed {seed_seconds:.0f} s" if seed_seconds is not None else " (database reused)"
    with RESULTS.open("a") as out:
        out.write(
            f"\n### Latency, {stamp}\n\n`.venv/bin/python bench/account_check_latency.py --customers "
            f"{args.customers} --requests {args.requests} --database {args.database}`{seeded}; "
            f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores.\n\n"
            f"{header}\n{row}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
