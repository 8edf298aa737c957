"""The lighter spaCy setup (no parser; entity pipes run once, on the cased text, by
bot/components/spacy_entities.py) gives exactly what the full pipeline run twice gave."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

PIPELINE = REPO_ROOT / "build" / "spacy" / "en_billing"
PROBES = [
    "I was charged $45.20 on March 3 and my account is ACC-100001",
    "what is invoice INV-2025-000123 and the Late Fee on it",
    "why did i pay 30 dollars last tuesday",
]

# Typical billing phrasings (written for this test, not from an evaluation set) and the exact entities the
# built pipeline + CasedSpacyEntityExtractor give: docs/contracts.md's span convention ("Entities", issue 13).
TYPICAL = {
    "i sent 35 quid on the 4th, has it landed": [("MONEY", "35 quid"), ("DATE", "the 4th")],
    "could i settle about $210 by the 1st of next month": [
        ("MONEY", "$210"), ("DATE", "the 1st of next month"),
    ],
    "EUR 19.90 came out on 7th june": [("MONEY", "EUR 19.90"), ("DATE", "7th june")],
    "the 14.99 fee from 11/03 is wrong": [("DATE", "11/03")],  # a bare number is no money
    "my card paid this morning, balance on acct 100452?": [
        ("DATE", "this morning"), ("account_number", "100452"),
    ],
    "why is this month's bill higher than last month": [("DATE", "this month"), ("DATE", "last month")],
    "can i pay the rest next friday": [("DATE", "next friday")],
    "this is the 2nd time the late fee shows up": [("charge_name", "late fee")],
}
PROBES += list(TYPICAL)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def comparison() -> dict:
    built = subprocess.run([str(BOT_PYTHON), "bot/spacy_pipeline.py", "--out", str(PIPELINE)],
                           cwd=REPO_ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    completed = subprocess.run([str(BOT_PYTHON), "tests/bot/spacy_compare.py", str(PIPELINE), *PROBES],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_parser_is_gone_and_the_entity_pipes_are_left_to_the_extractor(comparison: dict) -> None:
    assert "parser" not in comparison["pipes"]
    assert {"entity_ruler", "ner"} <= set(comparison["disabled"])  # en_core_web_sm's senter is off too
    assert not {"entity_ruler", "ner"} & set(comparison["pipes"])


def test_tokens_and_lemmas_are_those_of_the_full_pipeline(comparison: dict) -> None:
    assert comparison["samples"] > 500, "a third of the NLU examples and development lines are compared"
    assert comparison["token_differences"] == []
    # Without the parse a few past participles get their verb's lemma ("got" -> "get"); measured: 4 of
    # 1,618 lines, and the NLU gates hold (bench/results/profile.md). Many more would mean a broken pipeline.
    assert len(comparison["lemma_differences"]) <= comparison["samples"] // 100, comparison[
        "lemma_differences"
    ]


def test_no_featurizer_reads_part_of_speech() -> None:
    """POS does change without the parse, so nothing in config.yml may depend on it."""
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    # Rasa's name, or the project's Guarded<name> subclass of it (bot/components/parse_shortcut.py)
    names = [(c["name"].rsplit(".", 1)[-1].removeprefix("Guarded"), c) for c in config["pipeline"]]
    lexical = [c for name, c in names if name == "LexicalSyntacticFeaturizer"]
    assert lexical and all("features" not in c for c in lexical), "Rasa's default features use no POS"
    assert not [c for name, c in names if name == "SpacyEntityExtractor"], \
        "Rasa's extractor would not find the disabled entity pipes; use CasedSpacyEntityExtractor"


def test_entities_are_those_of_the_full_pipeline_on_the_cased_text(comparison: dict) -> None:
    assert comparison["entity_differences"] == []


def test_ruler_and_ner_entities_come_out_of_the_component(comparison: dict) -> None:
    found = comparison["entities"]
    labels = {text: {entity for entity, *_ in entities} for text, entities in found.items()}
    assert {"MONEY", "DATE", "account_number"} <= labels[PROBES[0]]
    assert ("account_number", "ACC-100001") in {(e, v) for e, v, *_ in found[PROBES[0]]}
    assert {"invoice_number", "charge_name"} <= labels[PROBES[1]]
    assert "MONEY" in labels[PROBES[2]]


@pytest.mark.parametrize("text", list(TYPICAL))
def test_typical_billing_phrasings_follow_the_span_convention(comparison: dict, text: str) -> None:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    dimensions = next(
        c["dimensions"] for c in config["pipeline"] if c["name"].endswith("CasedSpacyEntityExtractor")
    )
    found = [(entity, value) for entity, value, *_ in comparison["entities"][text] if entity in dimensions]
    assert found == TYPICAL[text]
