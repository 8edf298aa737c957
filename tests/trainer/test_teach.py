"""Teaching examples keeps the YAML valid for Rasa, keeps comments, refuses duplicates and conflicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.trainer.repo_copy import REPO_ROOT, copy_repo, rasa_reads_nlu
from trainer.errors import TrainerError
from trainer.nludata import load_examples
from trainer.teach import ExampleConflict, add_examples

BILLING = Path("bot/data/nlu/billing_questions.yml")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def test_examples_are_appended_to_the_intent_and_rasa_reads_them(repo: Path) -> None:
    before = (repo / BILLING).read_text()
    result = add_examples(
        repo_root=repo, intent="how_to_pay",
        examples=["where do i send a check for my bill", "can I pay with a money order?"],
    )
    assert result.path == repo / BILLING and len(result.added) == 2
    after = (repo / BILLING).read_text()
    # Only lines were added: every original line is still there, in order (comments included).
    original = before.splitlines()
    kept = [line for line in after.splitlines() if line in set(original)]
    assert kept == original
    assert len(after.splitlines()) == len(original) + 2
    by_rasa = rasa_reads_nlu(repo / BILLING)
    assert "where do i send a check for my bill" in by_rasa["how_to_pay"]
    assert "can I pay with a money order?" in by_rasa["how_to_pay"]
    # The other intents of the file are untouched.
    for intent, texts in by_rasa.items():
        if intent != "how_to_pay":
            assert texts == [e.text for e in load_examples(REPO_ROOT / "bot/data")
                             if e.intent == intent and e.path.name == Path(BILLING).name]


def test_an_example_already_there_is_skipped_not_duplicated(repo: Path) -> None:
    existing = next(e.text for e in load_examples(repo / "bot/data") if e.intent == "check_balance")
    result = add_examples(repo_root=repo, intent="check_balance", examples=[f"  {existing.upper()}  "])
    assert result.added == [] and result.skipped
    assert [e.text for e in load_examples(repo / "bot/data")].count(existing) == 1


def test_an_example_of_another_intent_is_refused_and_nothing_is_written(repo: Path) -> None:
    balance = next(e.text for e in load_examples(repo / "bot/data") if e.intent == "check_balance")
    before = {p: p.read_text() for p in (repo / "bot/data").rglob("*.yml")}
    with pytest.raises(ExampleConflict) as refused:
        add_examples(repo_root=repo, intent="how_to_pay", examples=["a brand new phrasing", balance.title()])
    assert "check_balance" in str(refused.value) and "billing_questions.yml" in str(refused.value)
    assert {p: p.read_text() for p in before} == before


def test_held_out_examples_are_refused(repo: Path) -> None:
    held_out = next(e.text for e in load_examples(repo / "tests/nlu"))
    with pytest.raises(ExampleConflict, match="held-out"):
        add_examples(repo_root=repo, intent="how_to_pay", examples=[held_out])


@pytest.mark.parametrize(
    ("examples", "message"),
    [([], "no examples"), (["[late fee](charge_name) please"], "annotations"), (["/greet"], "cannot start")],
)
def test_bad_examples_get_a_clear_error(repo: Path, examples: list[str], message: str) -> None:
    with pytest.raises(TrainerError, match=message):
        add_examples(repo_root=repo, intent="how_to_pay", examples=examples)


def test_unknown_intent_points_to_new_intent(repo: Path) -> None:
    with pytest.raises(TrainerError, match="make new-intent NAME=ask_tax_exemption"):
        add_examples(repo_root=repo, intent="ask_tax_exemption", examples=["we are tax exempt"])


def test_teach_command_from_a_review_file(repo: Path, sqlite_tracker_url: str, tmp_path: Path) -> None:
    review = tmp_path / "review.json"
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trainer", "--repo", str(repo), *args],
            cwd=REPO_ROOT, capture_output=True, text=True,
        )

    assert run("review", "--database-url", sqlite_tracker_url, "--json", "--out", str(review)).returncode == 0
    import json

    cluster = json.loads(review.read_text())["clusters"][0]
    taught = run(
        "teach", "--intent", "how_to_pay", "--from-review", str(review), "--cluster", cluster["cluster_id"]
    )
    assert taught.returncode == 0, taught.stderr
    assert "added 3 example(s)" in taught.stdout
    assert set(cluster["distinct_texts"]) <= set(rasa_reads_nlu(repo / BILLING)["how_to_pay"])
    again = run(
        "teach", "--intent", "check_balance", "--from-review", str(review), "--cluster", cluster["cluster_id"]
    )
    assert again.returncode == 2 and "already an example of 'how_to_pay'" in again.stderr
    assert "Traceback" not in again.stderr
