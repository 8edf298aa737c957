"""`python -m trainer check` (run by `make validate` after `rasa data validate`): the checks Rasa
does not do. Errors fail; warnings are advice.

Errors: an intent with fewer than 2 examples, an intent in the NLU data but not the domain (or the
other way round), an example under two intents, the same example twice, an intent missing from the
held-out test set, a held-out example in the training data, a response still holding the TODO
placeholder of `make new-intent`. Warnings: fewer examples than recommended, an intent no rule or
story uses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from trainer.nludata import (
    DEV_DIR,
    TRAINING_DIR,
    Example,
    domain_intents,
    exact_key,
    example_key,
    load_examples,
    yaml_files,
)
from trainer.scaffold import DOMAIN, PLACEHOLDER
from trainer.yamltext import parse

HARD_MIN_EXAMPLES = 2
RECOMMENDED_EXAMPLES = 20
RECOMMENDED_HELD_OUT = 15
# Triggered by the handoff service only; never typed by a customer.
_NOT_TYPED = ("EXTERNAL_",)


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    intents: dict[str, tuple[int, int]] = field(default_factory=dict)  # training, held-out counts

    @property
    def ok(self) -> bool:
        return not self.errors

    def render(self) -> str:
        lines = ["| intent | training | held-out |", "|---|---|---|"]
        lines += [f"| {i} | {t} | {h} |" for i, (t, h) in sorted(self.intents.items())]
        lines += [""] + [f"WARNING: {w}" for w in self.warnings] + [f"ERROR: {e}" for e in self.errors]
        lines.append("data checks passed" if self.ok else f"data checks FAILED ({len(self.errors)} errors)")
        return "\n".join(lines)


def _used_in_dialogue(repo_root: Path) -> set[str]:
    used: set[str] = set()
    for path in yaml_files(repo_root / TRAINING_DIR):
        document = parse(path.read_text(encoding="utf-8"), origin=str(path))
        if not isinstance(document, dict):
            continue
        for entry in (document.get("rules") or []) + (document.get("stories") or []):
            for step in (entry or {}).get("steps") or []:
                if not isinstance(step, dict):
                    continue
                for part in [step, *(step.get("or") or [])]:  # `or:` lists alternative intents
                    if isinstance(part, dict) and "intent" in part:
                        used.add(str(part["intent"]))
    return used


def _check_counts(
    report: CheckReport, *, typed: list[str], domain_names: list[str] | None, train_counts: Counter[str],
    held_counts: Counter[str], minimum: int,
) -> None:
    """Every intent in the domain (domain_names; None without one), with enough examples on both sides."""
    for intent in typed:
        if domain_names is not None and intent not in domain_names:
            report.errors.append(f"intent {intent!r} has examples but is not in {DOMAIN}")
        if train_counts[intent] < minimum:
            report.errors.append(
                f"intent {intent!r} has {train_counts[intent]} training examples (need >= {minimum})"
            )
        elif train_counts[intent] < RECOMMENDED_EXAMPLES:
            report.warnings.append(
                f"intent {intent!r} has {train_counts[intent]} training examples; {RECOMMENDED_EXAMPLES}+ "
                "recommended"
            )
        if held_counts[intent] == 0:
            report.errors.append(f"intent {intent!r} is not in the held-out test set ({DEV_DIR}/)")
        elif held_counts[intent] < RECOMMENDED_HELD_OUT:
            report.warnings.append(
                f"intent {intent!r} has {held_counts[intent]} held-out examples; {RECOMMENDED_HELD_OUT}+ "
                "recommended"
            )
    for intent in sorted(set(held_counts) - set(typed)):
        report.errors.append(f"held-out intent {intent!r} is not trained")


def _check_duplicates(
    report: CheckReport, *, repo_root: Path, training: list[Example], held_out: list[Example]
) -> None:
    """No example under two intents or twice under one; none both in the training data and held out."""
    for name, examples in (("training data", training), ("held-out set", held_out)):
        owners: dict[str, set[str]] = defaultdict(set)
        places: dict[str, list[str]] = defaultdict(list)
        repeats: Counter[tuple[str, str]] = Counter()
        for e in examples:
            owners[example_key(e.text)].add(e.intent)
            places[example_key(e.text)].append(f"{e.intent} ({e.path.relative_to(repo_root)})")
            repeats[(e.intent, exact_key(e.text))] += 1
        for key, intents in sorted(owners.items()):
            if len(intents) > 1:
                report.errors.append(
                    f"{name}: {key!r} is an example of {', '.join(sorted(set(places[key])))}"
                )
        for (intent, text), count in sorted(repeats.items()):
            if count > 1:
                report.errors.append(f"{name}: {text!r} is listed {count} times under {intent!r}")
    trained_keys = {example_key(e.text): e for e in training}
    for e in held_out:
        if example_key(e.text) in trained_keys:
            report.errors.append(
                f"held-out example {e.text!r} ({e.path.relative_to(repo_root)}) is also in the training data"
            )


def _check_domain(report: CheckReport, *, repo_root: Path, domain_names: list[str]) -> None:
    """No placeholder response text left; every intent used by some rule or story."""
    domain_path = repo_root / DOMAIN
    domain = parse(domain_path.read_text(encoding="utf-8"), origin=str(domain_path)) or {}
    for response, variants in sorted((domain.get("responses") or {}).items()):
        for variant in variants or []:
            if isinstance(variant, dict) and PLACEHOLDER in str(variant.get("text", "")):
                report.errors.append(
                    f"response {response!r} still has the {PLACEHOLDER} placeholder text"
                )
    used = _used_in_dialogue(repo_root)
    for intent in domain_names:
        if intent not in used:
            report.warnings.append(f"intent {intent!r} appears in no rule or story")


def check_data(*, repo_root: Path, min_examples: int | None = None) -> CheckReport:
    minimum = min_examples or HARD_MIN_EXAMPLES
    report = CheckReport()
    training = load_examples(repo_root / TRAINING_DIR)
    held_out = load_examples(repo_root / DEV_DIR)
    train_counts = Counter(e.intent for e in training)
    held_counts = Counter(e.intent for e in held_out)
    domain_path = repo_root / DOMAIN
    domain_names = (
        [i for i in domain_intents(domain_path) if not i.startswith(_NOT_TYPED)]
        if domain_path.exists()
        else []
    )
    if not domain_path.exists():
        report.errors.append(f"no {DOMAIN}")
    typed = sorted(set(train_counts) | set(domain_names))
    report.intents = {i: (train_counts[i], held_counts[i]) for i in typed}
    _check_counts(
        report, typed=typed, domain_names=domain_names if domain_path.exists() else None,
        train_counts=train_counts, held_counts=held_counts, minimum=minimum,
    )
    _check_duplicates(report, repo_root=repo_root, training=training, held_out=held_out)
    if domain_path.exists():
        _check_domain(report, repo_root=repo_root, domain_names=domain_names)
    return report
