"""Read Rasa NLU YAML: which examples exist, under which intent, in which file."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from trainer.yamltext import parse

TRAINING_DIR = Path("bot/data")
# Every evaluation set (teach refuses all of them); the development sets are the ones checked and reported.
HELD_OUT_DIR = Path("tests/nlu")
DEV_DIR = Path("tests/nlu/dev")
# Rasa's inline entity annotation: [text](entity) or [text]{"entity": ..}
ANNOTATION = re.compile(r"\[[^\]]+\]\s*[({]")
# [text](entity) -> text: evaluation sets annotate entities; the customer typed only the text.
_ANNOTATED_SPAN = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation if c not in "$"})


def example_key(text: str) -> str:
    """When two examples of different intents clash: case, whitespace and punctuation do not count
    (the folding of tests/nlu/test_data_quality.py, so whatever teach writes passes that test)."""
    return " ".join(text.casefold().translate(_PUNCTUATION).split())


def exact_key(text: str) -> str:
    """When an example repeats one of the same intent: case and whitespace do not count."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    path: Path


def yaml_files(directory: Path) -> list[Path]:
    if not directory.exists():
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def example_lines(block: object) -> list[str]:
    if not isinstance(block, str):
        return []
    return [
        _ANNOTATED_SPAN.sub(r"\1", line.strip()[2:].strip())
        for line in block.splitlines() if line.strip().startswith("- ")
    ]


def load_examples(directory: Path) -> list[Example]:
    examples = []
    for path in yaml_files(directory):
        document = parse(path.read_text(encoding="utf-8"), origin=str(path))
        if not isinstance(document, dict):
            continue
        for entry in document.get("nlu") or []:
            if isinstance(entry, dict) and "intent" in entry:
                intent = str(entry["intent"])
                examples += [Example(intent, text, path) for text in example_lines(entry.get("examples"))]
    return examples


def intent_files(directory: Path) -> dict[str, list[Path]]:
    files: dict[str, list[Path]] = {}
    for example in load_examples(directory):
        if example.path not in files.setdefault(example.intent, []):
            files[example.intent].append(example.path)
    return files


def domain_intents(domain_path: Path) -> list[str]:
    document = parse(domain_path.read_text(encoding="utf-8"), origin=str(domain_path)) or {}
    names = []
    for item in document.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names
