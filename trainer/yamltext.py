"""Careful text edits of Rasa YAML files: insert lines into a block, keep everything else byte for
byte (comments, blank lines, quoting, indentation). A round-trip through a YAML library would
re-indent and re-wrap files other engineers wrote by hand; these edits only ever add lines, and
callers check that the result still parses and holds what they added."""

from __future__ import annotations

import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from trainer.errors import TrainerError


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


@dataclass(frozen=True)
class Block:
    start: int  # the line of the key
    end: int  # one past the block's last line


def top_level_block(lines: list[str], key: str) -> Block | None:
    """The lines of a top-level key (`nlu:`, `intents:`, `rules:`...) up to the next top-level key."""
    pattern = re.compile(rf"^{re.escape(key)}\s*:\s*(#.*)?$")
    for start, line in enumerate(lines):
        if pattern.match(line):
            end = start + 1
            while end < len(lines):
                candidate = lines[end]
                if _is_content(candidate) and _indent(candidate) == 0 and not candidate.startswith("-"):
                    break
                end += 1
            return Block(start, end)
    return None


def last_content_line(lines: list[str], start: int, end: int) -> int:
    """Index of the last non-blank, non-comment line in [start, end) (start itself if none)."""
    for index in range(end - 1, start, -1):
        if _is_content(lines[index]):
            return index
    return start


def first_item_indent(lines: list[str], block: Block, default: int = 0) -> int:
    for line in lines[block.start + 1 : block.end]:
        if _is_content(line):
            return _indent(line)
    return default


def indent_lines(item: list[str], indent: int) -> list[str]:
    return [(" " * indent + line) if line else "" for line in item]


def append_to_block(text: str, key: str, item: list[str], *, default_indent: int = 0) -> str:
    """Append `item` (lines relative to the item's own indentation) at the end of top-level `key`,
    matching the indentation of its existing entries; add the key at the end if it is missing."""
    lines = text.splitlines()
    block = top_level_block(lines, key)
    if block is None:
        body = lines + ([""] if lines and lines[-1].strip() else []) + [f"{key}:"]
        body += indent_lines(item, default_indent)
        return "\n".join(body) + "\n"
    indent = first_item_indent(lines, block, default_indent)
    at = last_content_line(lines, block.start, block.end) + 1
    lines[at:at] = indent_lines(item, indent)
    return "\n".join(lines) + "\n"


def parse(text: str, *, origin: str) -> Any:  # whatever the YAML holds
    try:
        return YAML(typ="safe", pure=True).load(StringIO(text))
    except YAMLError as error:
        raise TrainerError(f"{origin} would not be valid YAML after this change: {error}") from error


def write_all(changes: dict[Path, str]) -> None:
    """Write several files only after every new text parsed; each file atomically."""
    for path, text in changes.items():
        parse(text, origin=str(path))
    for path, text in changes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.trainer-tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
