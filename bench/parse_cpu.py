"""CPU of one NLU parse (process time, in-process, as /model/parse does it) of several models.

    .venv-bot/bin/python bench/parse_cpu.py models/billing-A.tar.gz /tmp/other.tar.gz

Every development message is parsed once per model (so no parse cache hit), after 30 warm-up messages; the
models take turns on each message, in alternating order, so machine noise falls on all of them alike.
Prints one Markdown row per model: messages, mean / median / p95 milliseconds of CPU.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # config.yml's components (bot.components...) and scripts/

from rasa.core.agent import Agent  # noqa: E402 - after the sys.path line

from bench.nlu_blend import silence_rasa_logging  # noqa: E402 - after the sys.path line
from scripts.nlu_eval import load_cases  # noqa: E402 - after the sys.path line

DEV_SETS = ("tests/nlu/dev/independent_dev.yml", "tests/nlu/dev/test_nlu.yml")
WARM_UP = 30


async def measure(models: list[str]) -> list[list[float]]:
    agents = [Agent.load(model) for model in models]
    texts = [text for path in DEV_SETS for text in sorted({c.text for c in load_cases(REPO_ROOT / path)})]
    for agent in agents:
        for text in texts[:WARM_UP]:
            await agent.parse_message(text)
    cpu_ms: list[list[float]] = [[] for _ in agents]
    for turn, text in enumerate(texts[WARM_UP:]):
        order = list(range(len(agents)))
        for k in order if turn % 2 == 0 else reversed(order):
            started = time.process_time()
            await agents[k].parse_message(text)
            cpu_ms[k].append((time.process_time() - started) * 1000)
    return cpu_ms


def main() -> int:
    models = sys.argv[1:]
    if not models:
        print(__doc__)
        return 2
    silence_rasa_logging()
    print("| model | messages | mean ms | median ms | p95 ms |\n|---|---|---|---|---|")
    for model, values in zip(models, asyncio.run(measure(models)), strict=True):
        p95 = sorted(values)[int(len(values) * 0.95)]
        print(f"| {Path(model).name} | {len(values)} | {statistics.mean(values):.1f} | "
              f"{statistics.median(values):.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
