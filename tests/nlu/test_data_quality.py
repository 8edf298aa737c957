"""Checks on the NLU training data (bot/data) and the evaluation sets (tests/nlu/dev, tests/nlu/frozen).

An evaluation set only measures something if it is never trained on, so overlap is checked with a
normalisation stricter than case and whitespace (punctuation is ignored too). The frozen set is only
counted here, never printed: its messages must not be read to patch training data (its README).
"""

from __future__ import annotations

import hashlib
import re
import string
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_DIR = REPO_ROOT / "bot" / "data"
HELD_OUT_DIR = REPO_ROOT / "tests" / "nlu" / "dev"
FROZEN_DIR = REPO_ROOT / "tests" / "nlu" / "frozen"
# v2 (session 17): written against the contract with the payment intents, by a new independent writer
FROZEN_V2_DIR = REPO_ROOT / "tests" / "nlu" / "frozen_v2"
FROZEN_DIRS = [pytest.param(FROZEN_DIR, id="frozen"), pytest.param(FROZEN_V2_DIR, id="frozen_v2")]
# Session 19: the development set judged by its numbers alone, never read (its README)
SEALED_DEV_DIR = REPO_ROOT / "tests" / "nlu" / "sealed_dev"
UNREAD_DIRS = [*FROZEN_DIRS, pytest.param(SEALED_DEV_DIR, id="sealed_dev")]
CONTRACT = REPO_ROOT / "docs" / "contracts.md"
SYNONYM_FILE = TRAINING_DIR / "nlu" / "synonyms.yml"

BILLING_INTENTS = {
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "dispute_charge", "request_human", "inform",
}
MIN_TRAINING_BILLING = 40
MIN_TRAINING_OTHER = 20
MIN_TRAINING_OUT_OF_SCOPE = 80
MIN_HELD_OUT = 15
MIN_HELD_OUT_OUT_OF_SCOPE = 25
CANONICAL_CHARGE_TYPES = {
    "plan", "usage", "one_time", "equipment", "late_fee", "tax", "proration", "discount",
}
# Rasa's inline entity annotation: [text](entity), [text]{"entity": ..}
ANNOTATION = re.compile(r"\[[^\]]+\]\s*[({]")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation if c not in "$"})


def contract_intents() -> set[str]:
    """The intent list in docs/contracts.md ("Rasa NLU names")."""
    text = CONTRACT.read_text(encoding="utf-8")
    match = re.search(r"^Intents:(.*?)\(\+", text, flags=re.MULTILINE | re.DOTALL)
    assert match, "docs/contracts.md lost its 'Intents:' line"
    return set(re.findall(r"`?\b([a-z_]+)\b`?", match.group(1)))


def loose(text: str) -> str:
    """Case, whitespace and punctuation folded: 'Thank you!' == 'thank  you'."""
    return " ".join(text.lower().translate(_PUNCTUATION).split())


def exact(text: str) -> str:
    return " ".join(text.lower().split())


