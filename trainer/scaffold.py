"""`make new-intent NAME=...`: everything a new intent needs, as stubs a trainer fills in.

- bot/data/nlu/taught_intents.yml (or --file): the intent with the trainer's examples (>= 2: Rasa
  must still train and validate, so there are no placeholder examples),
- domain.yml: the intent, and a response `utter_<name>` whose text is a TODO placeholder
  (`python -m trainer check` fails until it is replaced: it must never reach a customer),
- bot/data/rules.yml: a rule intent -> utter_<name>,
- tests/nlu/dev/taught_intents.yml: held-out examples (given, or every 5th example),
- tests/stories/test_taught_intents.yml: a test story for the rule.
Every file is edited as text (comments and layout stay) and written only when all of them parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer.errors import TrainerError
from trainer.nludata import HELD_OUT_DIR, TRAINING_DIR, domain_intents, example_key, load_examples
from trainer.teach import (
    DEFAULT_NEW_INTENT_FILE,
    INTENT_NAME,
    check_written,
    clean_examples,
    insert_examples,
    partition,
)
from trainer.yamltext import (
    append_to_block,
    first_item_indent,
    last_content_line,
    parse,
    top_level_block,
    write_all,
)

PLACEHOLDER = "TODO"
DOMAIN = Path("domain.yml")
RULES = Path("bot/data/rules.yml")
HELD_OUT_FILE = Path("tests/nlu/dev/taught_intents.yml")
TEST_STORIES = Path("tests/stories/test_taught_intents.yml")
MIN_EXAMPLES = 2
HOLD_OUT_EVERY = 5


@dataclass
class ScaffoldResult:
    name: str
    training: list[str]
    held_out: list[str]
    files: dict[str, Path] = field(default_factory=dict)

    def instructions(self) -> str:
        response = f"utter_{self.name}"
        return "\n".join(
            [
                f"Created intent {self.name!r} with {len(self.training)} training and {len(self.held_out)} "
                "held-out examples.",
                "", "Now fill in:",
                f"  1. {self.files['domain']}: replace the {PLACEHOLDER} text of `{response}` with the real "
                "answer",
                "     (or replace the rule's action with a custom action from actions/).",
                f"  2. {self.files['nlu']}: add examples until the intent has 20+ (`python -m trainer teach "
                f'--intent {self.name} "..."`).',
                f"  3. {self.files['held_out']}: 15+ held-out examples, worded differently from the training "
                "ones.",
                f"  4. {self.files['rules']} / {self.files['stories']}: adjust the rule and its test story "
                "if the",
                "     answer needs more than one step.",
                f"  5. docs/contracts.md: add {self.name} to the intent list (it is the contract for actions "
                "and reports).",
                "Then: make validate && make train && make test-nlu && make test-stories",
            ]
        )


def _response_item(name: str) -> list[str]:
    return [
        f"utter_{name}:",
        f"- text: \"{PLACEHOLDER}: write the bot's answer to {name.replace('_', ' ')}\"",
    ]


def _responses_text(text: str, name: str) -> str:
    """Add `utter_<name>` under `responses:` with the layout of the responses already there."""
    lines = text.splitlines()
    block = top_level_block(lines, "responses")
    if block is None:
        return append_to_block(text, "responses", [f"  {line}" for line in _response_item(name)])
    key_indent = first_item_indent(lines, block, 2)
    # Where the response's list items start relative to its key ("  utter_x:\n  - text" or "    - text").
    item_offset = 0
    for index in range(block.start + 1, block.end):
        stripped = lines[index].lstrip(" ")
        if stripped.startswith("- "):
            item_offset = len(lines[index]) - len(stripped) - key_indent
            break
    key, item = _response_item(name)
    at = last_content_line(lines, block.start, block.end) + 1
    lines[at:at] = [" " * key_indent + key, " " * (key_indent + item_offset) + item]
    return "\n".join(lines) + "\n"


def new_intent(
    *,
    repo_root: Path,
    name: str,
    examples: list[str],
    test_examples: list[str] | None = None,
    nlu_file: str | Path | None = None,
) -> ScaffoldResult:
    if not INTENT_NAME.match(name):
        raise TrainerError(
            f"intent names are lower_snake_case, a verb first (e.g. update_payment_method): {name!r}"
        )
    domain_path = repo_root / DOMAIN
    if not domain_path.exists():
        raise TrainerError(f"no {DOMAIN} in {repo_root}")
    trained = load_examples(repo_root / TRAINING_DIR)
    if name in domain_intents(domain_path) or any(e.intent == name for e in trained):
        raise TrainerError(
            f"intent {name!r} already exists; add examples with `python -m trainer teach --intent {name}`"
        )
    domain = parse(domain_path.read_text(encoding="utf-8"), origin=str(domain_path)) or {}
    if f"utter_{name}" in (domain.get("responses") or {}):
        raise TrainerError(f"domain.yml already has a response utter_{name}")

    examples = clean_examples(examples)
    held_out = clean_examples(test_examples or [])
    if not held_out and len(examples) >= MIN_EXAMPLES + 1:
        held_out = examples[HOLD_OUT_EVERY - 1 :: HOLD_OUT_EVERY] or [examples[-1]]
        examples = [e for e in examples if e not in held_out]
    if len(examples) < MIN_EXAMPLES:
        raise TrainerError(
            f"a new intent needs at least {MIN_EXAMPLES} training examples (got {len(examples)}): "
            "pass --example several times, or --from-review with a cluster"
        )
    if not held_out:
        raise TrainerError("give at least one held-out example with --test-example (or 3+ examples to split)")
    overlap = {example_key(e) for e in examples} & {example_key(e) for e in held_out}
    if overlap:
        raise TrainerError(f"held-out examples must differ from the training ones: {sorted(overlap)}")
    new, _ = partition(repo_root=repo_root, intent=name, examples=examples)
    held_new, _ = partition(repo_root=repo_root, intent=name, examples=held_out)
    held_existing = {example_key(e.text) for e in load_examples(repo_root / HELD_OUT_DIR)}
    held_new = [e for e in held_new if example_key(e) not in held_existing]

    nlu_path = repo_root / (nlu_file or DEFAULT_NEW_INTENT_FILE)
    paths = {
        "nlu": nlu_path,
        "domain": domain_path,
        "rules": repo_root / RULES,
        "held_out": repo_root / HELD_OUT_FILE,
        "stories": repo_root / TEST_STORIES,
    }

    def read(path: Path) -> str:
        return path.read_text(encoding="utf-8") if path.exists() else 'version: "3.1"\n'

    nlu_text = insert_examples(read(nlu_path), intent=name, examples=new, origin=str(nlu_path))
    check_written(nlu_text, intent=name, examples=new, origin=str(nlu_path))
    held_text = insert_examples(
        read(paths["held_out"]), intent=name, examples=held_new, origin=str(paths["held_out"])
    )
    check_written(held_text, intent=name, examples=held_new, origin=str(paths["held_out"]))

    domain_text = append_to_block(read(domain_path), "intents", [f"- {name}"], default_indent=2)
    domain_text = _responses_text(domain_text, name)
    rules_text = append_to_block(
        read(paths["rules"]),
        "rules",
        [f"- rule: answer {name}", "  steps:", f"  - intent: {name}", f"  - action: utter_{name}"],
    )
    story_text = append_to_block(
        read(paths["stories"]),
        "stories",
        [
            f"- story: {name} is answered",
            "  steps:",
            "  - user: |",
            f"      {held_out[0]}",
            f"    intent: {name}",
            f"  - action: utter_{name}",
        ],
    )
    changed_domain = parse(domain_text, origin=str(domain_path)) or {}
    intents = [next(iter(i)) if isinstance(i, dict) else i for i in changed_domain.get("intents") or []]
    if name not in intents or f"utter_{name}" not in (changed_domain.get("responses") or {}):
        raise TrainerError(f"could not add {name} to {domain_path} automatically; nothing was written")
    write_all({
        nlu_path: nlu_text,
        paths["held_out"]: held_text,
        domain_path: domain_text,
        paths["rules"]: rules_text,
        paths["stories"]: story_text,
    })
    return ScaffoldResult(
        name=name,
        training=new,
        held_out=held_out,
        files={k: p.relative_to(repo_root) for k, p in paths.items()},
    )
