"""Would a rule after the NLU win back in-scope messages refused as out of scope? Measured, not built.

    .venv-bot/bin/python bench/out_of_scope_refusals.py models/billing-<hash>.tar.gz

The bot refuses a message ("Sorry, I can only help with billing") when the NLU ranks out_of_scope first, or
falls back with out_of_scope leading by more than actions/dialogue.py's OUT_OF_SCOPE_MARGIN. The idea tried
here: when such a message speaks of the customer's own bill ("my bill", "my autopay", "I was charged"), ask
"Did you mean ...?" with the likeliest billing intents instead. Per set: in-scope messages refused, how many
of them a rule would catch and how many of those would get their own intent among the buttons (won back),
and out-of-scope messages refused that the rule would ask about instead (the cost: a clarification where a
plain refusal was right). Frozen and sealed sets: counts only, never a message. `--show` prints the
development sets' caught messages.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "scripts")]

from nlu_eval import AGGREGATES_ONLY, load_cases, parse_all  # noqa: E402

SETS = {
    "dev": ["tests/nlu/dev/test_nlu.yml", "tests/nlu/dev/payments.yml", "tests/nlu/dev/documents.yml"],
    "indep": ["tests/nlu/dev/independent_dev.yml"],
    "dev-v2": ["tests/nlu/dev/independent_dev_v2.yml"],
    "sealed": ["tests/nlu/sealed_dev"],
    "frozen": ["tests/nlu/frozen"],
    "frozen-v2": ["tests/nlu/frozen_v2"],
}
RULES = {
    "own bill words": re.compile(
        r"\bmy\s+(?:(?:last|latest|current|monthly|next|new|recent|whole|total|online|first|own)\s+)?"
        r"(?:bills?|balance|account|autopay|auto[\s-]?pay|direct debit|statement|invoice|payments?"
        r"|charges?|fees?|plan)\b"
        r"|\b(?:you|they)\s+(?:have\s+)?charged me\b|\bI (?:was|got|have been|been) (?:over)?charged\b",
        re.IGNORECASE,
    ),
    "autopay words": re.compile(
        r"auto[\s-]?pay|automatic|direct debit|auto[\s-]?debit|recurring payment|standing order",
        re.IGNORECASE,
    ),
}


def actions_constant(name: str) -> Any:
    """A literal of actions/dialogue.py, read from its source (.venv-bot lacks httpx to import actions)."""
    tree = ast.parse((REPO_ROOT / "actions" / "dialogue.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(name)


# the intents a "Did you mean ...?" button can name, and the action's thresholds
OFFERED = set(actions_constant("CLARIFICATION_TITLES"))
CANDIDATES = actions_constant("CLARIFICATION_CANDIDATES")
MIN_CONFIDENCE = actions_constant("MIN_CANDIDATE_CONFIDENCE")
OUT_OF_SCOPE_MARGIN = actions_constant("OUT_OF_SCOPE_MARGIN")


def ranking_of(parse: dict) -> list[tuple[str, float]]:
    return [
        (r["name"], float(r["confidence"]))
        for r in parse.get("intent_ranking") or []
        if r["name"] != "nlu_fallback"
    ]


def refused(parse: dict) -> bool:
    """What the bot answers with utter_out_of_scope (its rule, or action_handle_fallback's off-topic case)."""
    intent, ranking = parse["intent"]["name"], ranking_of(parse)
    if intent == "out_of_scope":
        return True
    if intent != "nlu_fallback" or not ranking or ranking[0][0] != "out_of_scope":
        return False
    likely = [c for c in ranking[:CANDIDATES] if c[0] in OFFERED and c[1] >= MIN_CONFIDENCE]
    return not likely or ranking[0][1] - likely[0][1] > OUT_OF_SCOPE_MARGIN


def buttons(parse: dict) -> list[str]:
    """The rule's suggestions: the likeliest offered intents below out_of_scope, however unlikely."""
    return [name for name, _ in ranking_of(parse) if name in OFFERED][:CANDIDATES]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", type=Path)
    parser.add_argument("--show", action="store_true", help="the development sets' caught messages")
    args = parser.parse_args()
    from rasa.utils.log_utils import configure_structlog

    # Rasa's structlog prints every parse (text included) at debug level: the frozen and sealed sets' messages
    # must never reach the terminal
    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)
    cases = {
        name: [c for path in paths for c in load_cases(REPO_ROOT / path)] for name, paths in SETS.items()
    }
    texts = sorted({case.text for group in cases.values() for case in group})
    parsed = dict(zip(texts, asyncio.run(parse_all(args.model, texts)), strict=True))
    print(f"model {args.model.name}\n")
    print("| rule | set | in-scope | refused | caught | won back | out of scope refused | asked instead |")
    print("|---|---|---|---|---|---|---|---|")
    shown = []
    for rule_name, rule in RULES.items():
        for name, group in cases.items():
            in_scope = [c for c in group if c.intent != "out_of_scope" and refused(parsed[c.text])]
            off_topic = [c for c in group if c.intent == "out_of_scope" and refused(parsed[c.text])]
            caught = [c for c in in_scope if rule.search(c.text)]
            won = [c for c in caught if c.intent in buttons(parsed[c.text])]
            asked = [c for c in off_topic if rule.search(c.text)]
            total = sum(c.intent != "out_of_scope" for c in group)
            print(
                f"| {rule_name} | {name} | {total} | {len(in_scope)} | {len(caught)} | {len(won)} | "
                f"{len(off_topic)} | {len(asked)} |"
            )
            if args.show and not name.startswith(AGGREGATES_ONLY):
                shown += [f"{rule_name} {name} in-scope {c.intent}: {c.text}" for c in caught]
                shown += [f"{rule_name} {name} out of scope: {c.text}" for c in asked]
    for line in shown:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
