"""The action package as rasa-sdk loads it, checked against domain.yml."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_registered_actions_match_domain_and_open_no_client(domain):
    # a fresh interpreter, as `python -m rasa_sdk --actions actions` would load it
    script = (
        "from rasa_sdk.executor import ActionExecutor\n"
        "import actions.clients.http as http\n"
        "executor = ActionExecutor()\n"
        "executor.register_package('actions')\n"
        "print(sorted(executor.actions))\n"
        "print(http._shared_client is None)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    names_line, no_client_line = result.stdout.strip().splitlines()[-2:]
    registered = set(eval(names_line))  # a printed list of strings
    assert registered == set(domain["actions"])
    assert no_client_line == "True"


def test_every_response_the_actions_utter_exists_in_the_domain(domain):
    # names built from payment statuses, plus every literal response="utter_..." in the code
    used = {
        f"utter_{prefix}_{status}"
        for prefix in ("payment", "last_payment")
        for status in ("pending", "posted", "failed", "reversed")
    }
    for path in (ROOT / "actions").rglob("*.py"):
        used |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text()))
    missing = used - set(domain["responses"])
    assert not missing, missing


def test_rules_and_stories_only_name_known_actions(domain):
    known = (
        set(domain["actions"])
        | set(domain["responses"])
        | set(domain["forms"])
        | {"action_deactivate_loop", "action_listen"}
    )
    for path in [
        ROOT / "bot/data/rules.yml",
        ROOT / "bot/data/stories.yml",
        ROOT / "tests/stories/test_stories.yml",
    ]:
        named = set(re.findall(r"- action: (\S+)", path.read_text()))
        assert named <= known, (path.name, named - known)
