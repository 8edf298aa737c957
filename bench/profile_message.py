"""Profile one message: where its time goes (NLU components, policies, tracker store, action calls).

    .venv/bin/python bench/profile_message.py [--conversations 10] [--out bench/results/profile.md]

Starts the stack (tests/support/stack.py) for its backend and action server, then runs
bench/rasa_profile.py in .venv-bot, which loads the model in-process with the same endpoints and
times every part of Rasa's message handling for the scripted conversation below, one message at a
time (no concurrency: this is the cost of a message, not the throughput). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.stack import REPO_ROOT, Stack, current_model

ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# The tracker stores Rasa 3.6 ships (the lock store stays in memory: one process).
TRACKER_STORES = {
    "sqlite": "tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: ${RASA_TRACKER_SQLITE}\n",
    "memory": "",
    "redis": "tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: 6379\n  db: 6\n  key_prefix: {name}\n",
    "postgres": "tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: 127.0.0.1\n  port: 5432\n"
                "  db: {name}\n  username: postgres\n",
}


@contextlib.contextmanager
def tracker_store(kind: str) -> Iterator[str]:
    """The endpoints' tracker_store section (PostgreSQL: a fresh database, dropped afterwards)."""
    name = f"profile_tracker_{uuid.uuid4().hex[:8]}"
    if kind != "postgres":
        yield TRACKER_STORES[kind].replace("{name}", name)
        return
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield TRACKER_STORES[kind].replace("{name}", name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SCRIPT = ["hi there", "what's my balance", "what is the late fee on my bill", "thanks"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cprofile", type=Path, help="also write cProfile stats of Rasa's part here")
    parser.add_argument("--distinct", action="store_true",
                        help="every measured text new (' (n)' appended): no parse from the parse cache")
    parser.add_argument("--parse", nargs="*", default=[], help="also time the NLU parse alone of these texts")
    parser.add_argument("--signed-in", action="store_true",
                        help="a signed-in customer (the handoff's identity assertion), as bench/load.py's")
    parser.add_argument("--tracker-store", choices=sorted(TRACKER_STORES), default="sqlite",
                        help="sqlite: bot/endpoints.yml; others: the same with that tracker store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp, tracker_store(args.tracker_store) as store:
        stack = Stack(Path(tmp)).start()
        try:
            actions = stack.services["actions"].process
            env = {**stack.env, "RASA_TRACKER_SQLITE": str(Path(tmp) / "profile_tracker.db"),
                   "PROFILE_ACTIONS_PID": str(actions.pid if actions else "")}
            endpoints = Path(tmp) / "endpoints.yml"
            endpoints.write_text((REPO_ROOT / "bot" / "endpoints.yml").read_text().split("tracker_store:")[0]
                                 + store)
            completed = subprocess.run(
                [
                    str(REPO_ROOT / ".venv-bot" / "bin" / "python"), "bench/rasa_profile.py",
                    "--endpoints", str(endpoints), "--model",
                    str(current_model()), "--conversations", str(args.conversations), "--script", *SCRIPT,
                    *(["--cprofile", str(args.cprofile.resolve())] if args.cprofile else []),
                    *(["--distinct"] if args.distinct else []),
                    *(["--signed-in"] if args.signed_in else []),
                    *(["--parse", *args.parse] if args.parse else []),
                ],
                cwd=REPO_ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
        finally:
            stack.stop()
    if completed.returncode != 0:
        raise SystemExit(f"profiling failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    count, wall = result["messages"], result["wall_ms"]
    total = sum(wall)
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.platform()}, load average {os.getloadavg()[0]:.1f} at "
        "the end.",
        f"{count} messages ({args.conversations} conversations of {SCRIPT}), one at a time; per message: "
        f"mean {statistics.mean(wall):.0f} ms, median {statistics.median(wall):.0f} ms, max {max(wall):.0f} "
        f"ms; CPU of the Rasa process per message: mean {statistics.mean(result['cpu_ms']):.1f} ms, median "
        f"{statistics.median(result['cpu_ms']):.1f} ms; CPU of the action server per message: "
        f"{result['actions_cpu_ms'] / count:.1f} ms (clock ticks of 10 ms, summed over the run). "
        f"Model {current_model().name}"
        f"{', every text new (--distinct)' if args.distinct else ''}; tracker store: {args.tracker_store}; "
        f"{'signed-in customer' if args.signed_in else 'anonymous visitor'}.",
        *[f"NLU parse alone of {text!r}: {ms:.1f} ms CPU" for text, ms in result["parse_cpu_ms"].items()],
        "",
        "| part | wall ms per message | share of message time | Rasa CPU ms per message | share of Rasa CPU "
        "|",
        "|---|---|---|---|---|",
    ]
    # Graph nodes nest inside the tracker/action timings only for policies run by the processor, so the
    # shares do not sum to exactly 100 %; "other" is what no timer covered (events, lock, Sanic-free glue).
    # CPU is the Rasa process's own (an action server call's CPU is the action server's, not counted here).
    cpu, cpu_total = result["parts_cpu"], sum(result["cpu_ms"])
    for part, ms in sorted(result["parts"].items(), key=lambda item: -cpu.get(item[0], 0.0)):
        part_cpu = cpu.get(part, 0.0)
        lines.append(f"| {part} | {ms / count:.1f} | {100 * ms / total:.0f} % | {part_cpu / count:.1f} "
                     f"| {100 * part_cpu / cpu_total:.0f} % |")
    covered, cpu_covered = sum(result["parts"].values()), sum(cpu.values())
    lines.append(f"| other (not covered by a timer) | {max(0.0, total - covered) / count:.1f} | "
                 f"{max(0.0, 100 * (total - covered) / total):.0f} % | "
                 f"{max(0.0, cpu_total - cpu_covered) / count:.1f} | "
                 f"{max(0.0, 100 * (cpu_total - cpu_covered) / cpu_total):.0f} % |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with args.out.open("a") as out:
            out.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
