"""`rasa data validate`, strict: every warning fails, except two that are expected by design.

- "The utterance 'utter_x' is not used in any story or rule": allowed only when a custom action under
  actions/ names that response (the actions pick among responses at run time, also by an f-string
  prefix such as f"utter_payment_{status}"), or when it is a form's question `utter_ask_<slot>`.
- "The intent 'EXTERNAL_x' ... not found in the NLU training data": EXTERNAL_ intents are triggered by
  the handoff service through Rasa's API, never typed by customers.

    python scripts/validate_bot.py      (from the repository root; runs .venv-bot/bin/rasa)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
WARNING = re.compile(r"UserWarning: (?P<message>.*)")
UNUSED_UTTERANCE = re.compile(r"The utterance '(?P<name>[^']+)' is not used in any story or rule\.")
EXTERNAL_INTENT = re.compile(r"The intent 'EXTERNAL_[^']+' is listed in the domain file, but is not found")


def responses_named_by_actions() -> tuple[set[str], set[str]]:
    """Full response names, and prefixes of names built with f-strings."""
    names: set[str] = set()
    prefixes: set[str] = set()
    for path in (REPO_ROOT / "actions").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names.update(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", source))
        prefixes.update(re.findall(r"f[\"'](utter_[a-z0-9_]*)\{", source))
    return names, prefixes


def domain_slots() -> set[str]:
    import yaml

    domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return set(domain.get("slots") or {})


def allowed_unused(name: str, names: set[str], prefixes: set[str], slots: set[str]) -> bool:
    if name in names or any(name.startswith(prefix) for prefix in prefixes if prefix):
        return True
    return name.startswith("utter_ask_") and name.removeprefix("utter_ask_") in slots


def unexpected_warnings(output: str, names: set[str], prefixes: set[str], slots: set[str]) -> list[str]:
    problems = []
    for line in ANSI.sub("", output).splitlines():
        match = WARNING.search(line)
        if not match:
            continue
        message = match.group("message").strip()
        unused = UNUSED_UTTERANCE.search(message)
        if unused and allowed_unused(unused.group("name"), names, prefixes, slots):
            continue
        if EXTERNAL_INTENT.search(message):
            continue
        problems.append(message)
    return problems


def main() -> int:
    result = subprocess.run(
        [str(REPO_ROOT / ".venv-bot" / "bin" / "rasa"), "data", "validate", "--config", "config.yml",
         "--domain", "domain.yml", "--data", "bot/data"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    names, prefixes = responses_named_by_actions()
    problems = unexpected_warnings(output, names, prefixes, domain_slots())
    if result.returncode != 0:
        print(output[-4000:], file=sys.stderr)
        print("rasa data validate failed", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"VALIDATION WARNING: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("rasa data validate: clean (responses used only by custom actions are allowed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
