"""Load generator: N simulated customers hold billing conversations through the handoff WebSocket.

Drives the real customer path (widget protocol, docs/contracts.md) against a stack it starts itself
(tests/support/stack.py, fresh SQLite databases, the demo seed) or one already running (--handoff-url),
and, with --baseline, two stock Rasa bots generated at benchmark time and driven over their REST webhook at
the same concurrency: the `rasa init` bot ("hello") and a billing bot as a team would build it with Rasa's
defaults (bench/stock_billing_bot.py: spaCy + DIET + TED + one custom action on rasa-sdk's action server,
in-memory tracker). Prints a Markdown table and appends it to --out.

    .venv/bin/python bench/load.py --conversations 20 --duration 60 --baseline \
        --out bench/results/load.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import stock_billing_bot
from tests.support.chat import ChatClient, customer_token
from tests.support.stack import RASA, Service, Stack, free_port

# One conversation = these turns, in order (a logged-in demo customer; verification comes from the JWT).
SCRIPTS: list[list[str]] = [
    ["hi there", "what's my balance", "what is the late fee on my bill", "thanks"],
    ["hello", "when is my bill due", "why is my bill higher this month", "thank you"],
    ["hey", "did you get my payment", "what's on my latest bill", "thanks, bye"],
]
# An anonymous visitor verifies with account number and postal code (docs/demo-data.md) first.
VERIFY_SCRIPT = [
    "hi", "what's my balance", "ACC-100001", "94110", "what is the late fee on my bill", "thanks",
]
ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BASELINE_SCRIPT = ["hello", "I am feeling great", "are you a bot?", "goodbye"]


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    latencies_by_turn: dict[str, list[float]] = field(default_factory=dict)  # "<who>: <text>" -> ms
    errors: int = 0
    lost: int = 0
    messages: int = 0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    cpu_seconds_by_process: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    @property
    def throughput(self) -> float:
        return self.messages / self.wall_seconds if self.wall_seconds else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def turn_table(name: str, r: Results) -> list[str]:
    """Latency per scripted turn: where the slow tail comes from (the first message of a conversation, a
    verification, an answer that calls the backend)."""
    lines = ["", f"Latency per turn, {name.split(',')[0]}:", "",
             "| turn | messages | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    for turn, values in sorted(r.latencies_by_turn.items(), key=lambda item: -percentile(item[1], 0.95)):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        lines.append(f"| {turn} | {len(values)} | {p50:.0f} | {p95:.0f} | {max(values):.0f} |")
    return lines


def process_tree(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [p for child in children for p in process_tree(int(child))]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, IndexError, ValueError):
            continue
    return total


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


async def stack_customer(stack_ws: str, secret: str, customer_id: int, deadline: float, out: Results,
                         think_seconds: float = 0.0) -> None:
    """Logged-in customers (identity from the JWT); every fourth one is anonymous and verifies first."""
    anonymous = customer_id % 4 == 0
    token = "" if anonymous else customer_token(secret=secret, customer_id=customer_id, name="Load")
    while time.monotonic() < deadline:
        chat = ChatClient(stack_ws, token=token)
        try:
            await chat.connect()
            for text in VERIFY_SCRIPT if anonymous else random.choice(SCRIPTS):
                try:
                    reply = await chat.say(text, quiet=0.05, timeout=30)
                except TimeoutError:
                    out.lost += 1
                    continue
                # Success = the bot answered. An error frame, a system notice (e.g. "the assistant is
                # unavailable") or a handover instead of an answer counts as an error.
                answer = reply[-1] if reply else {}
                if answer.get("type") != "message" or answer.get("sender") != "bot":
                    out.errors += 1
                    print(f"not a bot answer to {text!r}: {answer}", file=sys.stderr)
                    continue
                out.latencies_ms.append(chat.last_reply_seconds * 1000)  # to the reply's first frame
                who = "anonymous" if anonymous else "signed in"
                out.latencies_by_turn.setdefault(f"{who}: {text}", []).append(out.latencies_ms[-1])
                out.messages += 1
                if think_seconds:  # a person reads the answer and types the next message
                    await asyncio.sleep(random.uniform(0.5, 1.5) * think_seconds)
        except (OSError, Exception) as error:  # a dropped socket counts as an error, the run goes on
            out.errors += 1
            print(f"conversation error: {error!r}", file=sys.stderr)
        finally:
            await chat.close()


async def rest_customer(rasa_url: str, deadline: float, out: Results, script: list[str],
                        think_seconds: float = 0.0) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        while time.monotonic() < deadline:
            sender = str(uuid.uuid4())
            for text in script:
                started = time.perf_counter()
                try:
                    response = await client.post(
                        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                    )
                    response.raise_for_status()
                    if not response.json():
                        out.lost += 1
                        continue
                except httpx.HTTPError:
                    out.errors += 1
                    continue
                out.latencies_ms.append((time.perf_counter() - started) * 1000)
                out.messages += 1
                if think_seconds:
                    await asyncio.sleep(random.uniform(0.5, 1.5) * think_seconds)


async def drive(make_customer, conversations: int, duration: float, pids: dict[str, list[int]]) -> Results:
    out = Results()
    all_pids = [p for group in pids.values() for p in group]
    cpu_before = cpu_seconds(all_pids)
    cpu_before_by_process = {name: cpu_seconds(group) for name, group in pids.items()}
    started = time.monotonic()
    deadline = started + duration
    await asyncio.gather(*(make_customer(i, deadline, out) for i in range(conversations)))
    out.wall_seconds = time.monotonic() - started
    out.cpu_seconds = cpu_seconds(all_pids) - cpu_before
    out.cpu_seconds_by_process = {name: cpu_seconds(group) - cpu_before_by_process[name]
                                  for name, group in pids.items()}
    out.rss_mb = {name: rss_mb(group) for name, group in pids.items()}
    return out


# Stack configurations. "default" is what `make run` starts (SQLite tracker store, in-memory lock store,
# one Sanic worker). "workers" is the production endpoints file (bot/endpoints.production.yml: PostgreSQL
# tracker store, Redis lock store), which is what allows Rasa to run one Sanic worker per core, with
# TensorFlow's thread pools sized so two workers do not oversubscribe two cores.
CONFIGS = ("default", "workers")


def stack_env(config: str, workdir: Path) -> tuple[dict[str, str], str | None]:
    """Environment for the stack, and the PostgreSQL database to drop afterwards."""
    if config == "default":
        return {}, None
    database = f"bench_tracker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    return {
        "RASA_ENDPOINTS": "bot/endpoints.production.yml",
        "SANIC_WORKERS": str(os.cpu_count() or 2),
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        "RASA_TRACKER_PG_HOST": "127.0.0.1", "RASA_TRACKER_PG_PORT": "5432", "RASA_TRACKER_PG_DB": database,
        "RASA_TRACKER_PG_USER": "postgres", "RASA_TRACKER_PG_PASSWORD": "",
        "RASA_LOCK_REDIS_HOST": "127.0.0.1", "RASA_LOCK_REDIS_PORT": "6379", "RASA_LOCK_REDIS_DB": "3",
        "RASA_LOCK_REDIS_PASSWORD": "", "RASA_LOCK_REDIS_KEY_PREFIX": database,
    }, database


def drop_database(database: str | None) -> None:
    if database:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class System:
    """One system under load: how to make a simulated customer, and the processes whose CPU is counted."""

    make_customer: Callable[[int, float, Results, float], Awaitable[None]]  # (index, deadline, out, think)
    pids: dict[str, list[int]]

    def measure(self, conversations: int, duration: float, think_seconds: float,
                spread_arrivals: bool = True) -> Results:
        async def customer(i: int, deadline: float, out: Results) -> None:
            if spread_arrivals and think_seconds:
                # At a person's pace customers arrive spread over one pause, as people do; started in the
                # same millisecond, every first message queues behind all the others (--arrivals together).
                await asyncio.sleep(random.uniform(0, think_seconds))
            await self.make_customer(i, deadline, out, think_seconds)

        asyncio.run(drive(customer, 2, 5, self.pids))  # warm-up: first TF graph calls are slow
        return asyncio.run(drive(customer, conversations, duration, self.pids))


Systems = list[tuple[str, Callable[[], AbstractContextManager[System]]]]  # (name, start it)


@contextmanager
def project_system(config: str) -> Iterator[System]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    env, database = stack_env(config, workdir)
    try:
        stack = Stack(workdir=workdir, env=env).start()
    except Exception:
        drop_database(database)
        raise
    try:
        pids = {name: process_tree(s.process.pid) for name, s in stack.services.items() if s.process}
        secret = stack.env["CUSTOMER_JWT_SECRET"]

        def customer(i: int, deadline: float, out: Results, think: float) -> Awaitable[None]:
            return stack_customer(stack.chat_ws_url, secret, 1 + i % 8, deadline, out, think)

        yield System(customer, pids)
    finally:
        stack.stop()
        drop_database(database)
        shutil.rmtree(workdir, ignore_errors=True)


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


@contextmanager
def stock_init_system() -> Iterator[System]:
    """Stock Rasa: `rasa init` bot, trained and served by `rasa run`, on this machine, now."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    env = rasa_env()
    subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(workdir)], check=True,
                   env=env, capture_output=True)
    if not list((workdir / "models").glob("*.tar.gz")):
        subprocess.run([str(RASA), "train"], cwd=workdir, check=True, env=env, capture_output=True)
    port = free_port()
    # `rasa run` finds the init bot's models/ and endpoints relative to its working directory.
    command = ["bash", "-c", f"cd {workdir} && exec {RASA} run --port {port} --interface 127.0.0.1"]
    rasa = Service("rasa-init", command, f"http://127.0.0.1:{port}/", port)
    rasa.start(env, workdir)
    try:
        rasa.wait_healthy(240)
        url = f"http://127.0.0.1:{port}"

        def customer(i: int, deadline: float, out: Results, think: float) -> Awaitable[None]:
            return rest_customer(url, deadline, out, BASELINE_SCRIPT, think)

        yield System(customer, {"rasa (stock)": process_tree(rasa.process.pid)})
    finally:
        rasa.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def stock_billing_system() -> Iterator[System]:
    """Stock Rasa serving a comparable billing bot (bench/stock_billing_bot.py), trained here, now."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-billing-baseline-"))
    env = rasa_env()
    actions_port, rasa_port = free_port(), free_port()
    spacy_model = stock_billing_bot.spacy_base_model()
    stock_billing_bot.write(workdir, spacy_model=spacy_model, actions_port=actions_port)
    subprocess.run([str(RASA), "train"], cwd=workdir, check=True, env=env, capture_output=True)
    actions = Service("actions-stock", ["bash", "-c", f"cd {workdir} && exec {RASA} run actions "
                                        f"--port {actions_port} --actions actions"],
                      f"http://127.0.0.1:{actions_port}/health", actions_port)
    rasa = Service("rasa-billing-stock", ["bash", "-c", f"cd {workdir} && exec {RASA} run --port {rasa_port} "
                                          "--interface 127.0.0.1 --endpoints endpoints.yml"],
                   f"http://127.0.0.1:{rasa_port}/", rasa_port)
    actions.start(env, workdir)
    rasa.start(env, workdir)
    try:
        actions.wait_healthy(120)
        rasa.wait_healthy(240)
        url = f"http://127.0.0.1:{rasa_port}"

        def customer(i: int, deadline: float, out: Results, think: float) -> Awaitable[None]:
            return rest_customer(url, deadline, out, stock_billing_bot.SCRIPT, think)

        yield System(customer, {"rasa": process_tree(rasa.process.pid),
                                "actions": process_tree(actions.process.pid)})
    finally:
        rasa.stop()
        actions.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def capacity(system: System, args: argparse.Namespace) -> tuple[int, list[str]]:
    """The most concurrent customers at a person's pace whose p95 stays under the target, with no errors.

    Doubles the number of customers until a level fails, then bisects between the last good and the first
    failing level down to --capacity-resolution. Returns the capacity and one line per level measured."""
    def passes(customers: int) -> tuple[bool, str]:
        r = system.measure(customers, args.capacity_duration, args.capacity_think_seconds,
                           spread_arrivals=args.arrivals == "spread")
        ok = r.errors == 0 and r.lost == 0 and r.percentile(0.95) < args.capacity_p95_ms
        return ok, (f"{customers} customers: {r.throughput:.1f} msg/s, p50 {r.percentile(0.5):.0f} ms, "
                    f"p95 {r.percentile(0.95):.0f} ms, errors {r.errors}, lost {r.lost} -> "
                    f"{'ok' if ok else 'over'}")

    log: list[str] = []
    good, bad = 0, 0
    level = args.capacity_start
    while level <= args.capacity_max:
        ok, line = passes(level)
        log.append(line)
        if not ok:
            bad = level
            break
        good, level = level, level * 2
    if not bad:
        return good, log
    while bad - good > max(1, int(good * args.capacity_resolution)):
        middle = (good + bad) // 2
        ok, line = passes(middle)
        log.append(line)
        good, bad = (middle, bad) if ok else (good, middle)
    return good, log


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB, {platform.system()} {platform.release()}"


def row(name: str, r: Results) -> str:
    cpu_ms = r.cpu_seconds / r.messages * 1000 if r.messages else float("nan")
    per_process = " + ".join(f"{k} {v / r.messages * 1000:.0f}" for k, v in r.cpu_seconds_by_process.items()
                             if r.messages and len(r.cpu_seconds_by_process) > 1)
    memory = ", ".join(f"{k} {v:.0f} MB" for k, v in r.rss_mb.items())
    return (
        f"| {name} | {r.messages} | {r.throughput:.1f} | {r.percentile(0.5):.0f} | {r.percentile(0.95):.0f} "
        f"| {r.percentile(0.99):.0f} | {r.errors} | {r.lost} | "
        f"{cpu_ms:.1f}{f' ({per_process})' if per_process else ''} | {memory} |"
    )


def capacity_table(systems: Systems, args: argparse.Namespace) -> list[str]:
    lines = [
        f"## Capacity run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"Machine: {machine()}. Customers at a person's pace (about {args.capacity_think_seconds:g} s "
        f"between a reply and the next message), {args.capacity_duration:.0f} s per level; capacity = "
        f"the most customers with p95 < {args.capacity_p95_ms:.0f} ms and no error or lost message; "
        f"arrivals {args.arrivals}.",
        "",
        "| system | capacity (customers) | levels measured |",
        "|---|---|---|",
    ]
    for name, start_system in systems:
        with start_system() as system:
            found, log = capacity(system, args)
        lines.append(f"| {name} | **{found}** | {'; '.join(log)} |")
    return lines


def load_table(systems: Systems, args: argparse.Namespace) -> list[str]:
    pause = f"about {args.think_seconds:g} s" if args.think_seconds else "no"
    lines = [
        f"## Load run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"Machine: {machine()}. {args.conversations} concurrent conversations, "
        f"{args.duration:.0f} s each, {pause} pause between a reply and the next message "
        f"(the same for every system){f'; arrivals {args.arrivals}' if args.think_seconds else ''}.",
        "",
        "| system | messages | msg/s | p50 ms | p95 ms | p99 ms | errors | lost | CPU ms/msg | resident "
        "memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    modes = ["together", "spread"] if args.arrivals == "both" else [args.arrivals]
    runs: list[tuple[str, str, Results]] = []  # (system, way of arriving, results)
    for system_name, start_system in systems:
        with start_system() as system:
            for mode in modes:
                r = system.measure(args.conversations, args.duration, args.think_seconds,
                                   spread_arrivals=mode == "spread")
                runs.append((system_name, mode, r))
                lines.append(row(f"{system_name} (arrivals {mode})" if len(modes) > 1 else system_name, r))
    if args.by_turn:
        for system_name, mode, r in runs:
            label = system_name.split(",")[0] + (f" (arrivals {mode})" if len(modes) > 1 else "")
            lines += turn_table(label, r) if r.latencies_by_turn else []
    baselines = [run for run in runs if run[0].startswith("stock")]
    if baselines:
        lines.append("")
    for name, mode, r in runs:
        for base_name, base_mode, base in baselines if not name.startswith("stock") else ():
            if base_mode != mode:
                continue  # with --arrivals both, each way of arriving against the same way
            ratio = r.throughput / base.throughput if base.throughput else float("nan")
            suffix = f" (arrivals {mode})" if len(modes) > 1 else ""
            lines.append(f"Throughput ratio, {name.split(',')[0]} / {base_name.split(',')[0]}{suffix}: "
                         f"**{ratio:.2f}x**  ")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per system")
    parser.add_argument("--baseline", action="store_true",
                        help="also measure stock Rasa: the rasa init bot and a comparable billing bot")
    parser.add_argument("--think-seconds", type=float, default=0.0,
                        help="mean pause of each simulated customer between messages (0: back to back)")
    parser.add_argument("--configs", nargs="*", choices=CONFIGS, default=list(CONFIGS),
                        help="stack configurations to measure (see CONFIGS); none: only the --baseline bots")
    parser.add_argument("--out", type=Path, help="append the table to this Markdown file")
    parser.add_argument("--arrivals", choices=("spread", "together", "both"), default="spread",
                        help="with a pause: customers start spread over one pause (as people arrive), "
                             "all in the same moment (the burst of earlier runs), or both, one after the "
                             "other on the same processes (not with --capacity)")
    parser.add_argument("--by-turn", action="store_true",
                        help="also print the latency of each scripted turn of this project's customers")
    parser.add_argument("--capacity", action="store_true",
                        help="instead of one load: find how many customers at a person's pace each system "
                             "serves with p95 under --capacity-p95-ms (the project's first config, and with "
                             "--baseline both stock bots)")
    parser.add_argument("--capacity-think-seconds", type=float, default=10.0)
    parser.add_argument("--capacity-p95-ms", type=float, default=500.0)
    parser.add_argument("--capacity-duration", type=float, default=60.0, help="seconds per level")
    parser.add_argument("--capacity-start", type=int, default=10)
    parser.add_argument("--capacity-max", type=int, default=1280)
    parser.add_argument("--capacity-resolution", type=float, default=0.1,
                        help="stop bisecting when the interval is this fraction of the capacity")
    args = parser.parse_args()
    if args.capacity and args.arrivals == "both":
        parser.error("--capacity measures one way of arriving: --arrivals spread or together")

    systems: Systems = [
        (f"this project ({config}), full stack via WebSocket", partial(project_system, config))
        for config in (args.configs[:1] if args.capacity else args.configs)
    ]
    if args.baseline:
        systems += [("stock `rasa init` bot, `rasa run` REST", stock_init_system),
                    ("stock billing bot (spaCy + DIET + TED + 1 custom action), REST", stock_billing_system)]
    lines = capacity_table(systems, args) if args.capacity else load_table(systems, args)
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as handle:
            handle.write("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
