"""What a bot message was, read from the bot's own responses in domain.yml: an answer, a fallback (the bot did
not understand) or a question the customer still has to answer (a form's utter_ask_*, an invalid value).

The handoff service stores the text Rasa sent, not the response's name, so each response text of the domain is
turned into a pattern (`{slot}` matches any text) and a bot message is classified by the first one it matches.
A message that matches no fallback or question response (a balance, an explanation, a confirmation) is an
answer. Used by the supervisor reports (resolution measured by outcome, docs/contracts.md).
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

FALLBACK_RESPONSES = frozenset({"utter_default", "utter_ask_clarification", "utter_ask_rephrase",
                                "utter_out_of_scope", "utter_fallback_handover"})
_QUESTION_NAME = re.compile(r"^utter_ask_|_invalid$|^utter_verification_failed")
_SLOT = re.compile(r"\\\{[A-Za-z_][A-Za-z0-9_]*\\\}")


class BotTurn(StrEnum):
    ANSWER = "answer"
    FALLBACK = "fallback"
    QUESTION = "question"


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("^" + _SLOT.sub(lambda _: ".+?", re.escape(text.strip())) + "$", re.DOTALL)


def _kind(name: str) -> BotTurn | None:
    if name in FALLBACK_RESPONSES:
        return BotTurn.FALLBACK
    return BotTurn.QUESTION if _QUESTION_NAME.search(name) else None


class BotTurnClassifier:
    def __init__(self, responses: dict[str, list[dict]]):
        self._patterns: list[tuple[re.Pattern[str], BotTurn]] = []
        for name, variants in responses.items():
            kind = _kind(name)
            if kind is None:
                continue
            for variant in variants or []:
                text = variant.get("text") if isinstance(variant, dict) else None
                if isinstance(text, str) and text.strip():
                    self._patterns.append((_pattern(text), kind))

    def classify(self, text: str) -> BotTurn:
        stripped = text.strip()
        for pattern, kind in self._patterns:
            if pattern.match(stripped):
                return kind
        return BotTurn.ANSWER


@lru_cache(maxsize=4)
def classifier_for(domain_path: Path) -> BotTurnClassifier:
    """The classifier of the domain at `domain_path` (read once); no domain: every message is an answer."""
    try:
        domain = YAML(typ="safe", pure=True).load(domain_path.read_text(encoding="utf-8")) or {}
    except (OSError, YAMLError):
        domain = {}
    responses = domain.get("responses") if isinstance(domain, dict) else None
    return BotTurnClassifier(responses if isinstance(responses, dict) else {})
