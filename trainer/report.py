"""The NLU report a trainer reads after `make test-nlu`: per-intent F1 against the previous model,
the examples most confused, links to Rasa's confusion matrix and confidence histogram.

Each run's intent_report.json is archived under results/nlu/runs/<model>/ with an index, and the
comparison baseline is the latest run of a *different* model, so re-running the same model does not
erase the comparison.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNS = "runs"
MOST_CONFUSED = 10
IMAGES = {
    "intent confusion matrix": "intent_confusion_matrix.png",
    "intent confidence histogram": "intent_histogram.png",
}


@dataclass
class Baseline:
    model: str
    report: dict[str, Any]


def intents_of(report: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in report.items() if isinstance(v, dict) and "confused_with" in v)


def _index(results: Path) -> list[dict[str, Any]]:
    try:
        entries: list[dict[str, Any]] = json.loads((results / RUNS / "index.json").read_text())
        return entries
    except (OSError, ValueError):
        return []


def find_baseline(results: Path, model: str) -> Baseline | None:
    for entry in reversed(_index(results)):
        if entry["model"] != model:
            path = results / RUNS / entry["model"] / "intent_report.json"
            if path.exists():
                return Baseline(entry["model"], json.loads(path.read_text()))
    return None


def archive_run(results: Path, model: str, report: dict[str, Any]) -> None:
    run_dir = results / RUNS / model
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(results / "intent_report.json", run_dir / "intent_report.json")
    entries = [e for e in _index(results) if e["model"] != model]
    entries.append({
        "model": model,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
    })
    (results / RUNS / "index.json").write_text(json.dumps(entries, indent=2) + "\n")


def _delta(now: float, before: float | None, *, noise: float = 0.0, digits: int = 2) -> str:
    """`+0.10 up`, `-0.08 DOWN`; a change no bigger than `noise` (one held-out example's worth)
    is shown without a verdict, so a trainer does not chase a single message."""
    if before is None:
        return "new"
    change = now - before
    if abs(change) < 0.5 * 10**-digits:
        return "="
    text = f"{'+' if change > 0 else ''}{change:.{digits}f}"
    if abs(change) <= noise:
        return f"{text} (1 example)"
    return f"{text} {'up' if change > 0 else 'DOWN'}"


def render_summary(results: Path, report: dict[str, Any], *, model: str, baseline: Baseline | None,
                   gates: list[str]) -> str:
    macro = report["macro avg"]["f1-score"]
    lines = [f"# NLU on the held-out set: {model}", ""]
    if baseline:
        before = baseline.report["macro avg"]["f1-score"]
        lines.append(f"- intent macro-F1: **{macro:.3f}** (previous model {baseline.model}: {before:.3f}, "
                     f"{_delta(macro, before, digits=3)})")
    else:
        lines.append(f"- intent macro-F1: **{macro:.3f}** (no earlier model to compare with)")
    lines += [f"- {gate}" for gate in gates]
    lines += [
        "", "| intent | precision | recall | F1 | vs previous | support | most confused with |",
        "|---|---|---|---|---|---|---|",
    ]
    worse = []
    for intent in intents_of(report):
        row = report[intent]
        previous = (baseline.report.get(intent) or {}).get("f1-score") if baseline else None
        noise = 1.0 / row["support"] if row.get("support") else 0.0
        change = _delta(row["f1-score"], previous, noise=noise) if baseline else "-"
        if "DOWN" in change:
            worse.append(intent)
        confused = ", ".join(f"{name} ({count})" for name, count in row["confused_with"].items()) or "-"
        lines.append(
            f"| {intent} | {row['precision']:.2f} | {row['recall']:.2f} | {row['f1-score']:.2f} | {change} "
            f"| {row['support']} | {confused} |"
        )
    if baseline:
        gone = sorted(set(intents_of(baseline.report)) - set(intents_of(report)))
        lines += [
            "",
            "Intents that got worse (by more than one held-out example): "
            f"{', '.join(worse) if worse else 'none'}.",
        ]
        if gone:
            lines.append(f"Intents no longer tested: {', '.join(gone)}.")
    errors_path = results / "intent_errors.json"
    errors = json.loads(errors_path.read_text()) if errors_path.exists() else []
    errors.sort(key=lambda e: -(e.get("intent_prediction") or {}).get("confidence", 0.0))
    lines += ["", f"## Most confused examples ({len(errors)} misclassified)", ""]
    if errors:
        lines += ["| example | should be | predicted | confidence |", "|---|---|---|---|"]
        for error in errors[:MOST_CONFUSED]:
            prediction = error.get("intent_prediction") or {}
            lines.append(
                f"| {error.get('text', '').replace('|', '/')} | {error.get('intent')} | "
                f"{prediction.get('name')} | {prediction.get('confidence', 0.0):.2f} |"
            )
    else:
        lines.append("none")
    entity_reports = sorted(p for p in results.glob("*_report.json") if p.name != "intent_report.json")
    if entity_reports:
        lines += ["", "## Entities", ""]
        for path in entity_reports:
            data = json.loads(path.read_text())
            macro_entities = (data.get("macro avg") or {}).get("f1-score")
            if macro_entities is not None:
                lines.append(f"- {path.name.removesuffix('_report.json')}: macro-F1 {macro_entities:.3f}")
    images = [f"- {label}: [{name}]({name})" for label, name in IMAGES.items() if (results / name).exists()]
    if images:
        lines += ["", "## Images", "", *images]
    return "\n".join(lines) + "\n"
