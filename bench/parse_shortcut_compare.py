"""The parse shortcut changes no parse (bot/components/parse_shortcut.py, issue 20). Run in .venv-bot:

    .venv-bot/bin/python bench/parse_shortcut_compare.py --before MODEL_BEFORE --after MODEL_AFTER

Parses every line of the development sets (tests/nlu/dev) and button payloads with the model before the
shortcut, then twice with the model after it (first parse: every component runs; second: from the parse
cache), and counts the lines whose intent, confidence or entities differ. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rasa.core.agent import Agent, load_agent
from rasa.shared.nlu.training_data.loading import load_data

PAYLOADS = ["/affirm", "/deny", '/inform{"line_item_id": "li_1"}', "/greet", "/no_such_intent"]


def key(parse: dict) -> tuple:
    intent = parse.get("intent") or {}
    entities = [(e.get("entity"), e.get("value"), e.get("start"), e.get("end"))
                for e in parse.get("entities", [])]
    return intent.get("name"), round(float(intent.get("confidence") or 0), 5), tuple(entities)


def dev_texts() -> list[str]:
    return sorted({m.get("text") for path in sorted(Path("tests/nlu/dev").glob("*.yml"))
                   for m in load_data(str(path)).training_examples if m.get("text")})


async def parse_all(agent: Agent, texts: list[str]) -> tuple[list[tuple], float]:
    started, out = time.process_time(), []
    for text in texts:
        out.append(key(await agent.parse_message(text)))
    return out, (time.process_time() - started) * 1000 / len(texts)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    args = parser.parse_args()
    texts = dev_texts() + PAYLOADS
    before_agent = await load_agent(model_path=args.before)
    before, before_ms = await parse_all(before_agent, texts)
    del before_agent
    after_agent = await load_agent(model_path=args.after)
    first, first_ms = await parse_all(after_agent, texts)
    cached, cached_ms = await parse_all(after_agent, texts)
    print(json.dumps({
        "texts": len(texts),
        "differ_before_vs_after_first": [t for t, a, b in zip(texts, before, first, strict=True) if a != b],
        "differ_first_vs_cached": [t for t, a, b in zip(texts, first, cached, strict=True) if a != b],
        "payload_parses_after": dict(zip(PAYLOADS, [str(k) for k in first[-len(PAYLOADS):]], strict=True)),
        "cpu_ms_per_parse": {"before": round(before_ms, 2), "after_first": round(first_ms, 2),
                             "after_cached": round(cached_ms, 2)},
    }))


if __name__ == "__main__":
    asyncio.run(main())
