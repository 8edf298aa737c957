"""Temporary copies of the repository's bot files: the trainer tools edit files, tests never edit
the real ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_PYTHON = REPO_ROOT / ".venv-bot" / "bin" / "python"
COPIED = [
    "config.yml", "domain.yml", "bot/data", "bot/components", "tests/nlu", "tests/stories", "scripts",
    "docs/contracts.md",
]


def copy_repo(destination: Path) -> Path:
    for relative in COPIED:
        source = REPO_ROOT / relative
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, target)
    return destination


def keep_few_examples(repo: Path, *, per_intent: int) -> None:
    """Keep the first `per_intent` examples of every intent block in the copy's NLU files (synonyms, lookups
    and regexes whole): a test of the training loop, not of the model, featurizes and trains a quarter of
    the data (session 14: test_train_and_ship was the slowest test in CI)."""
    for path in sorted((repo / "bot" / "data").rglob("*.yml")):
        kept: list[str] = []
        in_intent = False
        count = 0
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.startswith("- "):
                in_intent, count = line.startswith("- intent:"), 0
            elif in_intent and line.startswith("    - "):
                count += 1
                if count > per_intent:
                    continue
            kept.append(line)
        path.write_text("".join(kept), encoding="utf-8")


def rasa_reads_nlu(path: Path) -> dict[str, list[str]]:
    """Load an NLU file with Rasa's own RasaYAMLReader (.venv-bot): intent -> example texts."""
    script = (
        "import json, sys\n"
        "from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader\n"
        "data = RasaYAMLReader().read(sys.argv[1])\n"
        "out = {}\n"
        "for m in data.intent_examples: out.setdefault(m.get('intent'), []).append(m.get('text'))\n"
        "print(json.dumps(out))\n"
    )
    completed = subprocess.run(
        [str(BOT_PYTHON), "-c", script, str(path)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    import json

    return json.loads(completed.stdout.strip().splitlines()[-1])
