"""How long a trainer waits: full vs incremental training after adding examples, and whether the
faster path is as good on the held-out set. Works on a temporary copy of the repository's bot files.

    .venv/bin/python bench/trainer_loop.py [--fractions 0.3 0.5]

Prints a Markdown table (copy it into bench/results/training.md).
1. full training on a cold cache (what a fresh machine or a new intent costs),
2. teach 6 new examples to an existing intent, then
   a. full `rasa train` (Rasa reuses cached components: only NLU retrains),
   b. `rasa train --finetune <model 1> --epoch-fraction F` for each F,
   each followed by `rasa test nlu` on the held-out set (intent macro-F1).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from trainer.teach import add_examples  # noqa: E402 - after the sys.path line
from trainer.training import rasa_env  # noqa: E402

RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"
NEW_EXAMPLES = [
    "where do i mail a check for my bill",
    "can i pay my bill over the phone",
    "is there a way to pay in cash somewhere",
    "what are my options for paying this invoice",
    "can i pay using my bank account instead of a card",
    "how do i pay online",
]


def copy_repo(destination: Path) -> None:
    for relative in ("config.yml", "domain.yml", "bot/data", "bot/components", "tests/nlu", "scripts"):
        source, target = REPO_ROOT / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
    (destination / "build").mkdir()
    (destination / "build" / "spacy").symlink_to(REPO_ROOT / "build" / "spacy")
    (destination / "build" / "minilm").symlink_to(REPO_ROOT / "build" / "minilm")
    (destination / ".venv-bot").symlink_to(REPO_ROOT / ".venv-bot")


def run(workdir: Path, env: dict[str, str], *args: str) -> float:
    started = time.monotonic()
    completed = subprocess.run([str(RASA), *args], cwd=workdir, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(
            f"rasa {' '.join(args)} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    return time.monotonic() - started


def train(workdir: Path, env: dict[str, str], name: str, *extra: str) -> float:
    return run(
        workdir, env, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "bot/data",
        "--out", "models", "--fixed-model-name", name, *extra,
    )


def test_nlu(workdir: Path, env: dict[str, str], name: str) -> tuple[float, float]:
    out = workdir / "results" / name
    seconds = run(
        workdir, env, "test", "nlu", "--model", f"models/{name}.tar.gz", "--nlu",
        "tests/nlu/dev/test_nlu.yml", "--out", str(out), "--no-plot",
    )
    report = json.loads((out / "intent_report.json").read_text())
    return seconds, report["macro avg"]["f1-score"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.3])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as tmp:
        workdir = Path(tmp)
        copy_repo(workdir)
        env = rasa_env(RASA_CACHE_DIRECTORY=str(workdir / ".rasa-cache"))
        seconds = train(workdir, env, "base")
        test_seconds, f1 = test_nlu(workdir, env, "base")
        rows.append(("full, cold cache (first training / new intent)", seconds, test_seconds, f1))
        print(rows[-1], flush=True)
        started = time.monotonic()
        add_examples(repo_root=workdir, intent="how_to_pay", examples=NEW_EXAMPLES)
        teach_seconds = time.monotonic() - started
        seconds = train(workdir, env, "full-warm")
        test_seconds, f1 = test_nlu(workdir, env, "full-warm")
        rows.append(("full after +6 examples (warm cache: only NLU retrains)", seconds, test_seconds, f1))
        print(rows[-1], flush=True)
        for fraction in args.fractions:
            name = f"finetune-{fraction}"
            seconds = train(
                workdir, env, name, "--finetune", "models/base.tar.gz", "--epoch-fraction", str(fraction)
            )
            test_seconds, f1 = test_nlu(workdir, env, name)
            rows.append((f"finetune after +6 examples, epoch fraction {fraction}", seconds, test_seconds, f1))
            print(rows[-1], flush=True)
    print(f"\nteach (append 6 examples, with duplicate checks): {teach_seconds:.1f} s\n")
    print(
        "| training | train (s) | rasa test nlu (s) | loop: teach + train + test (s) | held-out intent "
        "macro-F1 |"
    )
    print("|---|---|---|---|---|")
    for label, seconds, test_seconds, f1 in rows:
        print(
            f"| {label} | {seconds:.0f} | {test_seconds:.0f} | {teach_seconds + seconds + test_seconds:.0f} "
            f"| {f1:.3f} |"
        )


if __name__ == "__main__":
    main()
