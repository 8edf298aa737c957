"""Run in .venv-bot by tests/bot/test_spacy_entities.py: the built pipeline against the full one.

"Full" is what the project used before the parser was dropped: en_core_web_sm + the same
entity_ruler, every pipe enabled, run twice (lower-cased for tokens, cased for entities), as Rasa's
SpacyNLP + SpacyEntityExtractor do. Prints one JSON object with every difference found.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import spacy
import yaml
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bot"))

import spacy_pipeline  # noqa: E402 - after the sys.path line

from bot.components.entity_spans import refine_entities  # noqa: E402 - after the sys.path line
from bot.components.spacy_entities import CasedSpacyEntityExtractor  # noqa: E402 - after the sys.path line

# Every third line (sorted, so always the same ones): about 900 lines keep every pattern covered in a third
# of the time two full spaCy passes over all of them took.
SAMPLE_EVERY = 3


def texts() -> list[str]:
    found: list[str] = []
    # Training data and the development sets (never the frozen set: a difference would print its messages).
    for path in sorted(
        [*(REPO_ROOT / "bot" / "data").rglob("*.yml"), *(REPO_ROOT / "tests" / "nlu" / "dev").glob("*.yml")]
    ):
        for entry in (yaml.safe_load(path.read_text()) or {}).get("nlu", []) or []:
            for line in str(entry.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    found.append(text)
    return found


def plain(text: str) -> str:
    """Training examples mark entities as [text](entity); the customer types only the text."""
    import re

    return re.sub(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}", lambda m: m.group(1) or m.group(2), text)


def main() -> None:
    built = spacy.load(sys.argv[1])
    full = spacy.load(spacy_pipeline.find_base_model())
    full.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER"}).add_patterns(
        spacy_pipeline.ruler_patterns(spacy_pipeline.charge_name_forms())
    )
    extractor = CasedSpacyEntityExtractor(
        {**CasedSpacyEntityExtractor.get_default_config(), "dimensions": None}
    )
    model = SpacyModel(model=built, model_name=sys.argv[1])
    extra = sys.argv[2:]
    samples = sorted({plain(t) for t in texts()})[::SAMPLE_EVERY] + extra
    token_differences, lemma_differences, entity_differences, entities_found = [], [], [], {}
    for text in samples:
        lower_built, lower_full = built(text.lower()), full(text.lower())
        if [t.text for t in lower_built] != [t.text for t in lower_full]:
            token_differences.append(text)
        # POS comes out different for some tokens (the attribute_ruler reads the parse), but no
        # featurizer in config.yml reads POS; lemmas feed CountVectorsFeaturizer.
        if [t.lemma_ for t in lower_built] != [t.lemma_ for t in lower_full]:
            lemma_differences.append(text)
        message = Message(data={TEXT: text})
        extractor.process([message], model)
        got = [(e["entity"], e["value"], e["start"], e["end"]) for e in message.get(ENTITIES, [])]
        # The full pipeline's entities, with the same billing corrections (tested alone in
        # test_entity_spans.py).
        full_entities = [{"entity": e.label_, "value": e.text, "start": e.start_char, "end": e.end_char}
                         for e in full(text).ents]
        want = [(e["entity"], e["value"], e["start"], e["end"]) for e in refine_entities(text, full_entities)]
        if got != want:
            entity_differences.append({"text": text, "got": got, "want": want})
        if text in extra:
            entities_found[text] = got
    print(json.dumps({
        "samples": len(samples),
        "pipes": built.pipe_names,
        "disabled": list(built.disabled),
        "token_differences": token_differences,
        "lemma_differences": lemma_differences,
        "entity_differences": entity_differences,
        "entities": entities_found,
    }))


if __name__ == "__main__":
    main()
