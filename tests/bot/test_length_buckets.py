"""DIET trained on length-bucketed batches (bot/components/length_buckets.py).

The generator and a real DIET training run in .venv-bot (tests/bot/length_buckets_check.py).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> dict:
    completed = subprocess.run(
        [str(BOT_PYTHON), "tests/bot/length_buckets_check.py", str(tmp_path_factory.mktemp("buckets"))],
        cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3",
             "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_every_epoch_sees_every_example_once(check: dict) -> None:
    for epoch in check["bucketed"]["epochs"]:
        assert epoch["lengths_seen"] == check["lengths"]


def test_the_batch_size_still_grows_as_rasa_s_does(check: dict) -> None:
    sizes = [epoch["batch_size"] for epoch in check["bucketed"]["epochs"]]
    assert sizes == [epoch["batch_size"] for epoch in check["rasa"]["epochs"]] == [16, 24, 32]


def test_batches_hold_messages_of_similar_length(check: dict) -> None:
    for epoch in check["bucketed"]["epochs"]:
        assert epoch["first_batch"] == sorted(epoch["first_batch"])
    for bucketed, rasa in zip(check["bucketed"]["epochs"], check["rasa"]["epochs"], strict=True):
        assert bucketed["padded_tokens"] < 0.7 * rasa["padded_tokens"]


def test_diet_trains_with_the_bucketed_generator_only_when_asked_and_puts_rasa_s_back(check: dict) -> None:
    # made once: by the training with a window of 2, not by the one with the default window 0
    assert check["diet"] == {
        "generators_made_with_window": [2],
        "create_data_generators_restored": True,
        "parsed_intent_exists": True,
    }
