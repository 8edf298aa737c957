"""Benchmark of the billing backend: bulk seed time and p50/p95 latency of the hot read endpoints.

    .venv/bin/python bench/backend_bench.py --customers 100000            # both databases
    .venv/bin/python bench/backend_bench.py --customers 20000 --databases sqlite

For each database: a fresh database (SQLite file var/bench/backend_bench.db; PostgreSQL database
billing_bench created from the `test` database), Alembic migrations, the demo seed, the bulk seed (timed),
EXPLAIN of the queries behind the endpoints, then a real uvicorn process on a free port driven over HTTP
with keep-alive: balance, invoice detail and explain-charge for random bulk customers. Prints a table and
writes it to bench/results/backend.md. Not a test: nothing here asserts timings.
"""
import argparse
import os
import platform
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend.billing.models import Invoice, LineItem, PolicyRule  # noqa: E402 - after the sys.path line
from backend.customers.models import Account  # noqa: E402 - after the sys.path line
from backend.database import make_engine  # noqa: E402 - after the sys.path line
from backend.disputes.models import Credit  # noqa: E402 - after the sys.path line
from backend.migrations_api import upgrade  # noqa: E402 - after the sys.path line
from backend.payments.models import Payment  # noqa: E402 - after the sys.path line
from backend.seed.bulk import seed_bulk  # noqa: E402 - after the sys.path line
from backend.seed.demo import seed_demo  # noqa: E402 - after the sys.path line

