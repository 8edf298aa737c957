"""What Rasa does after every customer message with domain.yml's slot mappings (issue 20): the account check's
pending offer is reset by Rasa itself, and the action server is called only for a greeting or "what can you
do?" outside a form (the account check's offer before those responses), never for anything else.

Rasa's own ActionExtractSlots runs in .venv-bot (tests/bot/slot_mapping_check.py), with calls to the action
server recorded instead of made."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extracted() -> dict:
    completed = subprocess.run([str(BOT_PYTHON), "tests/bot/slot_mapping_check.py"],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_any_answer_but_yes_or_no_drops_the_pending_offer(extracted: dict) -> None:
    assert extracted["question while an offer waits"]["slots"] == {"account_check_pending": False}
    assert extracted["a misunderstood message"]["slots"] == {"account_check_pending": False}


@pytest.mark.parametrize("answer", ["yes to the offer", "no to the offer"])
def test_yes_or_no_keeps_it_for_the_account_check_rules(extracted: dict, answer: str) -> None:
    assert extracted[answer] == {"slots": {}, "called": []}


@pytest.mark.parametrize("case", ["greeting", "what can you do"])
def test_a_greeting_or_what_can_you_do_calls_the_offer_action_once(extracted: dict, case: str) -> None:
    assert extracted[case]["called"] == ["action_account_check_offer"]


@pytest.mark.parametrize(
    "case",
    [
        "question while an offer waits",
        "yes to the offer",
        "a misunderstood message",
        "question, nothing pending",
        "what can you do, inside a form",
        "thanks",
    ],
)
def test_no_other_message_calls_the_action_server(extracted: dict, case: str) -> None:
    assert extracted[case]["called"] == []
