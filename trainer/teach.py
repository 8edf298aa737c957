"""Teach: append examples to an intent's `examples: |` block, never duplicating one.

An example already under the same intent is skipped; one under another intent (or in the held-out
test set) refuses the whole batch with a message naming the intent and the file, and nothing is
written. The file is edited as text (trainer.yamltext), so comments and formatting stay.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from trainer.errors import TrainerError
from trainer.nludata import (
    ANNOTATION,
    HELD_OUT_DIR,
    TRAINING_DIR,
    Example,
    exact_key,
    example_key,
    load_examples,
)
from trainer.yamltext import append_to_block, parse, write_all

INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_NEW_INTENT_FILE = Path("bot/data/nlu/taught_intents.yml")


class ExampleConflict(TrainerError):
    """An example is already taught to another intent, or is part of the held-out test set."""


@dataclass
class TeachResult:
    path: Path
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already under this intent


def clean_examples(examples: list[str]) -> list[str]:
    """One line each, no blank ones, no entity annotations, no repeats within the batch."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in examples:
        text = " ".join(raw.split())
        if not text:
            continue
        if "\n" in raw.strip():
            raise TrainerError(f"an example is one message on one line: {raw!r}")
        if ANNOTATION.search(text):
            raise TrainerError(
                f"write the plain message without entity annotations ({text!r}): "
                "entities come from the spaCy pipeline"
            )
        if text.startswith(("/", "#")):
            raise TrainerError(f"an example cannot start with '/' or '#': {text!r}")
        if exact_key(text) not in seen:
            seen.add(exact_key(text))
            cleaned.append(text)
    return cleaned


def partition(
    *, repo_root: Path, intent: str, examples: list[str]
) -> tuple[list[str], list[str]]:
    """(new, already under `intent`); raise ExampleConflict if any is under another intent or held out."""
    existing: dict[str, list[Example]] = {}
    for example in load_examples(repo_root / TRAINING_DIR):
        existing.setdefault(example_key(example.text), []).append(example)
    held_out = {example_key(e.text): e for e in load_examples(repo_root / HELD_OUT_DIR)}
    new, skipped, conflicts = [], [], []
    for text in examples:
        key = example_key(text)
        others = [e for e in existing.get(key, []) if e.intent != intent]
        if others:
            where = ", ".join(f"{e.intent!r} ({e.path.relative_to(repo_root)})" for e in others)
            conflicts.append(f"{text!r} is already an example of {where}")
        elif key in held_out:
            e = held_out[key]
            conflicts.append(
                f"{text!r} is in the held-out test set ({e.intent!r}, {e.path.relative_to(repo_root)}): "
                "training on it would make the test meaningless"
            )
        elif exact_key(text) in {exact_key(e.text) for e in existing.get(key, [])}:
            skipped.append(text)
        else:
            new.append(text)
    if conflicts:
        raise ExampleConflict(
            "nothing was added; resolve these first (one message can only mean one intent):\n  - "
            + "\n  - ".join(conflicts)
        )
    return new, skipped


def _intent_entry_lines(lines: list[str], intent: str) -> tuple[int, int] | None:
    """(index after the last example line, indentation of example lines) of the intent's block."""
    header = re.compile(rf"^(\s*)-\s+intent\s*:\s*[\"']?{re.escape(intent)}[\"']?\s*(#.*)?$")
    for index, line in enumerate(lines):
        match = header.match(line)
        if not match:
            continue
        entry_indent = len(match.group(1))
        cursor = index + 1
        while cursor < len(lines):
            current = lines[cursor]
            stripped = current.strip()
            indent = len(current) - len(current.lstrip(" "))
            if stripped and not stripped.startswith("#") and indent <= entry_indent:
                break  # the next entry
            if re.match(r"^\s+examples\s*:\s*\|[-+]?\s*$", current):
                key_indent = indent
                last, example_indent = cursor, key_indent + 2
                body = cursor + 1
                first_seen = False
                while body < len(lines):
                    text = lines[body]
                    if text.strip() and len(text) - len(text.lstrip(" ")) <= key_indent:
                        break
                    if text.strip():
                        if not first_seen:
                            example_indent, first_seen = len(text) - len(text.lstrip(" ")), True
                        last = body
                    body += 1
                return last + 1, example_indent
            cursor += 1
        raise TrainerError(
            f"intent {intent!r} has no `examples: |` block to add to; edit that file by hand"
        )
    return None


