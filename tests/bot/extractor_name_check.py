"""Run in .venv-bot by tests/bot/test_entity_extractor_name.py: the entity extractor config.yml names, on the
built spaCy pipeline, with the parse shortcut around it as in the pipeline (first parse, then the cached one).

    python tests/bot/extractor_name_check.py build/spacy/en_billing TEXT...

Prints one JSON object: the extractor's class name, each text's entities (first and cached parse) and the
extractor names `rasa test nlu` reports results under (one report per name).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402 - after the sys.path line
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor  # noqa: E402
from rasa.nlu.test import EntityEvaluationResult, _get_active_entity_extractors  # noqa: E402
from rasa.nlu.utils.spacy_utils import SpacyModel  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.nlu.constants import ENTITIES, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.components.parse_shortcut import ParseShortcut, ParseShortcutMemo  # noqa: E402


def configured_extractor() -> tuple[type, dict]:
    """The pipeline's spaCy entity extractor and its settings, as config.yml names them (DIET finds no
    entities: entity_recognition false; the synonym mapper only changes values)."""
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    found = []
    for component in config["pipeline"]:
        module, _, name = component["name"].rpartition(".")
        if not module:
            continue  # one of Rasa's own, named without a module
        cls = getattr(importlib.import_module(module), name)
        if issubclass(cls, SpacyEntityExtractor):
            found.append((cls, {k: v for k, v in component.items() if k != "name"}))
    assert len(found) == 1, found
    return found[0]


def main() -> None:
    import spacy

    cls, settings = configured_extractor()
    extractor = cls({**cls.get_default_config(), **settings})
    model = SpacyModel(model=spacy.load(sys.argv[1]), model_name=sys.argv[1])
    context = ExecutionContext(GraphSchema({}), model_id="extractor-name-check")
    marker = ParseShortcut.create({"cache_size": 10}, None, None, context)  # type: ignore[arg-type]
    memo = ParseShortcutMemo.create({}, None, None, context)  # type: ignore[arg-type]
    domain = Domain.from_dict({"intents": ["check_balance"]})
    parses: dict[str, list[list[dict]]] = {}
    for text in sys.argv[2:]:
        for _ in ("first", "cached"):
            message = Message(data={TEXT: text})
            memo.process(extractor.process(marker.process([message], domain), model))
            parses.setdefault(text, []).append(message.get(ENTITIES, []))
    results = [EntityEvaluationResult([], entities, [], text)
               for text, both in parses.items() for entities in both]
    sys.stdout.write(json.dumps({
        "class": cls.__name__,
        "parses": parses,
        "reported_extractors": sorted(_get_active_entity_extractors(results)),
    }) + "\n")


if __name__ == "__main__":
    main()
