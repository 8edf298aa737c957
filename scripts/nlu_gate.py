"""Quality gates on the held-out NLU test set: fail (exit 1) when they drop.

    python scripts/nlu_gate.py results/nlu

Reads Rasa's intent_report.json and writes a short Markdown summary next to it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MIN_MACRO_F1 = 0.95
MIN_OUT_OF_SCOPE_RECALL = 0.85


def main(results_dir: str) -> int:
    report = json.loads((Path(results_dir) / "intent_report.json").read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    oos_recall = report.get("out_of_scope", {}).get("recall", 0.0)
    intents = sorted(k for k, v in report.items() if isinstance(v, dict) and "confused_with" in v)

    lines = [
        "# NLU on the held-out set",
        "",
        f"- intent macro-F1: **{macro_f1:.3f}** (gate >= {MIN_MACRO_F1})",
        f"- out_of_scope recall: **{oos_recall:.3f}** (gate >= {MIN_OUT_OF_SCOPE_RECALL})",
        "",
        "| intent | precision | recall | F1 | support | most confused with |",
        "|---|---|---|---|---|---|",
    ]
    for intent in intents:
        row = report[intent]
        confused = ", ".join(f"{name} ({count})" for name, count in row["confused_with"].items()) or "-"
        lines.append(
            f"| {intent} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1-score']:.2f} "
            f"| {row['support']} | {confused} |"
        )
    summary = "\n".join(lines) + "\n"
    (Path(results_dir) / "summary.md").write_text(summary)
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
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results/nlu"))
