"""`make new-intent`: the stubs Rasa loads, the refusals, and (slow) an intent that validates,
trains and passes its stub test story; then shipped to a running Rasa and rolled back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT, copy_repo, rasa_reads_nlu
from trainer.check import check_data
from trainer.errors import TrainerError
from trainer.nludata import domain_intents, load_examples
from trainer.scaffold import new_intent

# An intent the bot does not have (the payments issue added update_payment_method, the first choice here).
NAME = "ask_tax_exemption"
EXAMPLES = [
    "how do i get tax exempt status on my account",
    "we are a nonprofit, can you stop charging us sales tax",
    "where do i send our tax exemption certificate",
    "my organisation should not be paying tax on this",
    "tax exemption form",
    "can you take the tax off, we are exempt",
]
ANSWER = "Send your tax-exemption certificate to billing@example.com and we remove tax from your next bill."


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


def rasa_loads_project(repo: Path) -> dict:
    """Domain, stories/rules and NLU through Rasa's own importer (.venv-bot)."""
    script = (
        "import json, sys\n"
        "from rasa.shared.importers.importer import TrainingDataImporter\n"
        "root = sys.argv[1]\n"
        "i = TrainingDataImporter.load_from_dict(config_path=root + '/config.yml', "
        "domain_path=root + '/domain.yml', training_data_paths=[root + '/bot/data'])\n"
        "d = i.get_domain(); s = i.get_stories(); n = i.get_nlu_data()\n"
        "print(json.dumps({'intents': d.intents, 'responses': list(d.responses), "
        "'steps': [st.block_name for st in s.story_steps], 'nlu_intents': sorted(n.intents)}))\n"
    )
    completed = subprocess.run([str(BOT_PYTHON), "-c", script, str(repo)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_scaffold_creates_stubs_rasa_loads(repo: Path) -> None:
    domain_before = (repo / "domain.yml").read_text()
    result = new_intent(repo_root=repo, name=NAME, examples=EXAMPLES)
    assert len(result.training) == 5 and result.held_out == [EXAMPLES[4]]  # every 5th is held out
    domain_after = (repo / "domain.yml").read_text()
    # Only lines were added to the domain (comments and layout of the rest stay).
    assert [line for line in domain_after.splitlines() if line in set(domain_before.splitlines())] == \
        domain_before.splitlines()
    loaded = rasa_loads_project(repo)
    assert NAME in loaded["intents"] and NAME in loaded["nlu_intents"]
    assert f"utter_{NAME}" in loaded["responses"]
    assert f"answer {NAME}" in loaded["steps"]
    assert rasa_reads_nlu(repo / "tests/nlu/dev/taught_intents.yml") == {NAME: [EXAMPLES[4]]}
    story = (repo / "tests/stories/test_taught_intents.yml").read_text()
    assert f"intent: {NAME}" in story and f"action: utter_{NAME}" in story
    # The placeholder answer must be replaced before this can pass `make validate`.
    report = check_data(repo_root=repo)
    assert any("TODO placeholder" in e for e in report.errors)
    output = result.instructions()
    assert f"utter_{NAME}" in output and "docs/contracts.md" in output


def test_a_second_scaffold_appends_to_the_same_files(repo: Path) -> None:
    new_intent(repo_root=repo, name=NAME, examples=EXAMPLES[:2], test_examples=[EXAMPLES[2]])
    # phrasings no evaluation set can hold (an earlier paperless-billing phrase turned up in frozen v2)
    new_intent(repo_root=repo, name="ask_glow_sim_tray",
               examples=["do you sell the glow-in-the-dark sim tray",
                         "any glow in the dark sim trays in stock"],
               test_examples=["glow-in-the-dark sim tray price"])
    loaded = rasa_loads_project(repo)
    assert {NAME, "ask_glow_sim_tray"} <= set(loaded["intents"])
    stories = subprocess.run(
        [
            str(BOT_PYTHON), "-c",
            "import sys; from rasa.shared.core.training_data.story_reader.yaml_story_reader import "
            "YAMLStoryReader;print(len(YAMLStoryReader().read_from_file(sys.argv[1])))",
            str(repo / "tests/stories/test_taught_intents.yml"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert stories.stdout.strip().splitlines()[-1] == "2"


@pytest.mark.parametrize(
    ("name", "examples", "message"),
    [
        ("check_balance", EXAMPLES, "already exists"),
        ("UpdateCard", EXAMPLES, "lower_snake_case"),
        (NAME, EXAMPLES[:1], "at least 2 training examples"),
        (NAME, EXAMPLES[:2], "held-out example"),
    ],
)
def test_refusals_write_nothing(repo: Path, name: str, examples: list[str], message: str) -> None:
    before = {p: p.read_text() for p in repo.rglob("*.yml")}
    with pytest.raises(TrainerError, match=message):
        new_intent(repo_root=repo, name=name, examples=examples)
    assert {p: p.read_text() for p in repo.rglob("*.yml")} == before


def test_an_example_of_another_intent_is_a_conflict(repo: Path) -> None:
    balance = next(e.text for e in load_examples(repo / "bot/data") if e.intent == "check_balance")
    with pytest.raises(TrainerError, match="check_balance"):
        new_intent(repo_root=repo, name=NAME, examples=[*EXAMPLES, balance])
    assert NAME not in domain_intents(repo / "domain.yml")


def test_new_intent_command(repo: Path, tmp_path: Path) -> None:
    examples = tmp_path / "examples.txt"
    examples.write_text("\n".join(EXAMPLES) + "\n")
    completed = subprocess.run(
        [
            sys.executable, "-m", "trainer", "--repo", str(repo), "new-intent", NAME, "--examples-file",
            str(examples),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Now fill in" in completed.stdout and NAME in domain_intents(repo / "domain.yml")
