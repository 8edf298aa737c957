"""Button payloads and repeated texts skip the NLU components (bot/components/parse_shortcut.py, issue 20).

The components run in .venv-bot (tests/bot/parse_shortcut_check.py) on a small domain; the trained model's
parses with and without the shortcut are compared by bench/parse_shortcut_compare.py.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def check() -> dict:
    completed = subprocess.run([str(BOT_PYTHON), "tests/bot/parse_shortcut_check.py"],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_only_payloads_rasa_would_unpack_are_marked(check: dict) -> None:
    assert check["marks"] == {
        "/affirm": "payload",
        '/inform{"line_item_id": "li_7"}': "payload",
        "/unknown_intent": None,  # not an intent of the domain: the components parse it as text, as before
        "/ not a payload": None,
        "what's my balance": None,  # never parsed yet
    }


def test_a_guarded_component_skips_marked_messages_and_keeps_the_order(check: dict) -> None:
    assert check["guarded_order"] == ["/affirm", "hmm"]
    assert check["guarded_unsure_intent"] == "nlu_fallback"
    assert check["guarded_payload_intent"] is None


def test_a_payload_still_gets_its_intent_and_entities_from_rasa(check: dict) -> None:
    assert check["payload_parse"] == {
        "intent": "inform",
        "entities": [{"entity": "line_item_id", "value": "li_7", "start": 7, "end": 31,
                      "extractor": "RegexMessageHandler"}],
    }


def test_a_repeated_text_gets_the_stored_parse_but_keeps_its_own_id_and_metadata(check: dict) -> None:
    assert check["cached_marked"] is True
    assert check["cached_parse"] == {
        "intent": {"name": "check_balance", "confidence": 0.97},
        "entities": [{"entity": "MONEY", "value": "5"}],
        "message_id": "m2",
        "metadata": {"identity": "y"},
        "internal": None,  # only the parse's output is stored
        "shortcut_left": False,
        "intent_in_output": True,
    }
    assert check["cache_unchanged_by_caller"] is True


def test_the_cache_is_per_model_and_bounded(check: dict) -> None:
    assert check["other_model_marks"] is None
    assert check["lru_keeps"] == ["a", "c"]
