"""Evaluate a trained model on NLU evaluation sets, the way a customer's message meets it.

    .venv-bot/bin/python scripts/nlu_eval.py --model models/current.tar.gz \
        --set dev=tests/nlu/dev --set frozen=tests/nlu/frozen --out results/nlu/eval.json

Loads the model once (in-process, Rasa's own parse with the FallbackClassifier) and, per set, reports:
accuracy on the billing intents and the weakest billing intent, out-of-scope recall (strictly
`out_of_scope`, and "not answered as billing": `out_of_scope` or `nlu_fallback`), the share of in-scope
messages wrongly rejected, and entity precision/recall/F1 per entity type (exact character spans, from
the sets' `[text](entity)` annotations). Writes the numbers as JSON for scripts/nlu_gate.py.

Sets named `frozen*` or `sealed*` are reported as aggregates only: their single messages are never printed
or written, so nobody patches training data from them (tests/nlu/frozen/README.md,
tests/nlu/sealed_dev/README.md). Other sets also get an errors file next to the JSON, for engineers to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # as scripts/env.sh
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

BILLING_INTENTS = (
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "dispute_charge", "request_human",
)
REJECTED = {"out_of_scope", "nlu_fallback"}
# Sets whose single messages nobody reads: the frozen sets (the measure) and the sealed development set (the
# judge of data and config changes, by its numbers alone).
AGGREGATES_ONLY = ("frozen", "sealed")
# Requests for the bot to act on a payment (issue 16, docs/contracts.md). The frozen set was written before
# they existed, so its how_to_pay also holds "pay this amount now" requests that the contract now gives to
# pay_bill: how many how_to_pay messages went to one of these is reported beside the strict accuracy, never
# counted as right.
PAYMENT_INTENTS = frozenset({
    "pay_bill", "update_payment_method", "change_autopay", "promise_to_pay", "request_payment_plan",
    "request_fee_waiver",
})
# Everything the bot is asked to do rather than tell (payments, arrangements, documents): frozen v2 has them.
ACTION_INTENTS = PAYMENT_INTENTS | {"change_paperless", "request_document", "email_document"}
ENTITY_TYPES = ("MONEY", "DATE", "account_number", "invoice_number", "charge_name")


@dataclass(frozen=True)
class Case:
    text: str
    intent: str
    entities: frozenset[tuple[int, int, str]]


def load_cases(path: Path) -> list[Case]:
    from rasa.shared.nlu.training_data.loading import load_data

    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    return [
        Case(
            text=message.get("text"),
            intent=message.get("intent"),
            entities=frozenset((e["start"], e["end"], e["entity"]) for e in message.get("entities") or []),
        )
        for file in files
        for message in load_data(str(file)).intent_examples
    ]


def ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


Span = tuple[int, int, str]


def found_entities(parse: dict) -> set[Span]:
    return {(e["start"], e["end"], e["entity"]) for e in parse.get("entities") or []}


def new_entity_counts() -> dict[str, Counter]:
    return {name: Counter() for name in ENTITY_TYPES}


def count_entities(counts: dict[str, Counter], gold: frozenset[Span], found: set[Span]) -> None:
    """One message's entities against its annotation: exact character spans, per entity type."""
    for name in ENTITY_TYPES:
        expected = {e for e in gold if e[2] == name}
        mine = {e for e in found if e[2] == name}
        counts[name]["tp"] += len(expected & mine)
        counts[name]["fp"] += len(mine - expected)
        counts[name]["fn"] += len(expected - mine)


def entity_scores(counts: dict[str, Counter]) -> dict[str, dict]:
    """Precision, recall and F1 per entity type (bench/entities.py scores the spaCy side alone with it)."""
    scores = {}
    for name, c in counts.items():
        precision, recall = ratio(c["tp"], c["tp"] + c["fp"]), ratio(c["tp"], c["tp"] + c["fn"])
        f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else None
        scores[name] = {"gold": c["tp"] + c["fn"], "precision": precision, "recall": recall, "f1": f1}
    return scores


