"""Entity precision/recall/F1 of the spaCy side alone, in seconds, without a trained Rasa model (issue 13).

    .venv-bot/bin/python bench/entities.py                        # the development sets
    .venv-bot/bin/python bench/entities.py --errors               # + every wrong message of those sets
    .venv-bot/bin/python bench/entities.py --set frozen=tests/nlu/frozen   # aggregates only, never messages

Entities do not depend on DIET: config.yml's only entity extractor is CasedSpacyEntityExtractor (spaCy's
entity_ruler + NER on the cased text, then bot/components/entity_spans.py), followed by the synonym mapper,
which changes values, not spans. So this runs that extractor's own `process` over the sets' annotated
messages and scores them with scripts/nlu_eval.py's span scoring: the numbers are the entity rows of
`make test-nlu` for any model trained from this tree.

The pipeline is the one `bot/spacy_pipeline.py` would build from this tree, made in memory (`--built PATH`
loads a built one instead), so a rule change is measured without touching the shared build/ folder.
Runs in .venv-bot (spaCy and Rasa).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bot"))

import yaml  # noqa: E402 - after the sys.path lines

from scripts.nlu_eval import (  # noqa: E402 - after the sys.path lines
    ENTITY_TYPES,
    Case,
    count_entities,
    entity_scores,
    found_entities,
    load_cases,
    new_entity_counts,
)

DEV_SETS = {
    "dev": "tests/nlu/dev/test_nlu.yml,tests/nlu/dev/payments.yml,tests/nlu/dev/documents.yml",
    "dev-independent": "tests/nlu/dev/independent_dev.yml",
}


def extractor_config() -> dict:
    """The extractor's settings in config.yml (its `dimensions`)."""
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"].rsplit(".", 1)[-1].removeprefix("Guarded") == "CasedSpacyEntityExtractor":
            return {key: value for key, value in component.items() if key != "name"}
    raise SystemExit("config.yml has no CasedSpacyEntityExtractor")


class Extractor:
    """CasedSpacyEntityExtractor.process on one text, as Rasa runs it."""

    def __init__(self, built: Path | None) -> None:
        import spacy
        import spacy_pipeline
        from rasa.nlu.utils.spacy_utils import SpacyModel

        from bot.components.spacy_entities import CasedSpacyEntityExtractor

        nlp = spacy.load(built) if built else spacy_pipeline.pipeline()
        self.model = SpacyModel(model=nlp, model_name=str(built or "in-memory"))
        self.component = CasedSpacyEntityExtractor(
            {**CasedSpacyEntityExtractor.get_default_config(), **extractor_config()}
        )

    def __call__(self, text: str) -> dict:
        from rasa.shared.nlu.constants import ENTITIES, TEXT
        from rasa.shared.nlu.training_data.message import Message

        message = Message(data={TEXT: text})
        self.component.process([message], self.model)
        return {"entities": message.get(ENTITIES, [])}


def evaluate(cases: list[Case], extract: Extractor) -> tuple[dict, list[dict]]:
    counts: dict[str, Counter] = new_entity_counts()
    errors = []
    for case in cases:
        parse = extract(case.text)
        found = {e for e in found_entities(parse) if e[2] in ENTITY_TYPES}
        count_entities(counts, case.entities, found)
        if found != set(case.entities):
            errors.append({
                "text": case.text,
                "missed": sorted((case.text[s:e], label) for s, e, label in case.entities - found),
                "extra": sorted((case.text[s:e], label) for s, e, label in found - case.entities),
            })
    return entity_scores(counts), errors


def render(name: str, messages: int, scores: dict) -> str:
    def f(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    lines = [f"### {name}: {messages} messages", "",
             "| entity | annotated | P | R | F1 |", "|---|---|---|---|---|"]
    lines += [
        f"| {entity} | {s['gold']} | {f(s['precision'])} | {f(s['recall'])} | {f(s['f1'])} |"
        for entity, s in scores.items() if s["gold"] or s["precision"] is not None
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", action="append", metavar="NAME=PATH[,PATH...]",
                        help="a set of Rasa NLU YAML files or folders (default: the development sets)")
    parser.add_argument("--built", type=Path, help="a built pipeline (build/spacy/en_billing) instead")
    parser.add_argument("--errors", action="store_true",
                        help="print the wrong messages (never a frozen set's)")
    parser.add_argument("--json", type=Path, help="also write the scores here")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    sets = dict(item.split("=", 1) for item in args.set) if args.set else DEV_SETS
    extract = Extractor(args.built)
    report = {}
    for name, paths in sets.items():
        cases = [case for path in paths.split(",") for case in load_cases(REPO_ROOT / path)]
        scores, errors = evaluate(cases, extract)
        report[name] = scores
        print(render(name, len(cases), scores))
        # A frozen set's single messages are never printed (tests/nlu/frozen/README.md).
        if args.errors and not name.startswith("frozen") and "frozen" not in paths:
            for error in errors:
                print(json.dumps(error, ensure_ascii=False))
            print()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
