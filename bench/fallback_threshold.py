"""Tune FallbackClassifier's threshold on the held-out set.

    .venv/bin/python bench/fallback_threshold.py [--model models/current.tar.gz]

Runs `rasa test nlu --successes` (which reports DIET's own top intent and its confidence, before the
fallback), then, for each candidate threshold, counts what the fallback would do to the held-out messages:
correct answers it would throw away (the customer is asked to rephrase for nothing) and wrong answers it
would catch (the customer is asked to rephrase instead of getting a wrong answer). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def predictions(model: Path, workdir: Path) -> list[tuple[bool, float]]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(
        [
            str(REPO_ROOT / ".venv-bot" / "bin" / "rasa"), "test", "nlu", "--model", str(model), "--nlu",
            "tests/nlu/dev/test_nlu.yml", "--out", str(workdir), "--successes", "--no-plot",
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    rows = []
    for name, correct in (("intent_successes.json", True), ("intent_errors.json", False)):
        path = workdir / name
        for item in json.loads(path.read_text()) if path.exists() else []:
            rows.append((correct, float(item["intent_prediction"]["confidence"])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "current.tar.gz")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fallback-") as tmp:
        rows = predictions(args.model.resolve(), Path(tmp))
    correct = sum(1 for ok, _ in rows if ok)
    wrong = len(rows) - correct
    print(
        f"Model {args.model.resolve().name}: {len(rows)} held-out messages, {correct} right, {wrong} wrong.\n"
    )
    print(
        "| threshold | right answers lost to fallback | wrong answers caught by fallback | net (caught - "
        "lost) |"
    )
    print("|---|---|---|---|")
    for threshold in THRESHOLDS:
        lost = sum(1 for ok, confidence in rows if ok and confidence < threshold)
        caught = sum(1 for ok, confidence in rows if not ok and confidence < threshold)
        print(f"| {threshold:.1f} | {lost} | {caught} of {wrong} | {caught - lost:+d} |")


if __name__ == "__main__":
    main()
