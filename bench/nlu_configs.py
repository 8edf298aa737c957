"""Compare NLU pipeline variants on the held-out set: training time, intent macro-F1, out_of_scope recall.

    .venv/bin/python bench/nlu_configs.py [--variants baseline no-transformer ...] [--seeds 42]

Each variant is config.yml with DIET's settings overridden and optional extra components; it is trained
NLU-only (`rasa train nlu`) into a temporary directory and tested with `rasa test nlu` on
tests/nlu/dev/test_nlu.yml. Prints a Markdown table (bench/results/nlu.md keeps the measured ones).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"

# name -> (DIET overrides, components inserted before DIET)
VARIANTS: dict[str, tuple[dict, list[dict]]] = {
    "baseline": ({}, []),
    "no-transformer": ({"number_of_transformer_layers": 0}, []),
    "transformer-50-epochs": ({"epochs": 50}, []),
    "transformer-30-epochs": ({"epochs": 30}, []),
    "spacy-dense": ({}, [{"name": "SpacyFeaturizer", "pooling": "mean"}]),
    "no-transformer+spacy-dense": ({"number_of_transformer_layers": 0},
                                   [{"name": "SpacyFeaturizer", "pooling": "mean"}]),
    "no-transformer-200-epochs": ({"number_of_transformer_layers": 0, "epochs": 200}, []),
}


def component_class(component: dict) -> str:
    """A pipeline entry's class name, whichever way config.yml spells it: "DIETClassifier",
    "bot.components.minilm.MiniLMFeaturizer" or issue 20's guarded wrapper
    "bot.components.parse_shortcut.GuardedDIETClassifier" (same class, same training)."""
    return str(component["name"]).rsplit(".", 1)[-1].removeprefix("Guarded")


def variant_config(name: str, seed: int) -> dict:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    overrides, extra = VARIANTS[name]
    pipeline = []
    for component in config["pipeline"]:
        if component_class(component) == "DIETClassifier":
            pipeline.extend(copy.deepcopy(extra))
            component = {**component, **overrides, "random_seed": seed}
        pipeline.append(component)
    config["pipeline"] = pipeline
    config.pop("policies", None)
    return config


def rasa(*args: str, env: dict[str, str]) -> float:
    started = time.monotonic()
    completed = subprocess.run([str(RASA), *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"rasa {args[0]} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    return time.monotonic() - started


def measure(name: str, seed: int, workdir: Path, env: dict[str, str]) -> dict:
    tag = f"{name}-{seed}"
    config_path = workdir / f"{tag}.yml"
    config_path.write_text(yaml.safe_dump(variant_config(name, seed), sort_keys=False))
    train_seconds = rasa("train", "nlu", "--config", str(config_path), "--nlu", str(workdir / "data"),
                         "--out", str(workdir), "--fixed-model-name", tag, env=env)
    out = workdir / f"results-{tag}"
    rasa(
        "test", "nlu", "--model", str(workdir / f"{tag}.tar.gz"), "--nlu", str(workdir / "held-out"), "--out",
        str(out), "--no-plot", env=env,
    )
    report = json.loads((out / "intent_report.json").read_text())
    errors = json.loads((out / "intent_errors.json").read_text())
    return {
        "variant": name, "seed": seed, "train_s": train_seconds, "macro_f1": report["macro avg"]["f1-score"],
        "oos_recall": report["out_of_scope"]["recall"], "errors": len(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="nlu-configs-") as tmp:
        workdir = Path(tmp)
        # A snapshot, so editing the data while this runs does not mix two datasets into one table.
        shutil.copytree(REPO_ROOT / "bot" / "data", workdir / "data")
        # The development sets only: the frozen set (tests/nlu/frozen) is measured by scripts/nlu_eval.py,
        # never tuned on.
        shutil.copytree(REPO_ROOT / "tests" / "nlu" / "dev", workdir / "held-out",
                        ignore=shutil.ignore_patterns("*.py", "*.md", "__pycache__"))
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(workdir / "cache"), "TF_CPP_MIN_LOG_LEVEL": "2",
               "RASA_TELEMETRY_ENABLED": "false"}
        for name in args.variants:
            for seed in args.seeds:
                rows.append(measure(name, seed, workdir, env))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores)\n")
    print(
        "| variant | seeds | NLU train (s, mean) | intent macro-F1 (mean, min) | out_of_scope recall (mean, "
        "min) | errors / held-out |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.variants:
        mine = [row for row in rows if row["variant"] == name]
        f1s, recalls = [r["macro_f1"] for r in mine], [r["oos_recall"] for r in mine]
        print(
            f"| {name} | {len(mine)} | {statistics.mean(r['train_s'] for r in mine):.0f} "
            f"| {statistics.mean(f1s):.3f}, {min(f1s):.3f} | {statistics.mean(recalls):.3f}, "
            f"{min(recalls):.3f} | {statistics.mean(r['errors'] for r in mine):.1f} |"
        )


if __name__ == "__main__":
    main()