def example_lines(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def nlu_entries(directory: Path) -> list[tuple[Path, dict]]:
    entries = []
    for path in sorted(list(directory.rglob("*.yml")) + list(directory.rglob("*.yaml"))):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in document.get("nlu", []) or []:
            entries.append((path, entry))
    return entries


ANNOTATED_SPAN = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def intent_examples(directory: Path, *, plain: bool = False) -> dict[str, list[str]]:
    """Examples by intent; `plain` turns `[text](entity)` annotations into the text a customer typed."""
    examples: dict[str, list[str]] = defaultdict(list)
    for _, entry in nlu_entries(directory):
        if "intent" in entry:
            lines = example_lines(entry.get("examples", ""))
            examples[entry["intent"]].extend(
                ANNOTATED_SPAN.sub(r"\1", line) if plain else line for line in lines
            )
    return dict(examples)


@pytest.fixture(scope="module")
def training() -> dict[str, list[str]]:
    return intent_examples(TRAINING_DIR)


@pytest.fixture(scope="module")
def held_out() -> dict[str, list[str]]:
    return intent_examples(HELD_OUT_DIR, plain=True)


def test_every_contract_intent_is_trained_and_tested(training, held_out):
    intents = contract_intents()
    assert len(intents) == 29  # 19 + 8 payment intents (issue 16) + request_document, email_document (19)
    assert set(training) == intents, (
        f"training: missing {intents - set(training)}, extra {set(training) - intents}"
    )
    assert set(held_out) == intents, (
        f"held-out: missing {intents - set(held_out)}, extra {set(held_out) - intents}"
    )


def test_training_has_enough_examples_per_intent(training):
    too_few = {}
    for intent, examples in training.items():
        if intent in BILLING_INTENTS:
            minimum = MIN_TRAINING_BILLING
        elif intent == "out_of_scope":
            minimum = MIN_TRAINING_OUT_OF_SCOPE
        else:
            minimum = MIN_TRAINING_OTHER
        if len(examples) < minimum:
            too_few[intent] = (len(examples), minimum)
    assert not too_few, f"(have, need): {too_few}"


def test_held_out_has_enough_examples_per_intent(held_out):
    too_few = {
        intent: len(examples)
        for intent, examples in held_out.items()
        if len(examples) < (MIN_HELD_OUT_OUT_OF_SCOPE if intent == "out_of_scope" else MIN_HELD_OUT)
    }
    assert not too_few, too_few


def test_no_held_out_example_is_in_the_training_data(training, held_out):
    trained = {loose(text) for examples in training.values() for text in examples}
    leaked = sorted(text for examples in held_out.values() for text in examples if loose(text) in trained)
    assert not leaked, f"held-out examples also in training data: {leaked}"


def test_no_held_out_example_is_a_reordering_of_a_training_example(training, held_out):
    # "correct yes" vs "yes correct": the same bag of words is the same example for count features.
    trained = {tuple(sorted(loose(text).split())) for examples in training.values() for text in examples}
    reordered = sorted(
        text
        for examples in held_out.values()
        for text in examples
        if tuple(sorted(loose(text).split())) in trained
    )
    assert not reordered, f"held-out examples whose words equal a training example's: {reordered}"


@pytest.mark.parametrize("which", ["training", "held_out"])
def test_no_example_is_listed_twice(which, request):
    data: dict[str, list[str]] = request.getfixturevalue(which)
    intents_by_text: dict[str, set[str]] = defaultdict(set)
    counts: Counter[tuple[str, str]] = Counter()
    for intent, examples in data.items():
        for text in examples:
            intents_by_text[loose(text)].add(intent)
            counts[(intent, exact(text))] += 1
    across = {text: sorted(intents) for text, intents in intents_by_text.items() if len(intents) > 1}
    repeated = sorted(key for key, n in counts.items() if n > 1)
    assert not across, f"examples under two intents: {across}"
    assert not repeated, f"repeated examples: {repeated}"


def test_training_examples_carry_no_entity_annotations():
    # Entities come from the spaCy pipeline; annotations here would train DIET on a different scheme.
    # (Evaluation sets may carry them: scripts/nlu_eval.py scores the entities against them.)
    annotated = [
        text
        for examples in intent_examples(TRAINING_DIR).values()
        for text in examples
        if ANNOTATION.search(text)
    ]
    assert not annotated, annotated


def synonyms() -> dict[str, list[str]]:
    forms: dict[str, list[str]] = defaultdict(list)
    for _, entry in nlu_entries(TRAINING_DIR):
        if "synonym" in entry:
            forms[str(entry["synonym"])].extend(example_lines(entry.get("examples", "")))
    return dict(forms)


def test_all_synonyms_live_in_one_file():
    # bot/spacy_pipeline.py builds the charge_name entity_ruler from these: one file keeps them findable.
    files = {path for path, entry in nlu_entries(TRAINING_DIR) if "synonym" in entry}
    assert files == {SYNONYM_FILE}


def test_synonyms_map_every_form_to_exactly_one_canonical_charge_type():
    forms = synonyms()
    assert set(forms) == CANONICAL_CHARGE_TYPES
    owners: dict[str, set[str]] = defaultdict(set)
    for canonical, surface_forms in forms.items():
        assert surface_forms, f"{canonical} has no surface forms"
        for form in surface_forms:
            owners[form.lower()].add(canonical)
    ambiguous = {form: sorted(c) for form, c in owners.items() if len(c) > 1}
    assert not ambiguous, ambiguous
    # the examples, e.g. "late payment charge" -> late_fee
    expected = {
        "late payment charge": "late_fee", "penalty fee": "late_fee", "data overage": "usage",
        "partial month charge": "proration", "regulatory fee": "tax", "modem rental": "equipment",
        "activation fee": "one_time", "subscription": "plan", "promotional credit": "discount",
    }
    assert {form: owners[form] for form in expected} == {form: {c} for form, c in expected.items()}


def test_charge_name_lookup_lists_exactly_the_synonym_forms():
    lookups = [entry for _, entry in nlu_entries(TRAINING_DIR) if entry.get("lookup") == "charge_name"]
    assert len(lookups) == 1
    lookup_forms = example_lines(lookups[0]["examples"])
    synonym_forms = [form for forms in synonyms().values() for form in forms]
    assert sorted(lookup_forms) == sorted(synonym_forms)


def regexes() -> dict[str, list[re.Pattern]]:
    patterns: dict[str, list[re.Pattern]] = defaultdict(list)
    for _, entry in nlu_entries(TRAINING_DIR):
        if "regex" in entry:
            patterns[entry["regex"]].extend(re.compile(p) for p in example_lines(entry["examples"]))
    return dict(patterns)


@pytest.mark.parametrize(
    ("name", "text", "matches"),
    [
        ("account_number", "my account is ACC-100234", True),
        ("account_number", "acc100234", True),
        ("account_number", "Acc-100004 zip 94107", True),
        ("account_number", "ACC-10023", False),
        ("account_number", "ACC-1002345", False),
        ("invoice_number", "INV-2025-000123", True),
        ("invoice_number", "the one on inv-2026-000342 please", True),
        ("invoice_number", "INV-25-000123", False),
        ("postal_code", "zip is 94107", True),
        ("postal_code", "last four 4821", False),
        ("postal_code", "$1,204.10", False),
    ],
)
def test_regex_features(name, text, matches):
    found = any(pattern.search(text) for pattern in regexes()[name])
    assert found is matches


def frozen_coincidences_allowed(folder: Path) -> set[str]:
    lines = (folder / "coincident_with_training.sha256").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize("folder", UNREAD_DIRS)
def test_no_frozen_example_was_added_to_the_training_data(training, folder):
    # Counted, never printed: nobody reads the frozen and sealed sets (tests/nlu/frozen/README.md). The
    # recorded hashes are the short common phrases that the training data had before the set was frozen.
    trained = {tuple(sorted(loose(text).split())) for examples in training.values() for text in examples}
    found = {
        hashlib.sha256(" ".join(sorted(loose(text).split())).encode()).hexdigest()
        for examples in intent_examples(folder, plain=True).values()
        for text in examples
        if tuple(sorted(loose(text).split())) in trained
    }
    added = found - frozen_coincidences_allowed(folder)
    assert not added, f"{len(added)} frozen evaluation message(s) are now in the training data: remove them"


@pytest.mark.parametrize("folder", FROZEN_DIRS)
def test_frozen_set_is_large_enough_to_measure(folder):
    frozen = intent_examples(folder, plain=True)
    assert sum(len(examples) for examples in frozen.values()) >= 800
    assert len(frozen.get("out_of_scope", [])) >= 300
    billing = BILLING_INTENTS - {"inform"}
    assert all(len(frozen.get(intent, [])) >= 40 for intent in billing)


def test_sealed_development_set_can_judge_each_billing_intent():
    sealed = intent_examples(SEALED_DEV_DIR, plain=True)
    assert sum(len(examples) for examples in sealed.values()) >= 700
    assert len(sealed.get("out_of_scope", [])) >= 200
    assert all(len(sealed.get(intent, [])) >= 25 for intent in BILLING_INTENTS)
