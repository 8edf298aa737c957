"""Precision and recall of the account check's detectors per kind, over generated accounts.

    .venv/bin/python bench/account_check_accuracy.py --accounts 10000 --seed 18

Each account comes from backend/account_check/synthetic.py (correct by construction, with hard cases), with
each plantable kind of error planted with probability --rate; the truth is what was planted (bill shock: the
generator's own arithmetic on the final totals). A finding matches a planted error by kind and the line it
would credit (promotion and bill shock: the invoice). Prints a table and appends it to
bench/results/account_check.md. Not a test: the property tests assert; this measures.
"""

import argparse
import os
import platform
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from backend.account_check import detectors as d  # noqa: E402 - after the repo root is on sys.path
from backend.account_check import synthetic as s  # noqa: E402 - after the repo root is on sys.path

RESULTS = REPO_ROOT / "bench" / "results" / "account_check.md"


def ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.4f}" if denominator else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--rate", type=float, default=0.3, help="chance of planting each kind in an account")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    clean_accounts = clean_flagged = 0
    started = time.perf_counter()
    for number in range(1, args.accounts + 1):
        plant = frozenset(kind for kind in s.PLANTABLE if rng.random() < args.rate)
        data, truth = s.generate_account(random.Random(rng.getrandbits(64)), customer_id=number, plant=plant)
        found = {s.finding_key(finding) for finding in d.run_detectors(data)}
        for kind, _ in truth & found:
            tp[kind] += 1
        for kind, _ in found - truth:
            fp[kind] += 1
        for kind, _ in truth - found:
            fn[kind] += 1
        if not {kind for kind, _ in truth} - {d.BILL_SHOCK}:
            clean_accounts += 1
            clean_flagged += bool({kind for kind, _ in found} - {d.BILL_SHOCK})
    seconds = time.perf_counter() - started

    header = (
        "| kind | planted | found | true pos. | false pos. | false neg. | precision | recall |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [
        f"| {kind} | {tp[kind] + fn[kind]} | {tp[kind] + fp[kind]} | {tp[kind]} | {fp[kind]} | {fn[kind]} | "
        f"{ratio(tp[kind], tp[kind] + fp[kind])} | {ratio(tp[kind], tp[kind] + fn[kind])} |"
        for kind in d.KINDS
    ]
    note = (
        f"{args.accounts:,} accounts (seed {args.seed}, each kind planted with probability {args.rate}); "
        f"{clean_accounts:,} accounts without a planted error, {clean_flagged} of them flagged with an error "
        f"finding; {seconds:.1f} s ({seconds / args.accounts * 1000:.2f} ms per account, detectors only)."
    )
    print(header, *rows, note, sep="\n")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as out:
        out.write(
            f"\n### Accuracy, {stamp}\n\n`.venv/bin/python bench/account_check_accuracy.py --accounts "
            f"{args.accounts} --seed {args.seed} --rate {args.rate}`; {platform.platform()}, Python "
            f"{platform.python_version()}, {os.cpu_count()} cores.\n\n{header}\n"
            + "\n".join(rows)
            + f"\n\n{note}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