TOKEN = "bench-backend-token"
POSTGRES_ADMIN_URL = os.environ.get("BACKEND_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        path = REPO_ROOT / "var" / "bench" / "backend_bench.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(make_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "billing_bench" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "billing_bench"'))
    admin.dispose()
    return make_url(POSTGRES_ADMIN_URL).set(database="billing_bench").render_as_string(hide_password=False)


def hot_queries(
    *, customer_id: int, account_id: int, invoice_id: int, line_item_id: int
) -> dict[str, object]:
    """The statements the three endpoints run (see backend/billing/service.py and ledger.py)."""
    return {
        "account by customer": select(Account).where(Account.customer_id == customer_id),
        "invoices of account": select(Invoice)
        .where(Invoice.account_id == account_id)
        .order_by(Invoice.issue_date),
        "payments of account": select(
            Payment.id, Payment.invoice_id, Payment.amount, Payment.status, Payment.received_date,
            Payment.method,
        ).where(Payment.account_id == account_id),
        "credits by invoice": select(Credit.invoice_id, func.sum(Credit.amount))
        .where(Credit.account_id == account_id)
        .group_by(Credit.invoice_id),
        "line items of invoice": select(LineItem)
        .where(LineItem.invoice_id.in_([invoice_id]))
        .order_by(LineItem.position),
        "line item of customer (explain)": select(LineItem, Invoice, Account, PolicyRule)
        .join(Invoice, LineItem.invoice_id == Invoice.id)
        .join(Account, Invoice.account_id == Account.id)
        .outerjoin(PolicyRule, PolicyRule.code == LineItem.policy_rule)
        .where(LineItem.id == line_item_id, Account.customer_id == customer_id),
    }


def explain(engine: Engine, queries: dict[str, object]) -> list[str]:
    out = []
    with engine.connect() as connection:
        for name, query in queries.items():
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            rows = connection.exec_driver_sql(prefix + sql).all()
            plan = [row[-1] for row in rows] if engine.dialect.name == "sqlite" else [row[0] for row in rows]
            out.append(f"-- {name}\n" + "\n".join(f"   {line}" for line in plan))
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run_database(kind: str, *, customers: int, seed: int, requests: int) -> dict[str, object]:
    url = fresh_database(kind)
    engine = make_engine(url)
    upgrade(engine=engine)
    with Session(engine) as session:
        seed_demo(session, today=datetime.now(UTC).date())
    print(f"[{kind}] seeding {customers:,} customers (seed {seed})", flush=True)
    started = time.perf_counter()
    result = seed_bulk(engine=engine, customers=customers, seed=seed, batch_size=2000,
                       progress=lambda line: print(f"[{kind}] {line}", flush=True))
    seed_seconds = time.perf_counter() - started

    rng = random.Random(seed)
    with engine.connect() as connection:
        bulk_ids = [rng.randrange(9, 9 + customers) for _ in range(requests)]
        samples = []
        for customer_id in bulk_ids:
            row = connection.execute(
                select(Account.id, Invoice.id, Invoice.number).join(Invoice, Invoice.account_id == Account.id)
                .where(Account.customer_id == customer_id).order_by(Invoice.issue_date.desc()).limit(1)
            ).one()
            line_id = connection.scalar(select(LineItem.id).where(LineItem.invoice_id == row[1]).limit(1))
            samples.append((customer_id, row[0], row[1], row[2], line_id))
    customer_id, account_id, invoice_id, _, line_id = samples[0]
    plans = explain(engine, hot_queries(customer_id=customer_id, account_id=account_id, invoice_id=invoice_id,
                                        line_item_id=line_id))
    engine.dispose()
    print(f"[{kind}] query plans:\n" + "\n".join(plans), flush=True)

    port = free_port()
    env = {**os.environ, "BACKEND_DATABASE_URL": url, "BACKEND_API_TOKEN": TOKEN, "APP_ENV": "development"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "backend.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"], cwd=REPO_ROOT, env=env,
    )
    latencies: dict[str, list[float]] = {"balance": [], "invoice detail": [], "explain charge": []}
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
            for _ in range(100):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            paths = {
                "balance": lambda s: f"/api/v1/customers/{s[0]}/balance",
                "invoice detail": lambda s: f"/api/v1/customers/{s[0]}/invoices/{s[3]}",
                "explain charge": lambda s: f"/api/v1/customers/{s[0]}/line-items/{s[4]}/explanation",
            }
            for name, path in paths.items():
                for sample in samples[:50]:  # warm-up
                    client.get(path(sample)).raise_for_status()
                for sample in samples:
                    begin = time.perf_counter()
                    response = client.get(path(sample))
                    latencies[name].append((time.perf_counter() - begin) * 1000)
                    response.raise_for_status()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "kind": kind, "seed_seconds": seed_seconds, "result": result, "latencies": latencies, "plans": plans,
    }


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "n/a"
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kb / 1024 / 1024:.0f} GiB RAM; {platform.platform()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; {pg} (server 15, TCP on "
        f"127.0.0.1); load average during the run {os.getloadavg()[0]:.1f} (other engineers' jobs share the "
        "machine)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--requests", type=int, default=1000, help="Timed requests per endpoint")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--output", default=str(REPO_ROOT / "bench" / "results" / "backend.md"))
    args = parser.parse_args()

    runs = [run_database(kind, customers=args.customers, seed=args.seed, requests=args.requests)
            for kind in args.databases.split(",")]
    header = (
        "| database | customers | invoices | line items | seed time | endpoint | p50 ms | p95 ms | p99 ms "
        "| mean ms |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for run in runs:
        result = run["result"]
        for name, values in run["latencies"].items():
            lines.append(
                f"| {run['kind']} | {result.customers:,} | {result.invoices:,} | {result.line_items:,} | "
                f"{run['seed_seconds']:.0f} s | {name} | {statistics.median(values):.2f} | "
                f"{percentile(values, 0.95):.2f} | {percentile(values, 0.99):.2f} | "
                f"{statistics.fmean(values):.2f} |"
            )
    table = "\n".join(lines)
    print("\n" + table)
    report = [
        "# Backend benchmark",
        "",
        f"Run: `.venv/bin/python bench/backend_bench.py --customers {args.customers} --requests "
        f"{args.requests} --databases {args.databases}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Machine: {machine()}.",
        "",
        "Latency is measured by a client on the same machine over real HTTP (uvicorn, 1 worker, keep-alive), "
        f"{args.requests} requests per endpoint for random bulk customers after 50 warm-up requests; "
        "seed time is the bulk generator only (12 monthly invoices per customer). Target: p95 < 10 ms.",
        "",
        table,
        "",
    ]
    for run in runs:
        report += [f"## Query plans ({run['kind']})", "", "```", *run["plans"], "```", ""]
    Path(args.output).write_text("\n".join(report))
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