def score(cases: list[Case], parses: list[dict]) -> tuple[dict, list[dict]]:
    per_intent: dict[str, Counter] = defaultdict(Counter)
    # The classifier's own answer, as `rasa test nlu` scores it: a FallbackClassifier prediction undone.
    classifier: dict[str, Counter] = defaultdict(Counter)
    classifier_predicted: Counter = Counter()
    errors = []
    entity_counts = new_entity_counts()
    for case, parse in zip(cases, parses, strict=True):
        predicted = parse["intent"]["name"]
        per_intent[case.intent]["total"] += 1
        per_intent[case.intent]["right"] += predicted == case.intent
        per_intent[case.intent]["rejected"] += predicted in REJECTED
        per_intent[case.intent]["answered_wrong"] += predicted != case.intent and predicted not in REJECTED
        per_intent[case.intent]["to_a_payment_intent"] += predicted in PAYMENT_INTENTS
        ranking = parse.get("intent_ranking") or []
        undone = ranking[1]["name"] if predicted == "nlu_fallback" and len(ranking) >= 2 else predicted
        classifier[case.intent]["total"] += 1
        classifier[case.intent]["right"] += undone == case.intent
        classifier_predicted[undone] += 1
        found = found_entities(parse)
        count_entities(entity_counts, case.entities, found)
        entity_wrong = {e for e in found if e[2] in ENTITY_TYPES} != set(case.entities)
        if predicted != case.intent or entity_wrong:
            errors.append(
                {
                    "text": case.text, "intent": case.intent, "predicted": predicted,
                    "confidence": round(parse["intent"].get("confidence") or 0.0, 3),
                    "ranking": [
                        (r["name"], round(r["confidence"], 3))
                        for r in (parse.get("intent_ranking") or [])[:3]
                    ],
                    "entities_expected": sorted(case.entities),
                    "entities_found": sorted(found),
                }
            )

    predicted_counts = Counter(parse["intent"]["name"] for parse in parses)
    billing = {i: per_intent[i] for i in BILLING_INTENTS if per_intent[i]["total"]}
    billing_accuracy = {i: ratio(c["right"], c["total"]) for i, c in billing.items()}
    in_scope = [c for i, c in per_intent.items() if i != "out_of_scope"]
    oos = per_intent.get("out_of_scope", Counter())
    how_to_pay = per_intent.get("how_to_pay", Counter())
    actions = [c for i, c in per_intent.items() if i in ACTION_INTENTS]
    entities = entity_scores(entity_counts)
    weakest = min(billing_accuracy.items(), key=lambda item: item[1]) if billing_accuracy else (None, None)
    summary = {
        "messages": len(cases),
        "macro_f1": macro_f1(per_intent, predicted_counts),
        "accuracy": ratio(sum(c["right"] for c in per_intent.values()), len(cases)),
        "billing_messages": sum(c["total"] for c in billing.values()),
        "billing_accuracy": ratio(
            sum(c["right"] for c in billing.values()), sum(c["total"] for c in billing.values())
        ),
        "billing_accuracy_by_intent": billing_accuracy,
        "weakest_billing_intent": {"intent": weakest[0], "accuracy": weakest[1]},
        "out_of_scope_messages": oos["total"],
        "out_of_scope_recall": ratio(oos["right"], oos["total"]),
        "out_of_scope_not_answered_as_billing": ratio(oos["rejected"], oos["total"]),
        "in_scope_wrongly_rejected": ratio(
            sum(c["rejected"] for c in in_scope), sum(c["total"] for c in in_scope)
        ),
        # What a lower fallback threshold trades rejections for: the customer gets another question's answer.
        "in_scope_answered_as_another_intent": ratio(
            sum(c["answered_wrong"] for c in in_scope), sum(c["total"] for c in in_scope)
        ),
        "accuracy_by_intent": {i: ratio(c["right"], c["total"]) for i, c in sorted(per_intent.items())},
        "how_to_pay_to_a_payment_intent": ratio(how_to_pay["to_a_payment_intent"], how_to_pay["total"]),
        "action_messages": sum(c["total"] for c in actions),
        "action_intents_accuracy": ratio(sum(c["right"] for c in actions), sum(c["total"] for c in actions)),
        "entities": entities,
        "classifier_only": {
            "macro_f1": macro_f1(classifier, classifier_predicted),
            "out_of_scope_recall": ratio(
                classifier["out_of_scope"]["right"], classifier["out_of_scope"]["total"]
            ),
        },
    }
    return summary, errors


# Short common messages ("thanks", "yes") of an independent set can equal a training example written long
# before it; those measure nothing, so the main numbers are also given without them.
EXCLUDING_COINCIDENT = ("messages", "billing_accuracy", "out_of_scope_recall", "in_scope_wrongly_rejected")


def training_keys(directory: Path) -> set[tuple[str, ...]]:
    from trainer.nludata import example_key, load_examples

    return {tuple(sorted(example_key(e.text).split())) for e in load_examples(directory)}


def seen_in_training(text: str, trained: set[tuple[str, ...]]) -> bool:
    """Equal to a training example when case, punctuation and word order are ignored
    (tests/nlu/test_data_quality.py's folding)."""
    from trainer.nludata import example_key

    return tuple(sorted(example_key(text).split())) in trained


