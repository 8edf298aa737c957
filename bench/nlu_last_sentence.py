"""Would the regression's opinion of a long message's closing question help? Measured on a trained model.

    .venv-bot/bin/python bench/nlu_last_sentence.py models/billing-<hash>.tar.gz [--frozen-for SETTING]

A long story that ends in a plain question ("... a week away, the post piling up. What do I owe?") is
mostly story, so its embedding is too. Per model: parses every message of the
development sets once with the model's own pipeline, keeping DIET's ranking as it reaches MiniLMIntentBlender
and the model's own regression; then for each setting recomputes the blend, the out-of-scope detector and
config.yml's FallbackClassifier (as bench/nlu_blend.py does) with the regression's opinion taken from the
whole message, or for a long message (at least 12, 20 or 30 words and two sentences) mixed with its closing
question (bot/components/minilm_blend.py's closing_question), for the regression alone or for the out-of-scope
detector too. The `whole message` row must equal the `model as trained` row: that checks the emulation.
Settings are chosen on the development sets; the frozen sets are printed for the setting named by --frozen-for
only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "scripts"), str(REPO_ROOT / "bench")]

import numpy as np  # noqa: E402
from nlu_blend import ModelRun, fallback_settings, silence_rasa_logging  # noqa: E402
from nlu_eval import load_cases, score  # noqa: E402

from bot.components.minilm_blend import blend, closing_question  # noqa: E402

SETS = {"dev": ["tests/nlu/dev/test_nlu.yml", "tests/nlu/dev/payments.yml", "tests/nlu/dev/documents.yml"],
        "indep": ["tests/nlu/dev/independent_dev.yml"], "dev-v2": ["tests/nlu/dev/independent_dev_v2.yml"],
        "frozen": ["tests/nlu/frozen"], "frozen-v2": ["tests/nlu/frozen_v2"]}
DEVELOPMENT = ("dev", "indep", "dev-v2")


def parse_with(model: Path, cases: dict[str, list]) -> dict[str, Any]:
    """Every message parsed once; DIET's ranking as the blender got it, the blender and the detector."""
    from rasa.core.agent import Agent

    from bot.components import parse_shortcut

    blender_class = parse_shortcut.GuardedMiniLMIntentBlender
    detector_class = parse_shortcut.GuardedMiniLMOutOfScopeDetector
    blend_process, detect_process = blender_class.process, detector_class.process
    seen: dict[str, Any] = {"diet": {}}

    def keep_diets_ranking(self: Any, messages: list, *rest: Any, **kwargs: Any) -> list:
        seen["blender"] = self
        for message in messages:
            seen["diet"][message.get("text")] = list(message.get("intent_ranking") or [message.get("intent")])
        return blend_process(self, messages, *rest, **kwargs)

    def keep_detector(self: Any, messages: list, *rest: Any, **kwargs: Any) -> list:
        seen["detector"] = self
        return detect_process(self, messages, *rest, **kwargs)

    blender_class.process, detector_class.process = keep_diets_ranking, keep_detector
    try:
        agent = Agent.load(str(model))
        texts = sorted({case.text for group in cases.values() for case in group})

        async def parse_all() -> list[dict]:
            return [await agent.parse_message(text) for text in texts]

        seen["parsed"] = dict(zip(texts, asyncio.run(parse_all()), strict=True))
    finally:
        blender_class.process, detector_class.process = blend_process, detect_process
    seen["vectors"] = dict(zip(texts, seen["detector"].encoder.encode(texts), strict=True))
    return seen


def measure(seen: dict, cases: dict[str, list], share: float | None, min_words: int,
            closing_vectors: dict[str, np.ndarray], detector_too: bool = False) -> dict:
    """share None: the regression reads the whole message; else its opinion of a long message is
    (1 - share) * whole + share * closing question (probabilities); detector_too: the out-of-scope detector
    reads the closing question too."""
    blender = seen["blender"]
    run = ModelRun("", cases, seen["diet"], seen["parsed"], seen["detector"], seen["vectors"],
                   fallback_settings())
    weight = float(blender._config["weight"])
    report = {}
    for name, group in cases.items():
        parses = []
        for case in group:
            vector = seen["vectors"][case.text]
            opinion = blender.regression(vector)
            closing = closing_question(case.text, min_words) if share is not None else None
            if closing is not None:
                last = blender.regression(closing_vectors[closing])
                opinion = {k: (1 - share) * p + share * last[k] for k, p in opinion.items()}
            ranking = blend(seen["diet"][case.text], opinion, weight)
            intent = run.decided(ranking, closing_vectors[closing] if closing and detector_too else vector)
            undo = [{"name": "nlu_fallback", "confidence": 0.0}] if intent == "nlu_fallback" else []
            parses.append({"intent": {"name": intent, "confidence": ranking[0]["confidence"]},
                           "intent_ranking": undo + ranking,
                           "entities": seen["parsed"][case.text].get("entities", [])})
        report[name] = score(group, parses)[0]
    return report


def row(label: str, report: dict, frozen: bool) -> str:
    cells = []
    for name in DEVELOPMENT:
        r = report[name]
        cells += [r["billing_accuracy"], r["out_of_scope_recall"], r["in_scope_wrongly_rejected"],
                  r["action_intents_accuracy"]]
    mean = np.mean([report[n]["billing_accuracy"] for n in DEVELOPMENT]
                   + [report[n]["out_of_scope_recall"] for n in ("indep", "dev-v2")]
                   + [1 - report[n]["in_scope_wrongly_rejected"] for n in DEVELOPMENT])
    cells.append(mean)
    for name in ("frozen", "frozen-v2"):
        r = report[name]
        cells += ([r["billing_accuracy"], r["out_of_scope_recall"], r["in_scope_wrongly_rejected"]]
                  if frozen else [None] * 3)
    return f"| {label} | " + " | ".join("-" if c is None else f"{c:.3f}" for c in cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--frozen-for", action="append", default=["whole message"],
                        help="a setting whose frozen-set numbers are printed (besides the whole message)")
    args = parser.parse_args()
    silence_rasa_logging()
    cases = {name: [c for path in paths for c in load_cases(REPO_ROOT / path)]
             for name, paths in SETS.items()}
    seen = parse_with(args.model, cases)
    closings = sorted({q for group in cases.values() for c in group
                       for q in [closing_question(c.text, 12)] if q is not None})
    closing_vectors = dict(zip(closings, seen["detector"].encoder.encode(closings), strict=True))
    header = [f"{n} {m}" for n in DEVELOPMENT for m in ("billing", "oos", "rejected", "actions")]
    header += ["dev mean", *[f"{n} {m}" for n in ("frozen", "frozen-v2")
                             for m in ("billing", "oos", "rejected")]]
    print("| setting | " + " | ".join(header) + " |")
    print("|---|" + "---|" * len(header))
    as_trained = {n: score(g, [seen["parsed"][c.text] for c in g])[0] for n, g in cases.items()}
    print(row("model as trained", as_trained, "model as trained" in args.frozen_for))
    whole = measure(seen, cases, None, 0, closing_vectors)
    print(row("whole message", whole, "whole message" in args.frozen_for), flush=True)
    for min_words in (12, 20, 30):
        for share, detector_too in ((0.5, False), (1.0, False), (1.0, True)):
            label = (f"closing question, {min_words}+ words, share {share}"
                     + (", detector too" if detector_too else ""))
            report = measure(seen, cases, share, min_words, closing_vectors, detector_too)
            print(row(label, report, label in args.frozen_for), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
