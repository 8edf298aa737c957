"""Run in .venv-bot by tests/bot/test_slot_mappings.py: Rasa's own slot extraction (`action_extract_slots`,
run after every customer message) with the project's domain.yml (issue 20).

    python tests/bot/slot_mapping_check.py

For each case a tracker whose latest message has the given intent goes through Rasa's ActionExtractSlots;
the action server is not running, so every call Rasa makes to it is recorded (answered with no events).
Prints one JSON object: per case, the slots Rasa set and the custom actions it called.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from rasa.core.actions.action import ActionExtractSlots  # noqa: E402 - after the sys.path line
from rasa.core.channels.channel import CollectingOutputChannel  # noqa: E402
from rasa.core.nlg import TemplatedNaturalLanguageGenerator  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

CALLED: list[str] = []


async def _record_call(self: ActionExtractSlots, custom_action: str, *args: Any, **kwargs: Any) -> list:
    CALLED.append(custom_action)
    return []


ActionExtractSlots._run_custom_action = _record_call  # type: ignore[method-assign]

CASES = {
    # name: (intent, account_check_pending before, active form)
    "question while an offer waits": ("ask_due_date", True, None),
    "yes to the offer": ("affirm", True, None),
    "no to the offer": ("deny", True, None),
    "a misunderstood message": ("nlu_fallback", True, None),
    "question, nothing pending": ("check_balance", False, None),
    "greeting": ("greet", False, None),
    "what can you do": ("what_can_you_do", False, None),
    "what can you do, inside a form": ("what_can_you_do", False, "dispute_form"),
    "thanks": ("thank", False, None),
}


async def extract(domain: Domain, intent: str, pending: bool, form: str | None) -> dict[str, Any]:
    events = [
        ActionExecuted("action_listen"),
        SlotSet("identity_verified", True),
        SlotSet("account_check_pending", pending),
    ]
    if form:
        events.append(ActiveLoop(form))
    events.append(UserUttered("text", intent={"name": intent, "confidence": 0.99}))
    tracker = DialogueStateTracker.from_events("conv-1", events, slots=domain.slots)
    CALLED.clear()
    extracted = await ActionExtractSlots(action_endpoint=None).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain
    )
    return {
        "slots": {event.key: event.value for event in extracted if isinstance(event, SlotSet)},
        "called": list(CALLED),
    }


async def main() -> None:
    domain = Domain.load(str(REPO_ROOT / "domain.yml"))
    results = {name: await extract(domain, *case) for name, case in CASES.items()}
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