def macro_f1(per_intent: dict[str, Counter], predicted_counts: Counter) -> float:
    """Unweighted mean F1 over every label that is expected or predicted (as scikit-learn's macro average
    in Rasa's intent_report.json: a predicted `nlu_fallback` is a label of its own)."""
    scores = []
    for label in set(per_intent) | set(predicted_counts):
        right, expected, predicted = (
            per_intent[label]["right"], per_intent[label]["total"], predicted_counts[label],
        )
        precision = right / predicted if predicted else 0.0
        recall = right / expected if expected else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return round(sum(scores) / len(scores), 4)


def render(name: str, summary: dict) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    weakest = summary["weakest_billing_intent"]
    unseen = summary["excluding_coincident"]
    lines = [
        f"### {name}: {summary['messages']} messages",
        "",
        "| measure | value |",
        "|---|---|",
        f"| billing intents accuracy ({summary['billing_messages']} messages) | "
        f"{pct(summary['billing_accuracy'])} |",
        f"| weakest billing intent | {weakest['intent']} {pct(weakest['accuracy'])} |",
        f"| out-of-scope recall ({summary['out_of_scope_messages']} messages) | "
        f"{pct(summary['out_of_scope_recall'])} |",
        f"| out-of-scope not answered as billing (out_of_scope or nlu_fallback) | "
        f"{pct(summary['out_of_scope_not_answered_as_billing'])} |",
        f"| in-scope messages wrongly rejected | {pct(summary['in_scope_wrongly_rejected'])} |",
        f"| in-scope messages answered as another intent | "
        f"{pct(summary['in_scope_answered_as_another_intent'])} |",
        f"| how_to_pay messages answered by a payment intent (pay_bill, autopay...; counted wrong) | "
        f"{pct(summary['how_to_pay_to_a_payment_intent'])} |",
        f"| action intents accuracy ({summary['action_messages']} messages: payments, arrangements, "
        f"documents) | {pct(summary['action_intents_accuracy'])} |",
        f"| all intents accuracy | {pct(summary['accuracy'])} |",
        f"| messages equal to a training example | {summary['coincident_with_training']} |",
        f"| without them: billing accuracy / out-of-scope recall / in-scope wrongly rejected | "
        f"{pct(unseen['billing_accuracy'])} / {pct(unseen['out_of_scope_recall'])} / "
        f"{pct(unseen['in_scope_wrongly_rejected'])} |",
        f"| intent macro-F1 | {pct(summary['macro_f1'])} |",
        f"| classifier only (fallback undone, as `rasa test nlu`): macro-F1 / out-of-scope recall | "
        f"{pct(summary['classifier_only']['macro_f1'])} / "
        f"{pct(summary['classifier_only']['out_of_scope_recall'])} |",
    ]
    for entity, e in summary["entities"].items():
        if e["gold"]:
            lines.append(f"| entity {entity} ({e['gold']} annotated) P / R / F1 | "
                         f"{pct(e['precision'])} / {pct(e['recall'])} / {pct(e['f1'])} |")
    lines += ["", "| billing intent | accuracy |", "|---|---|"]
    lines += [f"| {i} | {pct(a)} |" for i, a in summary["billing_accuracy_by_intent"].items()]
    return "\n".join(lines) + "\n"


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--set", action="append", required=True, metavar="NAME=PATH[,PATH...]",
                        help="an evaluation set: Rasa NLU YAML files or folders, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("results/nlu/eval.json"))
    parser.add_argument("--training", type=Path, default=REPO_ROOT / "bot" / "data",
                        help="training data: messages equal to a training example are also scored apart")
    args = parser.parse_args(argv)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)

    sets = dict(item.split("=", 1) for item in args.set)
    cases = {
        name: [case for path in paths.split(",") for case in load_cases(REPO_ROOT / path)]
        for name, paths in sets.items()
    }
    texts = sorted({case.text for group in cases.values() for case in group})
    parsed = dict(zip(texts, asyncio.run(parse_all(args.model, texts)), strict=True))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"model": args.model.name, "sets": {}}
    trained = training_keys(args.training)
    for name, group in cases.items():
        summary, errors = score(group, [parsed[case.text] for case in group])
        summary["path"] = sets[name]
        unseen = [case for case in group if not seen_in_training(case.text, trained)]
        unseen_summary, _ = score(unseen, [parsed[case.text] for case in unseen])
        summary["coincident_with_training"] = len(group) - len(unseen)
        summary["excluding_coincident"] = {key: unseen_summary[key] for key in EXCLUDING_COINCIDENT}
        report["sets"][name] = summary
        print(render(name, summary))
        if not name.startswith(AGGREGATES_ONLY):
            errors_file = args.out.with_name(f"{args.out.stem}-{name}-errors.json")
            errors_file.write_text(json.dumps(errors, indent=1) + "\n")
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
