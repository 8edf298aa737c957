"""Quality gates on the held-out NLU test set: fail (exit 1) when they drop.

    python scripts/nlu_gate.py results/nlu [--model models/billing-<hash>.tar.gz]

Reads Rasa's intent_report.json and writes results/nlu/summary.md: per-intent F1 with the change
against the previous model's run (archived in results/nlu/runs/), the most confused examples and
links to Rasa's confusion matrix and histogram (trainer/report.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.report import archive_run, find_baseline, render_summary  # noqa: E402

# The assistant issue's targets, enforced: CI fails below them. Measured with config.yml (DIET 50 epochs,
# seed 42), the full model of `make train`: macro-F1 0.970, out_of_scope recall 0.875; NLU-only trainings
# with three seeds 0.955-0.969 / 0.875-0.906 (bench/results/nlu.md).
TARGET_MACRO_F1 = 0.95
TARGET_OUT_OF_SCOPE_RECALL = 0.85
MIN_MACRO_F1 = TARGET_MACRO_F1
MIN_OUT_OF_SCOPE_RECALL = TARGET_OUT_OF_SCOPE_RECALL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results_dir", nargs="?", default="results/nlu")
    parser.add_argument("--model", default="", help="the model tested (names the archived run)")
    args = parser.parse_args(argv)
    results = Path(args.results_dir)
    report = json.loads((results / "intent_report.json").read_text())
    model = Path(args.model).name.removesuffix(".tar.gz") or "unknown-model"
    macro_f1 = report["macro avg"]["f1-score"]
    oos_recall = report.get("out_of_scope", {}).get("recall", 0.0)
    gates = [
        f"CI floor intent macro-F1 >= {MIN_MACRO_F1}: {'pass' if macro_f1 >= MIN_MACRO_F1 else 'FAIL'}"
        f" ({macro_f1:.3f}; issue target {TARGET_MACRO_F1}: {'met' if macro_f1 >= TARGET_MACRO_F1 else 'not yet'})",
        f"CI floor out_of_scope recall >= {MIN_OUT_OF_SCOPE_RECALL}: "
        f"{'pass' if oos_recall >= MIN_OUT_OF_SCOPE_RECALL else 'FAIL'} ({oos_recall:.3f}; issue target "
        f"{TARGET_OUT_OF_SCOPE_RECALL}: {'met' if oos_recall >= TARGET_OUT_OF_SCOPE_RECALL else 'not yet'})",
    ]
    summary = render_summary(results, report, model=model, baseline=find_baseline(results, model), gates=gates)
    (results / "summary.md").write_text(summary)
    archive_run(results, model, report)
    print(summary)

    failures = []
    if macro_f1 < MIN_MACRO_F1:
        failures.append(f"intent macro-F1 {macro_f1:.3f} < {MIN_MACRO_F1}")
    if oos_recall < MIN_OUT_OF_SCOPE_RECALL:
        failures.append(f"out_of_scope recall {oos_recall:.3f} < {MIN_OUT_OF_SCOPE_RECALL}")
    for failure in failures:
        print(f"QUALITY GATE FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