def insert_examples(text: str, *, intent: str, examples: list[str], origin: str) -> str:
    lines = text.splitlines()
    found = _intent_entry_lines(lines, intent)
    if found is None:
        item = [f"- intent: {intent}", "  examples: |", *[f"    - {e}" for e in examples]]
        return append_to_block(text, "nlu", item)
    at, indent = found
    lines[at:at] = [" " * indent + f"- {e}" for e in examples]
    return "\n".join(lines) + "\n"


def check_written(text: str, *, intent: str, examples: list[str], origin: str) -> None:
    document = parse(text, origin=origin) or {}
    present = {
        example_key(line.strip()[2:])
        for entry in document.get("nlu") or []
        if isinstance(entry, dict) and entry.get("intent") == intent
        for line in str(entry.get("examples") or "").splitlines()
        if line.strip().startswith("- ")
    }
    missing = [e for e in examples if example_key(e) not in present]
    if missing:
        raise TrainerError(f"{origin}: could not place {missing} under {intent!r}; nothing was written")


def add_examples(
    *, repo_root: Path, intent: str, examples: list[str], nlu_file: str | Path | None = None,
    allow_new_intent: bool = False,
) -> TeachResult:
    """Append `examples` to `intent` (an existing intent unless allow_new_intent) in its NLU file."""
    if not INTENT_NAME.match(intent):
        raise TrainerError(f"intent names are lower_snake_case: {intent!r}")
    examples = clean_examples(examples)
    if not examples:
        raise TrainerError("no examples given")
    known: dict[str, Path] = {}
    for example in load_examples(repo_root / TRAINING_DIR):  # files in sorted order
        known.setdefault(example.intent, example.path)  # an intent in several files: taught into its first
    if intent not in known and not allow_new_intent:
        raise TrainerError(
            f"there is no intent {intent!r}; create it with `make new-intent NAME={intent}` "
            f"(known: {', '.join(sorted(known))})"
        )
    path = repo_root / nlu_file if nlu_file else known.get(intent, repo_root / DEFAULT_NEW_INTENT_FILE)
    if not path.resolve().is_relative_to((repo_root / TRAINING_DIR).resolve()):
        raise TrainerError(f"training examples belong under {TRAINING_DIR}/, not {path}")
    new, skipped = partition(repo_root=repo_root, intent=intent, examples=examples)
    result = TeachResult(path=path, skipped=skipped)
    if not new:
        return result
    text = path.read_text(encoding="utf-8") if path.exists() else 'version: "3.1"\n\nnlu:\n'
    updated = insert_examples(text, intent=intent, examples=new, origin=str(path))
    check_written(updated, intent=intent, examples=new, origin=str(path))
    write_all({path: updated})
    result.added = new
    return result


def examples_from_review(review_json: Path, *, cluster_ids: list[str]) -> list[str]:
    """The distinct phrasings of the chosen clusters of a `review --json` file."""
    try:
        clusters = json.loads(review_json.read_text())["clusters"]
    except (OSError, ValueError, KeyError) as error:
        raise TrainerError(
            f"{review_json} is not a review file written by `review --json`: {error}"
        ) from error
    if not cluster_ids:
        raise TrainerError("name the cluster(s) to take with --cluster ID (ids are in the review file)")
    by_id = {c["cluster_id"]: c for c in clusters}
    unknown = [c for c in cluster_ids if c not in by_id]
    if unknown:
        raise TrainerError(f"no cluster {unknown} in {review_json}")
    return [text for c in cluster_ids for text in by_id[c]["distinct_texts"]]
