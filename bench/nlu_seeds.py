"""Compare training data versions over several DIET seeds: one seed moves the numbers more than small data do.

    .venv/bin/python bench/nlu_seeds.py --label candidate --data bot/data --seeds 42 7 1234
    .venv/bin/python bench/nlu_seeds.py --label baseline --data /tmp/base/bot/data --seeds 42 7 1234
    .venv/bin/python bench/nlu_seeds.py --label narrow --diet transformer_size=128 --seeds 42 7 1234
    .venv/bin/python bench/nlu_seeds.py --label blend --config /tmp/config-blend.yml --seeds 42 7 1234
    .venv/bin/python bench/nlu_seeds.py --table          # the mean per label of every run recorded so far

Each run is config.yml with DIETClassifier's random_seed (and any `--diet` setting) replaced, trained
as `make train` does (a full `rasa train`: issue 20's ParseShortcut needs the domain, so `rasa train nlu`
fails) into a temporary folder, and scored by scripts/nlu_eval.py on the Makefile's sets (dev,
dev-independent, dev-independent-v2; sealed-dev and frozen: aggregates only). `--model` scores a model that
exists (one `make train` made with the config's own seed) instead of training. Every run's key numbers are
appended to bench/results/nlu_seeds.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import yaml
from nlu_configs import component_class  # bench/, on sys.path when run as a script

REPO_ROOT = Path(__file__).resolve().parents[1]
BOT_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"
RESULTS = REPO_ROOT / "bench" / "results" / "nlu_seeds.json"
SETS = {
    "dev": "tests/nlu/dev/test_nlu.yml,tests/nlu/dev/payments.yml,tests/nlu/dev/documents.yml",
    "dev-independent": "tests/nlu/dev/independent_dev.yml",
    "dev-independent-v2": "tests/nlu/dev/independent_dev_v2.yml",
    "sealed-dev": "tests/nlu/sealed_dev",
    "frozen": "tests/nlu/frozen",
    "frozen-v2": "tests/nlu/frozen_v2",
}
# (column, set, path into scripts/nlu_eval.py's summary)
MEASURES = [
    ("dev macro-F1 (clf)", "dev", ("classifier_only", "macro_f1")),
    ("dev billing", "dev", ("billing_accuracy",)),
    ("dev wrongly rejected", "dev", ("in_scope_wrongly_rejected",)),
    ("indep billing", "dev-independent", ("billing_accuracy",)),
    ("indep how_to_pay", "dev-independent", ("billing_accuracy_by_intent", "how_to_pay")),
    ("indep oos recall", "dev-independent", ("out_of_scope_recall",)),
    ("indep wrongly rejected", "dev-independent", ("in_scope_wrongly_rejected",)),
    ("dev-v2 billing", "dev-independent-v2", ("billing_accuracy",)),
    ("dev-v2 oos recall", "dev-independent-v2", ("out_of_scope_recall",)),
    ("dev-v2 wrongly rejected", "dev-independent-v2", ("in_scope_wrongly_rejected",)),
    ("dev-v2 action intents", "dev-independent-v2", ("action_intents_accuracy",)),
    ("sealed billing", "sealed-dev", ("billing_accuracy",)),
    ("sealed oos recall", "sealed-dev", ("out_of_scope_recall",)),
    ("sealed wrongly rejected", "sealed-dev", ("in_scope_wrongly_rejected",)),
    ("sealed answered as another intent", "sealed-dev", ("in_scope_answered_as_another_intent",)),
    ("sealed action intents", "sealed-dev", ("action_intents_accuracy",)),
    ("frozen billing", "frozen", ("billing_accuracy",)),
    ("frozen weakest", "frozen", ("weakest_billing_intent", "accuracy")),
    ("frozen oos recall", "frozen", ("out_of_scope_recall",)),
    ("frozen wrongly rejected", "frozen", ("in_scope_wrongly_rejected",)),
    ("frozen how_to_pay to a payment intent", "frozen", ("how_to_pay_to_a_payment_intent",)),
    ("v2 billing", "frozen-v2", ("billing_accuracy",)),
    ("v2 weakest", "frozen-v2", ("weakest_billing_intent", "accuracy")),
    ("v2 oos recall", "frozen-v2", ("out_of_scope_recall",)),
    ("v2 wrongly rejected", "frozen-v2", ("in_scope_wrongly_rejected",)),
    ("v2 action intents", "frozen-v2", ("action_intents_accuracy",)),
]


def seeded_config(seed: int, diet: dict | None = None, base: Path = REPO_ROOT / "config.yml") -> dict:
    config = yaml.safe_load(base.read_text())
    config["pipeline"] = [
        {**c, **(diet or {}), "random_seed": seed} if component_class(c) == "DIETClassifier" else c
        for c in config["pipeline"]
    ]
    return config


def diet_setting(text: str) -> tuple[str, object]:
    """`name=value` -> (name, value read as YAML, so numbers stay numbers)."""
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    return name, yaml.safe_load(value)


def env() -> dict[str, str]:
    return {"TF_ENABLE_ONEDNN_OPTS": "0", **os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false"}


def pick(summary: dict, path: tuple[str, ...]) -> float | None:
    node: object = summary
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, int | float) else None


def run(label: str, data: Path, seed: int, workdir: Path, model: Path | None = None,
        diet: dict | None = None, base: Path = REPO_ROOT / "config.yml") -> dict:
    tag = f"{label}-{seed}"
    train_seconds = None
    if model is None:
        config = workdir / f"{tag}.yml"
        config.write_text(yaml.safe_dump(seeded_config(seed, diet, base), sort_keys=False))
        started = time.monotonic()
        subprocess.run(
            [str(RASA), "train", "--config", str(config), "--domain", str(REPO_ROOT / "domain.yml"),
             "--data", str(data), "--out", str(workdir), "--fixed-model-name", tag],
            cwd=REPO_ROOT, env=env(), check=True, capture_output=True,
        )
        train_seconds = round(time.monotonic() - started)
        model = workdir / f"{tag}.tar.gz"
    evaluation = workdir / f"eval-{tag}.json"
    subprocess.run(
        [str(BOT_PYTHON), "scripts/nlu_eval.py", "--model", str(model),
         *[arg for name, paths in SETS.items() if all((REPO_ROOT / p).exists() for p in paths.split(","))
           for arg in ("--set", f"{name}={paths}")],
         "--training", str(data), "--out", str(evaluation)],
        cwd=REPO_ROOT, env=env(), check=True, capture_output=True,
    )
    report = defaultdict(dict, json.loads(evaluation.read_text())["sets"])  # a set not there yet: no numbers
    return {
        "label": label, "seed": seed, "data": str(data), "model": model.name, "train_s": train_seconds,
        "diet": diet or {}, "config": str(base),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "load": os.getloadavg()[0],
        **{name: pick(report[set_name], path) for name, set_name, path in MEASURES},
    }


def table(runs: list[dict], columns: list[str] | None = None) -> str:
    names = [name for name, _, _ in MEASURES if not columns or any(c in name for c in columns)]
    lines = ["| label (seeds) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label in dict.fromkeys(r["label"] for r in runs):
        mine = [r for r in runs if r["label"] == label]
        for r in mine:
            lines.append(f"| {label} seed {r['seed']} | "
                         + " | ".join("-" if r.get(n) is None else f"{r[n]:.3f}" for n in names) + " |")
        values = {n: [r[n] for r in mine if r.get(n) is not None] for n in names}
        lines.append(f"| **{label} mean ({len(mine)})** | "
                     + " | ".join(f"{statistics.mean(v):.3f}" if v else "-" for v in values.values()) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label")
    parser.add_argument("--data", type=Path, default=REPO_ROOT / "bot" / "data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--model", type=Path, help="score this model (trained with --seeds' seed on --data)")
    parser.add_argument("--keep", type=Path, help="train into this folder and keep the models")
    parser.add_argument("--diet", type=diet_setting, action="append", default=[], metavar="NAME=VALUE",
                        help="a DIETClassifier setting to replace (repeatable), e.g. transformer_size=128")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config.yml",
                        help="the pipeline to train (default: config.yml), its DIET seed replaced")
    parser.add_argument("--table", action="store_true", help="only print the recorded runs")
    parser.add_argument("--labels", nargs="+", help="with --table: only these labels, in this order")
    parser.add_argument("--columns", nargs="+", help="with --table: only the columns whose name holds one of "
                        "these words (e.g. sealed dev-v2)")
    args = parser.parse_args()
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    if not args.table:
        if not args.label:
            parser.error("--label is required to train")
        workdir = args.keep or Path(tempfile.mkdtemp(prefix="nlu_seeds_"))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            for seed in args.seeds:
                measured = run(args.label, args.data.resolve(), seed, workdir, args.model, dict(args.diet),
                               args.config.resolve())
                runs = [*(json.loads(RESULTS.read_text()) if RESULTS.exists() else []), measured]
                RESULTS.write_text(json.dumps(runs, indent=1) + "\n")
                print(table([r for r in runs if r["label"] == args.label]), flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    if args.labels:
        runs = [r for label in args.labels for r in runs if r["label"] == label]
    print(table(runs, args.columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
