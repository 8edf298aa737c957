"""Run in .venv-bot by tests/bot/test_parse_shortcut.py: bot/components/parse_shortcut.py on a small domain.

    python tests/bot/parse_shortcut_check.py

Prints one JSON object with what the tests assert on.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402 - after the sys.path line
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.components.parse_shortcut import (  # noqa: E402
    PAYLOAD,
    SHORTCUT,
    GuardedFallbackClassifier,
    ParseCache,
    ParseShortcut,
    ParseShortcutMemo,
)

DOMAIN = Domain.from_dict({"intents": ["affirm", "check_balance", "inform"], "entities": ["line_item_id"]})


def context(model_id: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), model_id=model_id)


def message(text: str) -> Message:
    return Message(data={TEXT: text, "message_id": "m", "metadata": {"identity": "x"}})


def shortcut(text: str, marker: ParseShortcut) -> object:
    return marker.process([message(text)], DOMAIN)[0].get(SHORTCUT)


def main() -> None:
    out: dict[str, object] = {}
    marker = ParseShortcut.create({"cache_size": 10}, None, None, context("model-a"))  # type: ignore[arg-type]
    memo = ParseShortcutMemo.create({}, None, None, context("model-a"))  # type: ignore[arg-type]
    out["marks"] = {text: shortcut(text, marker) for text in (
        "/affirm", '/inform{"line_item_id": "li_7"}', "/unknown_intent", "/ not a payload",
        "what's my balance",
    )}

    # a guarded component leaves the marked message alone and still does its work on the others, in order
    fallback = GuardedFallbackClassifier.create(
        {**GuardedFallbackClassifier.get_default_config(), "threshold": 0.4}, None, None,  # type: ignore[arg-type]
        context("model-a"),
    )
    unsure, payload = message("hmm"), message("/affirm")
    unsure.set(INTENT, {"name": "check_balance", "confidence": 0.2}, add_to_output=True)
    payload.set(SHORTCUT, PAYLOAD)
    processed = fallback.process([payload, unsure])
    out["guarded_order"] = [m.get(TEXT) for m in processed]
    out["guarded_unsure_intent"] = unsure.get(INTENT)["name"]
    out["guarded_payload_intent"] = payload.get(INTENT)

    # a payload goes through the memo untouched, and RegexMessageHandler gives it the payload's parse
    button = marker.process([message('/inform{"line_item_id": "li_7"}')], DOMAIN)
    unpacked = RegexMessageHandler().process(memo.process(button), DOMAIN)[0]
    out["payload_parse"] = {"intent": unpacked.get(INTENT)["name"], "entities": unpacked.get(ENTITIES)}

    # a text parsed once is stored with its output (not the message's own text, id or metadata) ...
    first = message("what's my balance")
    marker.process([first], DOMAIN)
    first.set(INTENT, {"name": "check_balance", "confidence": 0.97}, add_to_output=True)
    first.set(ENTITIES, [{"entity": "MONEY", "value": "5"}], add_to_output=True)
    first.set("internal", "not an output")
    memo.process([first])
    # ... and the same text again is marked, skipped and given that parse (a copy: the cache stays as it was)
    again = Message(data={TEXT: "what's my balance", "message_id": "m2", "metadata": {"identity": "y"}})
    marker.process([again], DOMAIN)
    out["cached_marked"] = isinstance(again.get(SHORTCUT), dict)
    memo.process([again])
    out["cached_parse"] = copy.deepcopy({
        "intent": again.get(INTENT), "entities": again.get(ENTITIES), "message_id": again.get("message_id"),
        "metadata": again.get("metadata"), "internal": again.get("internal"),
        "shortcut_left": SHORTCUT in again.data, "intent_in_output": INTENT in again.output_properties,
    })
    again.get(ENTITIES).append({"entity": "changed"})
    third = message("what's my balance")
    memo.process(marker.process([third], DOMAIN))
    out["cache_unchanged_by_caller"] = third.get(ENTITIES) == [{"entity": "MONEY", "value": "5"}]

    # another model has its own cache
    other = ParseShortcut.create({"cache_size": 10}, None, None, context("model-b"))  # type: ignore[arg-type]
    out["other_model_marks"] = shortcut("what's my balance", other)

    cache = ParseCache(2)
    for text in ("a", "b", "a", "c"):
        cache.put(text, {"intent": text})
        cache.get("a")
    out["lru_keeps"] = sorted(key for key in ("a", "b", "c") if cache.get(key) is not None)
    sys.stdout.write(json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main()
