"""Every entity the pipeline finds carries one extractor name, so `rasa test nlu` (make nlu-report) writes one
entity report, not one per name (it split them between CasedSpacyEntityExtractor, the name the billing
corrections gave the account numbers they add, and GuardedCasedSpacyEntityExtractor, the component's own)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

PIPELINE = REPO_ROOT / "build" / "spacy" / "en_billing"
# "account 100234" is an account number only by the billing corrections (bot/components/entity_spans.py);
# the money and the date are spaCy's NER and "ACC-100001" the entity_ruler's.
PROBES = [
    "my account 100234 was charged $12.50 on March 3",
    "is ACC-100001 the account with the Late Fee",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def check() -> dict:
    if not (PIPELINE / "meta.json").exists():
        built = subprocess.run([str(BOT_PYTHON), "bot/spacy_pipeline.py", "--out", str(PIPELINE)],
                               cwd=REPO_ROOT, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr[-3000:]
    completed = subprocess.run([str(BOT_PYTHON), "tests/bot/extractor_name_check.py", str(PIPELINE), *PROBES],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_every_entity_is_named_after_the_configured_extractor(check: dict) -> None:
    found = {(e["entity"], e["value"]) for first, _ in check["parses"].values() for e in first}
    # the corrections' own account number, spaCy's NER and the entity_ruler are all in the probes
    assert {("account_number", "100234"), ("MONEY", "$12.50"), ("account_number", "ACC-100001")} <= found
    names = {e["extractor"] for both in check["parses"].values() for parse in both for e in parse}
    assert names == {check["class"]}


def test_a_cached_parse_has_the_same_entities_and_names(check: dict) -> None:
    for text, (first, cached) in check["parses"].items():
        assert cached == first, text


def test_rasa_test_nlu_reports_one_extractor(check: dict) -> None:
    assert check["reported_extractors"] == [check["class"]]
