"""Where the time of one message goes inside Rasa (run by bench/profile_message.py, in .venv-bot).

Loads the model the way `rasa run` does (endpoints from bot/endpoints.yml, so the same tracker store,
lock store and action server), then handles scripted billing conversations one message at a time and
times every graph node (NLU components, policies), the tracker store, the lock and each action call.
Prints one JSON object: {"messages": N, "wall_ms": [...], "parts": {part: total_ms}, ...}; with
PROFILE_ACTIONS_PID set, also the action server's CPU over the measured messages ("actions_cpu_ms", total).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import jwt

# config.yml names the project's components by module path (bot.components...), as `rasa run` finds
# them from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rasa.core import agent as rasa_agent
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.utils import AvailableEndpoints
from rasa.engine.graph import GraphNode

TOTALS: dict[str, float] = defaultdict(float)  # wall ms per part
CPU: dict[str, float] = defaultdict(float)  # CPU ms per part (this process)


def timed_sync(owner: type, attribute: str, label) -> None:
    original = getattr(owner, attribute)

    def wrapper(self, *args, **kwargs):
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            TOTALS[label(self)] += (time.perf_counter() - started) * 1000
            CPU[label(self)] += (time.process_time() - cpu_started) * 1000

    setattr(owner, attribute, wrapper)


def timed_async(owner: type, attribute: str, label) -> None:
    original = getattr(owner, attribute)

    async def wrapper(self, *args, **kwargs):
        # CPU: this process's, while it waits for the action server too (one message at a time, so nothing
        # else runs in it meanwhile): Rasa's own cost of the part, without the other process's
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return await original(self, *args, **kwargs)
        finally:
            TOTALS[label(self, *args, **kwargs)] += (time.perf_counter() - started) * 1000
            CPU[label(self, *args, **kwargs)] += (time.process_time() - cpu_started) * 1000

    setattr(owner, attribute, wrapper)


def instrument() -> None:
    timed_sync(GraphNode, "__call__", lambda node: f"graph: {node._component_class.__name__}")
    timed_async(MessageProcessor, "fetch_tracker_and_update_session", lambda *_, **__: "tracker store: load")
    timed_async(MessageProcessor, "save_tracker", lambda *_, **__: "tracker store: save")
    timed_async(MessageProcessor, "_run_action", action_label)
    # runs inside action_extract_slots after every user message (not through _run_action), when the domain
    # lists it (before issue 20)
    timed_async(ActionExtractSlots, "_execute_validation_action",
                lambda *_, **__: "action server: action_validate_slot_mappings (slot extraction)")
    # a custom slot mapping's own action, also inside action_extract_slots (issue 20: the account check's
    # offer before a greeting); mappings without an action return at once and are not timed
    original = ActionExtractSlots._execute_custom_action

    async def mapping_action(self, mapping, *args, **kwargs):
        if not mapping.get("action"):
            return await original(self, mapping, *args, **kwargs)
        label = f"action server: {mapping['action']} (slot mapping)"
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return await original(self, mapping, *args, **kwargs)
        finally:
            TOTALS[label] += (time.perf_counter() - started) * 1000
            CPU[label] += (time.process_time() - cpu_started) * 1000

    ActionExtractSlots._execute_custom_action = mapping_action


def process_cpu_ms(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far, in ms (0 when there is none)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) * 1000 / tick
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, IndexError, ValueError):
            continue
        pids.extend(int(child) for child in children)
    return total


def signed_in(conversation_id: str, customer_id: int) -> str:
    """The handoff service's identity assertion (handoff/clients/identity_assertion.py)."""
    now = int(time.time())
    claims = {"iss": "billing-handoff", "aud": "billing-actions", "conversation_id": conversation_id,
              "customer_id": customer_id, "iat": now, "exp": now + 300}
    return jwt.encode(claims, os.environ["IDENTITY_ASSERTION_SECRET"], algorithm="HS256")


def action_label(_processor, action=None, *_, **kwargs) -> str:
    action = action or kwargs["action"]
    return (
        "action server: " + action.name() if type(action).__name__ == "RemoteAction" else "built-in actions"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--endpoints", default="bot/endpoints.yml")
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--script", nargs="+", required=True)
    parser.add_argument("--customer-id", type=int, default=1)
    parser.add_argument("--cprofile", help="also write cProfile stats of the measured messages to this file")
    parser.add_argument("--distinct", action="store_true",
                        help="every measured text new (' (n)' appended): no parse from the parse cache")
    parser.add_argument("--parse", nargs="*", default=[],
                        help="also time the NLU parse alone of these texts (a button payload), 20 times each")
    parser.add_argument("--signed-in", action="store_true",
                        help="a signed-in customer (the handoff service's identity assertion), not a visitor")
    args = parser.parse_args()

    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    agent = await rasa_agent.load_agent(model_path=args.model, endpoints=endpoints)
    async def say(text: str, sender_id: str) -> None:
        metadata = {"customer_id": args.customer_id, "conversation_id": sender_id}
        if args.signed_in:  # what the handoff service sends for a signed-in customer (docs/contracts.md)
            metadata["identity"] = signed_in(sender_id, args.customer_id)
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender_id, metadata=metadata))

    # One warm-up conversation: TensorFlow builds its graphs on the first prediction.
    for text in args.script:
        await say(text, "warm-up")
    TOTALS.clear()
    CPU.clear()
    instrument()
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    wall_ms, cpu_ms = [], []
    # the action server's CPU over the measured messages (bench/profile_message.py passes its process id)
    actions_pid = int(os.environ.get("PROFILE_ACTIONS_PID") or 0)
    actions_cpu_started = process_cpu_ms(actions_pid) if actions_pid else 0.0
    for number in range(args.conversations):
        for text in args.script:
            if args.distinct:
                text = f"{text} ({len(wall_ms) + 1})"
            started, cpu_started = time.perf_counter(), time.process_time()
            await say(text, f"profile-{number}")
            wall_ms.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - cpu_started) * 1000)
    actions_cpu = process_cpu_ms(actions_pid) - actions_cpu_started if actions_pid else None
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    parse_ms = {}
    for text in args.parse:
        cpu_started = time.process_time()
        for _ in range(20):
            await agent.parse_message(text)
        parse_ms[text] = (time.process_time() - cpu_started) * 1000 / 20
    print(json.dumps({"messages": len(wall_ms), "wall_ms": wall_ms, "cpu_ms": cpu_ms, "parts": TOTALS,
                      "parts_cpu": CPU, "parse_cpu_ms": parse_ms, "actions_cpu_ms": actions_cpu}))


if __name__ == "__main__":
    asyncio.run(main())
